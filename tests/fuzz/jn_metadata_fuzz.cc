// A journal's directory written from the input, then loaded (journalnode/journal.h): the
// metadata readers (VERSION, last-promised-epoch, last-writer-epoch, committed-txid,
// paxos/<txid>) and the start-up scan of whatever segment files are there. The input is a
// sequence of (u8 kind, ...) entries:
//   kind % 8 = 0..3: VERSION, last-promised-epoch, last-writer-epoch, committed-txid,
//                    followed by a u16-length-prefixed content;
//              4, 5: paxos/1, edits_inprogress_<1, 19 digits>, then the content;
//              6, 7: a file in current/ (6) or in current/paxos/ (7) named by the next
//                    u16-prefixed string (cut at the first '/'), then the content.
// A load must end serving or Unavailable with the reason — never crash — and a serving
// journal must answer its readers and a recovery round over what it loaded.
#include <limits>
#include <string>

#include "journalnode/journal.h"
#include "journalnode/segment.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

std::string FileName(std::string_view raw) {
  std::string name(raw.substr(0, raw.find('/')));
  if (name.find('\0') != std::string::npos) name.resize(name.find('\0'));
  if (name.size() > 200) name.resize(200);  // NAME_MAX is 255
  if (name.empty() || name == "." || name == "..") name = "x";
  return name;
}

}  // namespace

QJ_FUZZ_TARGET(jn_metadata) {
  const std::string dir = qj::fuzz::ScratchDir() + "/jn_metadata";
  qj::fuzz::ResetDir(dir + "/current/paxos");
  const std::string cur = dir + "/current/";
  qj::fuzz::Input in(data);
  for (int i = 0; i < 32 && !in.empty(); ++i) {
    const int kind = in.U8() % 8;
    std::string path;
    switch (kind) {
      case 0:
        path = cur + "VERSION";
        break;
      case 1:
        path = cur + "last-promised-epoch";
        break;
      case 2:
        path = cur + "last-writer-epoch";
        break;
      case 3:
        path = cur + "committed-txid";
        break;
      case 4:
        path = cur + "paxos/1";
        break;
      case 5:
        path = cur + qj::jn::InProgressName(1);
        break;
      case 6:
        path = cur + FileName(in.Blob());
        break;
      default:
        path = cur + "paxos/" + FileName(in.Blob());
        break;
    }
    if (path == cur + "paxos") continue;  // the directory itself
    qj::fuzz::WriteFileOrDie(path, in.Blob());
  }

  qj::jn::JournalOptions opts;
  opts.node_name = "fz";
  opts.journal_id = "j";
  opts.dir = dir;
  opts.preallocate_bytes = 4096;
  auto journal = qj::jn::Journal::Open(opts);
  QJ_FUZZ_CHECK(journal != nullptr, "Open returned null");
  auto state = journal->GetState();
  if (!state.ok()) {  // not formatted, or stopped by what it loaded: the reason is given
    QJ_FUZZ_CHECK(state.status().code() == qj::StatusCode::kNotFormatted ||
                      state.status().code() == qj::StatusCode::kUnavailable,
                  state.status().ToString());
    return;
  }
  if (!state->unavailable_reason.empty() || !state->formatted) return;

  auto manifest = journal->GetEditLogManifest(0, true);
  QJ_FUZZ_CHECK(manifest.ok(), manifest.status().ToString());
  for (const auto& seg : state->segments) {
    QJ_FUZZ_CHECK(seg.end_txid >= seg.start_txid - 1, "segment ends before it starts");
    auto chunk = journal->GetSegmentChunk(seg.start_txid, seg.end_txid, 0, 1 << 16);
    if (chunk.ok()) {
      QJ_FUZZ_CHECK(chunk->data.size() <= (1u << 16), "chunk above max_bytes");
    }
  }
  if (!state->segments.empty()) {
    auto edits = journal->GetJournaledEdits(state->segments.front().start_txid, 100);
    if (edits.ok()) {
      QJ_FUZZ_CHECK(edits->records.size() <= opts.max_read_bytes + qj::kMaxPayloadSize + 20,
                    "read above its bound");
    }
  }
  // A recovery round in a new epoch: reads paxos/<txid> of every segment.
  if (state->promised_epoch < std::numeric_limits<int64_t>::max() && state->ns) {
    const int64_t epoch = state->promised_epoch + 1;
    auto newest = journal->NewEpoch(*state->ns, epoch);
    if (!newest.ok()) return;
    qj::jn::RequestHeader h;
    h.journal_id = "j";
    h.epoch = epoch;
    h.serial = 1;
    for (const auto& seg : state->segments) {
      auto prep = journal->PrepareRecovery(h, seg.start_txid);
      (void)prep;
      ++h.serial;
    }
    auto prep = journal->PrepareRecovery(h, 1);
    (void)prep;
  }
}
