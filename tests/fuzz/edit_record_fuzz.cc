// Record decoding (common/edit_record.h) on arbitrary bytes: DecodeRecord, DecodeAll and
// ValidateRecords must agree with each other and with the encoder, and never read past
// the buffer.
#include <vector>

#include "common/edit_record.h"
#include "tests/fuzz/fuzz_target.h"

QJ_FUZZ_TARGET(edit_record) {
  using qj::DecodeOutcome;
  qj::RecordView view;
  const DecodeOutcome first = qj::DecodeRecord(data, &view);
  if (first == DecodeOutcome::kOk) {
    QJ_FUZZ_CHECK(view.encoded_size == qj::kRecordHeaderSize + view.payload.size() &&
                      view.encoded_size <= data.size(),
                  "decoded record larger than its buffer");
    QJ_FUZZ_CHECK(view.raw() == data.substr(0, view.encoded_size), "raw() is not the prefix");
    std::string again;
    qj::AppendRecord(&again, view.txid, view.op, view.payload);
    QJ_FUZZ_CHECK(again == view.raw(), "re-encoding a decoded record changed its bytes");
  }

  std::vector<qj::EditRecord> records;
  const qj::Status all = qj::DecodeAll(data, &records);
  if (all.ok()) {
    std::string again;
    for (const auto& r : records) qj::AppendRecord(&again, r.txid, r.op, r.payload);
    QJ_FUZZ_CHECK(again == data, "DecodeAll + AppendRecord is not the identity");
    if (!records.empty()) {
      // ValidateRecords accepts exactly dense txids from the first one (counted in
      // unsigned arithmetic here: a txid near INT64_MAX must not overflow the check).
      bool dense = true;
      for (size_t i = 0; i < records.size(); ++i) {
        dense = dense && static_cast<uint64_t>(records[i].txid) ==
                             static_cast<uint64_t>(records[0].txid) + i;
      }
      const qj::Status v =
          qj::ValidateRecords(data, records[0].txid, static_cast<int64_t>(records.size()));
      QJ_FUZZ_CHECK(v.ok() == dense, v.ToString());
    }
  }
}
