// DaemonWeb: what every daemon serves over HTTP, in one object.
//   /         the status page (HTML, reloads itself, charts of the last minutes)
//   /status   the same report as JSON
//   /metrics  the registry in Prometheus text format
// A sampler thread ("web-sampler") records (count, level) every sample interval into a
// ring, from which the page draws a rate chart and a level chart: for a journalnode the
// committed txid and its lag, for a namenode the last txid and the quorum lag, ...
//
// Lifetime: construct, add metrics to registry(), Start(); Stop() (or the destructor)
// stops the sampler and the server before the daemon's own objects go away: the report
// and sample functions read them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "common/clock.h"
#include "common/http_server.h"
#include "common/metrics.h"
#include "common/mutex.h"
#include "common/status_page.h"

namespace qj {

struct DaemonWebOptions {
  HttpServerOptions http;
  int64_t sample_interval_ms = 1000;
  size_t samples = 300;  // 5 minutes at one per second
  std::string rate_title = "commit rate (edits/s)";
  std::string level_title = "lag (edits)";
  Clock* clock = RealClock::Get();
};

class DaemonWeb {
 public:
  using ReportFn = std::function<StatusReport()>;
  // A cumulative count (its rate is charted) and a level, read each sample interval.
  using SampleFn = std::function<std::pair<double, double>()>;

  DaemonWeb(DaemonWebOptions opts, ReportFn report, SampleFn sample);
  ~DaemonWeb();
  DaemonWeb(const DaemonWeb&) = delete;
  DaemonWeb& operator=(const DaemonWeb&) = delete;

  metrics::Registry* registry() { return &registry_; }
  // Binds (IOError naming the address if it cannot) and starts the sampler.
  Status Start();
  int port() const { return server_.port(); }
  void Stop();

 private:
  StatusReport FullReport() const;
  void SampleLoop();

  const DaemonWebOptions opts_;
  const ReportFn report_;
  const SampleFn sample_;
  metrics::Registry registry_;
  SampleRing ring_;
  HttpServer server_;

  Mutex mu_;
  CondVar stop_cv_;  // notified by Stop()
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread sampler_;
};

}  // namespace qj
