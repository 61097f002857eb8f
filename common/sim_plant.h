// Planted bugs for the simulator (tests/sim, issue 9). Compiled only into the library
// behind `journal_sim_planted` (built with -DQJ_SIM_PLANTS); in every other build the
// hooks are `#ifdef`ed away and this header declares nothing.
//
// Each value re-introduces one known defect, so that the simulator can prove it finds it.
#pragma once

#ifdef QJ_SIM_PLANTS
namespace qj {

enum SimPlant : int {
  kPlantNone = 0,
  kPlantKeepPaxosOnStart = 1,       // (a) startLogSegment keeps paxos/<t> (issue 8 item 1)
  kPlantEpochBeforeFile = 2,        // (b) last-writer-epoch persisted before the segment file
  kPlantNoHoleAllowance = 3,        // (c) holes of the last unsynced batch are corruption
  kPlantTrustCommitted = 4,         // (d) committed txid from any epoch, unclamped (item 5)
  kPlantAckBeforeSync = 5,          // (e) journal() acknowledges before fdatasync
  kPlantNoDirSyncAfterRename = 6,   // (f) no directory fsync after Finalize / InstallCopy rename
  kPlantServeBeyondCommitted = 7,   // (g) getJournaledEdits serves in-progress edits
  kPlantCommitOnOneAck = 8,         // (h) the model writer commits on one ack (test-side)
  kPlantCount = 9,
};

// The planted bug in effect (one at a time); set by the simulator before a run.
inline int sim_plant = kPlantNone;

inline bool SimPlanted(int p) { return sim_plant == p; }

}  // namespace qj
#endif
