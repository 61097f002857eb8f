// The simulators' seed runner. Contract in sim_runner.h.
#include "tests/sim/sim_runner.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

DEFINE_uint64(seeds, 100, "number of seeds to run");
DEFINE_uint64(first_seed, 1, "first seed");
DEFINE_uint64(seed, 0, "run only this seed (implies --seeds=1)");
DEFINE_int32(events, 0, "simulated events per seed before the faults stop (0: the default)");
DEFINE_int32(nodes, 0, "journalnodes per cluster (0: 3 or 5, drawn from the seed)");
DEFINE_bool(trace, false, "print every seed's trace of events");
DEFINE_int32(plant, 0, "planted bug (the _planted build only)");
DEFINE_bool(plant_table, false,
            "the _planted build: for each plant, run seeds until the first violation");
DEFINE_uint64(max_seeds, 10000, "--plant_table: give up on a plant after this many seeds");
DEFINE_string(plants, "", "--plant_table: only these plants (comma-separated numbers)");

namespace qj::sim {

namespace {

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string ReplayCommand(const Simulator& sim, uint64_t seed, int plant) {
  std::string c =
      sim.binary + " --seed=" + std::to_string(seed) + " --events=" + std::to_string(FLAGS_events);
  if (FLAGS_nodes > 0) c += " --nodes=" + std::to_string(FLAGS_nodes);
  if (plant > 0) c += " --plant=" + std::to_string(plant);
  return c + " --trace";
}

std::string At(const SeedResult& r) {
  return r.first_violation_event < 0 ? "end" : std::to_string(r.first_violation_event);
}

}  // namespace

int RunSeeds(const Simulator& sim) {
  uint64_t first = FLAGS_first_seed, count = FLAGS_seeds;
  if (FLAGS_seed != 0) first = FLAGS_seed, count = 1;
  if (FLAGS_plant != 0 && !sim.planted) {
    std::fprintf(stderr, "--plant needs %s_planted\n", sim.binary.c_str());
    return 2;
  }
  if (FLAGS_plant < 0 || FLAGS_plant >= static_cast<int>(sim.plant_names.size())) {
    std::fprintf(stderr, "--plant=%d: no such planted bug (1..%zu)\n", FLAGS_plant,
                 sim.plant_names.size() - 1);
    return 2;
  }
  sim.set_plant(FLAGS_plant);
  const auto t0 = std::chrono::steady_clock::now();
  int64_t events = 0, acked = 0, violating = 0;
  for (uint64_t s = first; s < first + count; ++s) {
    SeedResult r = sim.run(s, FLAGS_plant);
    events += r.events;
    acked += r.acked_checked;
    if (FLAGS_trace) {
      for (const auto& t : r.trace) std::printf("%s\n", t.c_str());
    }
    if (!r.violations.empty()) {
      ++violating;
      std::printf("VIOLATION seed %" PRIu64 " (event %s): %s\n  replay: %s\n", s, At(r).c_str(),
                  r.violations[0].c_str(), ReplayCommand(sim, s, FLAGS_plant).c_str());
      std::fflush(stdout);
    }
  }
  const double secs = Since(t0);
  std::printf("%s: seeds %" PRIu64 " (from %" PRIu64 "), simulated events %" PRId64
              ", %.0f events/s, acknowledged edits checked %" PRId64 ", violations %" PRId64
              " (%.1f s)%s\n",
              sim.binary.c_str(), count, first, events, events / std::max(secs, 1e-9), acked,
              violating, secs, sim.summary ? sim.summary().c_str() : "");
  return violating == 0 ? 0 : 1;
}

int PlantTable(const Simulator& sim) {
  if (!sim.planted) {
    std::printf("--plant_table needs %s_planted\n", sim.binary.c_str());
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const int plants = static_cast<int>(sim.plant_names.size()) - 1;
  std::set<int> only;
  if (FLAGS_plant > 0) only.insert(FLAGS_plant);
  std::stringstream list(FLAGS_plants);
  for (std::string item; std::getline(list, item, ',');) {
    char* end = nullptr;
    const long p = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || p < 1 || p > plants) {
      std::fprintf(stderr, "--plants=%s: '%s' is not a plant number 1..%d\n", FLAGS_plants.c_str(),
                   item.c_str(), plants);
      return 2;
    }
    only.insert(static_cast<int>(p));
  }
  int missed = 0, tried = 0, baseline_hits = 0;
  // event: the event after which the violation was seen ("end": the final liveness and
  // survival checks); sim events: all events simulated for this plant up to and
  // including the catching seed.
  std::printf("%-50s %10s %8s %12s  %s\n", "planted bug", "first seed", "event", "sim events",
              "first violation");
  for (int p = 1; p <= plants; ++p) {
    if (!only.empty() && only.count(p) == 0) continue;
    ++tried;
    sim.set_plant(p);
    int64_t events = 0;
    bool caught = false;
    for (uint64_t s = FLAGS_first_seed; s < FLAGS_first_seed + FLAGS_max_seeds; ++s) {
      SeedResult r = sim.run(s, p);
      events += r.events;
      if (r.violations.empty()) continue;
      // Caught only if the same seed finds nothing with no bug planted.
      sim.set_plant(0);
      const bool baseline_clean = sim.run(s, 0).violations.empty();
      sim.set_plant(p);
      if (!baseline_clean) {
        ++baseline_hits;
        continue;
      }
      std::printf("%-50s %10" PRIu64 " %8s %12" PRId64 "  %s\n", sim.plant_names[p].c_str(), s,
                  At(r).c_str(), events, r.violations[0].substr(0, 150).c_str());
      caught = true;
      break;
    }
    if (!caught) {
      ++missed;
      std::printf("%-50s %10s %8s %12" PRId64 "  NOT CAUGHT in %" PRIu64 " seeds\n",
                  sim.plant_names[p].c_str(), "-", "-", events, FLAGS_max_seeds);
    }
    std::fflush(stdout);
  }
  sim.set_plant(0);
  std::printf(
      "planted bugs: %d of %d caught (%.1f s); %d seeds skipped (they fail without the plant "
      "too); replay one with: %s --plant=P --seed=S --events=%d --trace\n",
      tried - missed, tried, Since(t0), baseline_hits, sim.binary.c_str(), FLAGS_events);
  return missed == 0 ? 0 : 1;
}

int Main(int argc, char** argv, const Simulator& sim) {
  gflags::SetUsageMessage(sim.binary +
                          " --seeds=N [--first_seed=S] [--events=E] | --seed=S --trace");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_minloglevel = 3;  // thousands of crashes: keep glog quiet
  google::InitGoogleLogging(argv[0]);
  if (FLAGS_events <= 0) FLAGS_events = sim.default_events;
  if (FLAGS_plant_table) return PlantTable(sim);
  return RunSeeds(sim);
}

}  // namespace qj::sim
