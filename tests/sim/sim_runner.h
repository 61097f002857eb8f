// The seed runner shared by the journal simulators (journal_sim, journal_net_sim): the
// command-line flags every simulator takes, running N seeds with the figures and replay
// commands they print, and the planted-bug table.
//
//   <sim> --seeds=N [--first_seed=S] [--events=E] [--nodes=K]   run N seeds, print figures
//   <sim> --seed=S --trace                                      replay one seed, with its trace
//   <sim>_planted --plant=P ...                                 the same with planted bug P
//   <sim>_planted --plant_table [--plants=P,Q] [--max_seeds=M]  seeds per plant until caught
//
// Every run prints one summary line (scripts/sim-soak.sh reads it):
//   <sim>: seeds N (from S), simulated events E, R events/s, acknowledged edits checked A,
//   violations V (T s)[, <simulator's own figures>]
// and for each violating seed a line "VIOLATION seed S (event X): ..." followed by
// "  replay: <the command that replays it> --trace".
#pragma once

#include <gflags/gflags.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

DECLARE_uint64(seeds);
DECLARE_uint64(first_seed);
DECLARE_uint64(seed);
DECLARE_int32(events);
DECLARE_int32(nodes);
DECLARE_bool(trace);
DECLARE_int32(plant);
DECLARE_bool(plant_table);
DECLARE_uint64(max_seeds);
DECLARE_string(plants);

namespace qj::sim {

struct SeedResult {
  int64_t events = 0;         // events run (up to and including the violating one)
  int64_t acked_checked = 0;  // acknowledged edits verified at the end
  // The event (counting from 1) after which the first violation was seen; -1 when it was
  // seen in the final checks, or there was none.
  int64_t first_violation_event = -1;
  std::vector<std::string> violations;
  std::vector<std::string> trace;
};

struct Simulator {
  std::string binary;         // the name of this program: replay commands use it
  int default_events = 1000;  // --events when not given
  // plant_names[p] describes planted bug p; plants 1..size()-1 make the table.
  std::vector<std::string> plant_names;
  bool planted = false;  // built with -DQJ_SIM_PLANTS
  // Puts planted bug p (0: none) in effect for the following runs.
  std::function<void(int plant)> set_plant;
  // Runs one seed with planted bug `plant` in effect (0: none).
  std::function<SeedResult(uint64_t seed, int plant)> run;
  // Figures of its own appended to the summary line, after all seeds ran.
  std::function<std::string()> summary;
};

// Runs the seeds the flags ask for; exit status 0 when nothing was found.
int RunSeeds(const Simulator& sim);
// For each plant (or only --plant), runs seeds until the first violation that the same
// seed does not show without the plant; prints plant, first seed, event, simulated events.
// Exit status 0 when every plant was caught.
int PlantTable(const Simulator& sim);
// Parses the flags and runs RunSeeds or PlantTable.
int Main(int argc, char** argv, const Simulator& sim);

}  // namespace qj::sim
