#include "tests/sim/journal_model.h"

#include <algorithm>
#include <optional>

#include "common/edit_record.h"
#include "journalnode/client/recovery.h"
#include "journalnode/client/writer_core.h"

namespace qj::sim {

using jn::Journal;
using jn::RequestHeader;

std::string Payload(int64_t epoch, int64_t txid) {
  std::string p = "writer" + std::to_string(epoch) + "-txid" + std::to_string(txid) + ":";
  while (p.size() < 700) p += static_cast<char>('a' + (txid + epoch + p.size()) % 26);
  return p;
}

std::map<int64_t, std::string> SplitRecords(std::string_view data) {
  std::map<int64_t, std::string> out;
  while (!data.empty()) {
    RecordView rec;
    if (DecodeRecord(data, &rec) != DecodeOutcome::kOk) break;
    out[rec.txid] = std::string(data.substr(0, rec.encoded_size));
    data.remove_prefix(rec.encoded_size);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Cluster

jn::JournalOptions Cluster::Options(int i) {
  jn::JournalOptions o;
  o.node_name = Name(i);
  o.journal_id = "ns1";
  o.dir = "/d" + std::to_string(i) + "/ns1";
  o.file_ops = disk[i].get();
  o.peers = &peers;
  o.self_address = Name(i);
  o.preallocate_bytes = 8192;
  o.transfer_chunk_bytes = 3000;
  o.cache_bytes = 1 << 20;
  o.max_batch_bytes = 1 << 20;
  return o;
}

void Cluster::Open(int i) {
  jn[i] = Journal::Open(Options(i));
  peers.Add(Name(i), jn[i].get());
  auto st = jn[i]->GetState();
  if (st.ok() && !st->unavailable_reason.empty() && !damaged[i] && !SyncFailedSinceStart(i)) {
    Violation(Name(i) + " does not serve after a restart: " + st->unavailable_reason);
  }
  if (st.ok() && st->unavailable_reason.empty()) sync_fail_base[i] = disk[i]->failed_syncs();
}

void Cluster::Start() {
  rng.seed(seed);
  disk.resize(nodes);
  jn.resize(nodes);
  next_loss.assign(nodes, loss);
  restart_delay.assign(nodes, 0);
  down_left.assign(nodes, 0);
  down.assign(nodes, false);
  damaged.assign(nodes, false);
  finalized_seen.assign(nodes, {});
  sync_fail_base.assign(nodes, 0);
  for (int i = 0; i < nodes; ++i) {
    disk[i] = std::make_unique<SimDisk>();
    Open(i);
    Status s = jn[i]->Format(jn::testutil::Ns(), false);
    if (!s.ok()) Violation("format " + Name(i) + ": " + s.ToString());
  }
  if (crash_node >= 0) {
    if (crash_step >= 0) disk[crash_node]->CrashAtStep(crash_step);
    if (!crash_match.empty()) disk[crash_node]->CrashAtStepMatching(crash_match);
  }
}

void Cluster::Violation(const std::string& what) {
  violations.push_back(what);
  trace.push_back("  VIOLATION: " + what);
}

void Cluster::Restart(int i) {
  peers.Remove(Name(i));
  jn[i].reset();
  disk[i]->Restart(next_loss[i], &rng);
  ++restarts;
  down[i] = false;
  static const char* const kLoss[] = {"keep all", "lose all", "random", "keep odd pages",
                                      "keep even pages"};
  Trace("  restart " + Name(i) + " (unsynced writes: " + kLoss[static_cast<int>(next_loss[i])] +
        ")");
  Open(i);
}

void Cluster::RestartCrashed() {
  for (int i = 0; i < nodes; ++i) {
    if (disk[i]->crashed()) Restart(i);
  }
}

void Cluster::Settle() {
  for (int i = 0; i < nodes; ++i) {
    if (!disk[i]->crashed()) continue;
    if (!down[i]) {
      down[i] = true;
      down_left[i] = restart_delay[i];
      const auto h = disk[i]->history();
      Trace("  " + Name(i) + " crashed (" + (h.empty() ? std::string("?") : h.back()) + ")" +
            (down_left[i] > 0 ? ", down for " + std::to_string(down_left[i]) + " events" : ""));
    }
    if (down_left[i]-- <= 0) Restart(i);
  }
}

void Cluster::SetTruth(int64_t txid, const std::string& rec, const std::string& why) {
  auto [it, fresh] = truth.emplace(txid, rec);
  if (!fresh && it->second != rec) {
    RecordView a, b;
    (void)DecodeRecord(it->second, &a);
    (void)DecodeRecord(rec, &b);
    Violation("txid " + std::to_string(txid) + " was committed as '" +
              std::string(a.payload.substr(0, 20)) + "' but " + why + " has '" +
              std::string(b.payload.substr(0, 20)) + "'");
  }
}

void Cluster::CheckReaders(std::set<int64_t>* covered) {
  for (int i = 0; i < nodes; ++i) {
    if (!Up(i)) continue;
    int64_t since = 1;
    while (true) {
      auto r = jn[i]->GetJournaledEdits(since, 1000);
      if (!r.ok()) {
        auto st = jn[i]->GetState();
        if (st.ok() && !st->unavailable_reason.empty() && !disk[i]->crashed() && !damaged[i] &&
            !SyncFailedSinceStart(i)) {
          Violation(Name(i) + " stopped: " + st->unavailable_reason);
        }
        break;
      }
      if (r->num_txns == 0) break;
      for (const auto& [txid, rec] : SplitRecords(r->records)) {
        auto it = truth.find(txid);
        if (it == truth.end() && Unverified(txid)) {
          continue;
        } else if (it == truth.end()) {
          Violation(Name(i) + " served txid " + std::to_string(txid) +
                    ", which was never committed");
        } else if (it->second != rec) {
          Violation(Name(i) + " served a divergent txid " + std::to_string(txid));
        } else if (covered != nullptr) {
          covered->insert(txid);
        }
      }
      since += r->num_txns;
    }
  }
}

void Cluster::CheckFinalizedDurable() {
  for (int i = 0; i < nodes; ++i) {
    if (!Up(i)) continue;
    auto st = jn[i]->GetState();
    if (!st.ok() || !st->unavailable_reason.empty()) continue;
    std::set<std::pair<int64_t, int64_t>> now;
    for (const auto& s : st->segments) {
      if (!s.in_progress) now.emplace(s.start_txid, s.end_txid);
    }
    for (const auto& f : finalized_seen[i]) {
      if (now.count(f) == 0) {
        Violation(Name(i) + " lost finalized segment [" + std::to_string(f.first) + ", " +
                  std::to_string(f.second) + "] it had reported");
      }
    }
    finalized_seen[i].insert(now.begin(), now.end());
  }
}

jn::WriterReply Cluster::Execute(int i, const jn::WriterRequest& q, int64_t serial) {
  using jn::WriterCall;
  jn::Journal* j = jn[i].get();
  const jn::RequestHeader h{"ns1", q.header.epoch, serial, q.header.committed_txid};
  jn::WriterReply r;
  switch (q.call) {
    case WriterCall::kGetJournalState: {
      auto st = j->GetState();
      if (!st.ok()) {
        r.status = st.status();
      } else if (!st->unavailable_reason.empty()) {
        r.status = Status::Unavailable(st->unavailable_reason);
      } else if (!st->formatted) {
        r.status = Status::NotFormatted("jn" + std::to_string(i) + ": not formatted");
      } else {
        r.state = *st;
      }
      break;
    }
    case WriterCall::kNewEpoch: {
      auto x = j->NewEpoch(jn::testutil::Ns(), q.epoch);
      r.status = x.status();
      if (x.ok()) r.newest_segment = *x;
      break;
    }
    case WriterCall::kPrepareRecovery: {
      auto x = j->PrepareRecovery(h, q.segment_txid);
      r.status = x.status();
      if (x.ok()) r.prepare = *x;
      break;
    }
    case WriterCall::kAcceptRecovery: {
      r.status = j->AcceptRecovery(h, q.segment, Cluster::Name(q.from_node), q.origin_epoch);
      break;
    }
    case WriterCall::kFinalizeLogSegment:
      r.status = j->FinalizeLogSegment(h, q.segment_txid, q.last_txid);
      break;
    case WriterCall::kStartLogSegment:
      r.status = j->StartLogSegment(h, q.segment_txid, q.layout_version);
      break;
    case WriterCall::kJournal:
      r.status = j->JournalEdits(h, q.segment_txid, q.first_txid,
                                 static_cast<int32_t>(q.last_txid - q.first_txid + 1), *q.records);
      break;
    case WriterCall::kHeartbeat:
      r.status = j->Heartbeat(h);
      break;
  }
  if (r.status.IsOutOfSync()) r.expected_txid = j->NextExpectedTxId();
  return r;
}

std::string Cluster::Describe() const {
  std::string out;
  for (const auto& v : violations) out += "  VIOLATION: " + v + "\n";
  out += "  timeline:\n";
  for (const auto& t : trace) out += "    " + t + "\n";
  return out;
}

// ---------------------------------------------------------------------------------------
// Writer

bool Writer::Reaches(int i) const {
  return std::find(reach_.begin(), reach_.end(), i) != reach_.end();
}

bool Writer::Die(const std::string& why) {
  if (alive_) run_->Trace("  writer " + std::to_string(epoch_) + " dies: " + why);
  if (alive_) death_ = why;
  alive_ = false;
  return false;
}

bool Writer::Become(const std::vector<int>& accept_only) {
  const int majority = Need();
  int64_t max_promised = 0, known_committed = -1;
  int ok = 0;
  std::string err;
  for (int i : reach_) {
    if (!Can(i)) continue;
    auto st = J(i)->GetState();
    if (!st.ok() || !st->unavailable_reason.empty()) continue;
    ++ok;
    max_promised = std::max(max_promised, st->promised_epoch);
    known_committed = std::max(known_committed, st->committed_txid);
  }
  if (ok < majority) return Die("getJournalState: no majority");
  epoch_ = max_promised + 1;
  int64_t newest = -1;
  ok = 0;
  for (int i : reach_) {
    if (!Can(i)) continue;
    auto r = J(i)->NewEpoch(jn::testutil::Ns(), epoch_);
    if (!r.ok()) {
      err += (err.empty() ? "" : "; ") + Cluster::Name(i) + ": " + r.status().ToString();
      continue;
    }
    ++ok;
    newest = std::max(newest, *r);
  }
  if (ok < majority) return Die("newEpoch: no majority (" + err + ")");
  if (!run_->epochs_won.insert(epoch_).second) {
    run_->Violation("two writers won epoch " + std::to_string(epoch_));
  }
  last_txid_ = 0;
  if (newest >= 0) {
    std::vector<std::optional<jn::PrepareResult>> answers(run_->nodes);
    ok = 0;
    const RequestHeader h = Hdr(known_committed);
    for (int i : reach_) {
      if (!Can(i)) continue;
      auto r = J(i)->PrepareRecovery(h, newest);
      if (!r.ok()) {
        err += (err.empty() ? "" : "; ") + Cluster::Name(i) + ": " + r.status().ToString();
        continue;
      }
      ++ok;
      answers[i] = *r;
    }
    if (ok < majority) return Die("prepareRecovery: no majority (" + err + ")");
    auto choice = jn::ChooseRecovery(newest, answers, known_committed);
    if (!choice.ok()) {
      run_->Violation("recovery refused (wedged): " + choice.status().ToString());
      return Die("recovery refused");
    }
    last_txid_ = choice->end_txid;
    if (choice->node >= 0) {
      const jn::SegmentState& seg = choice->segment;
      ok = 0;
      std::vector<int> accepted;
      const std::vector<int>& to = accept_only.empty() ? reach_ : accept_only;
      for (int i : to) {
        if (!run_->Up(i)) continue;
        const int64_t origin = answers[choice->node]->origin_epoch;
        Status a =
            J(i)->AcceptRecovery(Hdr(known_committed), seg, Cluster::Name(choice->node), origin);
        if (a.ok()) {
          ++ok;
          accepted.push_back(i);
        } else {
          err = Cluster::Name(i) + ": " + a.ToString();
        }
      }
      if (ok >= run_->majority()) {
        // Accepted by a majority: the value is chosen, its edits committed (a later
        // recovery must find them). Read the bytes back from a node that holds the copy.
        std::optional<std::string> data;
        Status why;
        for (int i : accepted) {
          if (!run_->Up(i)) continue;
          auto chunk = J(i)->GetSegmentChunk(seg.start_txid, seg.end_txid, 0, 64 << 20);
          if (chunk.ok() && chunk->eof) {
            data = chunk->data;
            break;
          }
          if (!run_->damaged[i]) why = chunk.ok() ? Status::IOError("short chunk") : chunk.status();
        }
        if (!data) {
          if (!why.ok()) {
            run_->Violation("cannot read the accepted segment back: " + why.ToString());
          }
          return Die("read back");
        }
        for (const auto& [txid, rec] : SplitRecords(*data)) {
          run_->SetTruth(txid, rec, "recovery in epoch " + std::to_string(epoch_));
        }
      }
      // The accept reached only a subset on purpose: the writer dies mid-recovery.
      if (!accept_only.empty()) return Die("acceptRecovery sent to a subset only");
      if (ok < majority) return Die("acceptRecovery: no majority (" + err + ")");
      ok = 0;
      for (int i : reach_) {
        if (!Can(i)) continue;
        Status f = J(i)->FinalizeLogSegment(Hdr(last_txid_), seg.start_txid, seg.end_txid);
        if (f.ok()) {
          ++ok;
        } else {
          err = Cluster::Name(i) + ": " + f.ToString();
        }
      }
      if (ok < majority) return Die("finalize after recovery: no majority (" + err + ")");
    }
  }
  const int64_t acked = run_->truth.empty() ? 0 : run_->truth.rbegin()->first;
  if (last_txid_ < acked) {
    run_->Violation("writer " + std::to_string(epoch_) + " recovered a log ending at " +
                    std::to_string(last_txid_) + ", below acknowledged txid " +
                    std::to_string(acked));
  }
  committed_ = last_txid_;
  segment_ = -1;
  return true;
}

bool Writer::StartSegment() {
  if (!alive_) return false;
  const int64_t t = last_txid_ + 1;
  pipeline_.clear();
  acked_.clear();
  std::string err;
  for (int i : reach_) {
    if (!Can(i)) continue;
    Status s = J(i)->StartLogSegment(Hdr(committed_), t, 1);
    if (s.ok()) {
      pipeline_.insert(i);
      acked_[i] = t - 1;
    } else {
      err = Cluster::Name(i) + ": " + s.ToString();
    }
  }
  if (static_cast<int>(pipeline_.size()) < Need()) {
    return Die("startLogSegment: no majority (" + err + ")");
  }
  segment_ = t;
  return true;
}

bool Writer::Write(int n, const std::vector<int>& to) {
  if (!alive_ || segment_ < 0) return false;
  const int64_t first = last_txid_ + 1;
  std::string recs;
  for (int64_t t = first; t < first + n; ++t) {
    std::string one;
    AppendRecord(&one, t, 3, Payload(epoch_, t));
    mine_[t] = one;
    recs += one;
  }
  last_txid_ += n;
  for (int i : to) {
    if (pipeline_.count(i) == 0 || !Can(i)) continue;
    if (J(i)->JournalEdits(Hdr(committed_), segment_, first, n, recs).ok()) {
      acked_[i] = last_txid_;
    } else {
      pipeline_.erase(i);
    }
  }
  std::vector<int64_t> ends;
  for (const auto& [i, e] : acked_) ends.push_back(e);
  std::sort(ends.rbegin(), ends.rend());
  const int need = run_->commit_acks();
  if (static_cast<int>(ends.size()) >= need && ends[need - 1] > committed_) {
    for (int64_t t = committed_ + 1; t <= ends[need - 1]; ++t) {
      run_->SetTruth(t, mine_[t], "writer " + std::to_string(epoch_));
    }
    committed_ = ends[need - 1];
  }
  if (static_cast<int>(pipeline_.size()) < Need()) {
    return Die("journal: no majority");
  }
  return true;
}

void Writer::Heartbeat() {
  if (!alive_) return;
  for (int i : reach_) {
    if (Can(i)) (void)J(i)->Heartbeat(Hdr(committed_));
  }
}

bool Writer::Finalize() {
  if (!alive_ || segment_ < 0 || committed_ != last_txid_ || last_txid_ < segment_) return false;
  int ok = 0;
  for (int i : reach_) {
    if (!Can(i)) continue;
    if (J(i)->FinalizeLogSegment(Hdr(committed_), segment_, last_txid_).ok()) ++ok;
  }
  if (ok < Need()) return Die("finalize: no majority");
  segment_ = -1;
  return true;
}

}  // namespace qj::sim
