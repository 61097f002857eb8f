// Planted bugs for the simulator (tests/sim). Only the library behind
// `journal_sim_planted` is compiled with -DQJ_SIM_PLANTS; everywhere else the hooks below
// expand to the production expression (or to nothing), so production objects are
// byte-for-byte what they were without them. Hooks sit on existing source lines (no line
// is added before a LOG), so even the __LINE__ values glog embeds do not move.
//
// Each value re-introduces one known defect, so that the simulator can prove it finds it.
#pragma once

#ifdef QJ_SIM_PLANTS
namespace qj {

enum SimPlant : int {
  kPlantNone = 0,
  kKeepPaxos = 1,  // (a) startLogSegment keeps paxos/<t> (a crash between two of its steps served a
                   // stale proposal)
  kEpochFirst = 2,        // (b) last-writer-epoch persisted before the segment file (item 2)
  kNoHoles = 3,           // (c) holes in the last unsynced batch are corruption (item 3)
  kTrustCommitted = 4,    // (d) committed txid from any epoch, unclamped (item 5)
  kNoDataSync = 5,        // (e) journal() acknowledges before fdatasync
  kNoDirSync = 6,         // (f) no directory fsync after the rename in Finalize / InstallCopy
  kServeUncommitted = 7,  // (g) getJournaledEdits serves in-progress edits past committed
  kOneAck = 8,            // (h) commit on one ack (WriterCore::AdvanceCommit)
  kLeaseNoDrift = 9,      // (i) lease deadline computed without the drift term
  kNoPendingLease = 10,   // (j) no pending lease deadline during transitionToActive
};

// The planted bug in effect (one at a time); set by the simulator before a run.
inline int sim_plant = kPlantNone;

}  // namespace qj

#define QJ_PLANTED(p) (::qj::sim_plant == ::qj::p)
#define QJ_PLANT_DO(expr) (expr),
#define QJ_PLANT_OR(planted, normal) (planted)
#else
// Production: no plant is ever in effect.
#define QJ_PLANTED(p) false
#define QJ_PLANT_DO(expr)
#define QJ_PLANT_OR(planted, normal) normal
#endif
