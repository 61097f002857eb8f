#include "common/daemon_web.h"

#include <pthread.h>

namespace qj {

DaemonWeb::DaemonWeb(DaemonWebOptions opts, ReportFn report, SampleFn sample)
    : opts_(std::move(opts)),
      report_(std::move(report)),
      sample_(std::move(sample)),
      ring_(opts_.samples),
      server_(opts_.http) {
  server_.Handle("/metrics", [this] {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", registry_.Render()};
  });
  server_.Handle("/status", [this] {
    return HttpResponse{200, "application/json", RenderStatusJson(report_())};
  });
  server_.Handle("/", [this] {
    return HttpResponse{200, "text/html; charset=utf-8", RenderStatusHtml(FullReport())};
  });
}

DaemonWeb::~DaemonWeb() { Stop(); }

StatusReport DaemonWeb::FullReport() const {
  StatusReport r = report_();
  const int64_t now = opts_.clock->WallMillis();
  r.charts.push_back(ring_.RateChart(now, "rate", opts_.rate_title));
  r.charts.push_back(ring_.LevelChart(now, "lag", opts_.level_title));
  return r;
}

Status DaemonWeb::Start() {
  Status s = server_.Start();
  if (!s.ok()) return s;
  sampler_ = std::thread([this] { SampleLoop(); });
  return Status::OK();
}

void DaemonWeb::SampleLoop() {
  pthread_setname_np(pthread_self(), "web-sampler");
  {
    MutexLock l(&mu_);
    if (stop_) return;
  }
  while (true) {
    auto [count, level] = sample_();
    ring_.Add(opts_.clock->WallMillis(), count, level);
    MutexLock l(&mu_);
    if (stop_cv_.WaitFor(&mu_, std::chrono::milliseconds(opts_.sample_interval_ms),
                         [this]() REQUIRES(mu_) { return stop_; })) {
      return;
    }
  }
}

void DaemonWeb::Stop() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  stop_cv_.SignalAll();
  if (sampler_.joinable()) sampler_.join();
  server_.Stop();
}

}  // namespace qj
