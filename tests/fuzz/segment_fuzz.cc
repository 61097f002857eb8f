// The segment reader and verifier (journalnode/segment.h) over a file holding the input:
// as an in-progress segment (with and without the power-loss hole rule) and as a
// finalized one, plus the streaming reader on its own. Whatever the bytes, the outcome is
// records, an end, a torn tail or Corruption — and never more data than the file holds.
#include <optional>

#include "common/file_ops.h"
#include "journalnode/segment.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

// The txid the segment is named for: the first record's, when one decodes (so that the
// seed segments are read as what they are) if it can name a segment, else 1.
int64_t StartTxid(std::string_view data) {
  qj::RecordView r;
  if (qj::DecodeRecord(data, &r) == qj::DecodeOutcome::kOk && r.txid >= 1) return r.txid;
  return 1;
}

}  // namespace

QJ_FUZZ_TARGET(segment) {
  using qj::jn::SegmentReader;
  qj::FileOps* ops = qj::FileOps::Posix();
  const std::string path = qj::fuzz::ScratchDir() + "/segment";
  qj::fuzz::WriteFileOrDie(path, data);
  const int64_t start = StartTxid(data);

  // The streaming reader: offsets only move forward and stay inside the file.
  {
    auto file = ops->Open(path, qj::FileOps::Mode::kRead);
    QJ_FUZZ_CHECK(file.ok(), file.status().ToString());
    SegmentReader reader(file->get(), data.size());
    reader.AllowHoles(8192);
    uint64_t last = 0;
    for (int i = 0; i < 100000; ++i) {
      qj::RecordView rec;
      std::string detail;
      auto step = reader.Next(&rec, &detail);
      QJ_FUZZ_CHECK(step.ok(), step.status().ToString());
      QJ_FUZZ_CHECK(reader.offset() <= data.size() && reader.offset() >= last,
                    "reader offset went backwards or past the end");
      if (*step != SegmentReader::Step::kRecord) break;
      QJ_FUZZ_CHECK(rec.raw() == data.substr(reader.offset() - rec.encoded_size, rec.encoded_size),
                    "record bytes differ from the file's");
      last = reader.offset();
    }
  }

  for (uint64_t holes : {uint64_t{0}, uint64_t{8192}}) {
    auto scan = qj::jn::ScanSegment(ops, path, start, std::nullopt, true, holes);
    if (!scan.ok()) {
      QJ_FUZZ_CHECK(scan.status().IsCorruption(), scan.status().ToString());
      continue;
    }
    QJ_FUZZ_CHECK(scan->data_length <= data.size() && scan->file_size == data.size(),
                  "scan claims more data than the file holds");
    QJ_FUZZ_CHECK(scan->end_txid >= start - 1, "end before start");
    // The verified prefix is whole, dense records.
    const int64_t count = scan->end_txid - start + 1;
    qj::Status v = qj::ValidateRecords(data.substr(0, scan->data_length), start, count);
    QJ_FUZZ_CHECK(v.ok(), v.ToString());
    // ...and, cut to its data, it is a valid finalized segment of that range.
    if (holes == 0 && count > 0) {
      const std::string fin = qj::fuzz::ScratchDir() + "/finalized";
      qj::fuzz::WriteFileOrDie(fin, data.substr(0, scan->data_length));
      auto f = qj::jn::ScanSegment(ops, fin, start, scan->end_txid, false);
      QJ_FUZZ_CHECK(f.ok() && f->end_txid == scan->end_txid && !f->torn_tail,
                    f.ok() ? "finalized scan differs" : f.status().ToString());
    }
  }
  auto fin = qj::jn::ScanSegment(ops, path, start, std::nullopt, false);
  QJ_FUZZ_CHECK(fin.ok() || fin.status().IsCorruption(), fin.status().ToString());

  qj::jn::ParseSegmentName(std::string(data.substr(0, 256)));
}
