#include "common/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace qj::metrics {

void Counter::Add(std::atomic<double>* a, double by) {
  // std::atomic<double>::fetch_add is C++20; a CAS loop is lock-free on x86-64 and arm64.
  double cur = a->load(std::memory_order_relaxed);
  while (!a->compare_exchange_weak(cur, cur + by, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // Prometheus buckets are "le": an observation equal to a bound falls into that bucket.
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  Counter::Add(&sum_, v);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  s.counts.resize(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

std::string EscapeHelp(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ",";
    out += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
  }
  return out + "}";
}

}  // namespace

void TextWriter::Begin(const std::string& name, const std::string& type, const std::string& help) {
  out_ += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  out_ += "# TYPE " + name + " " + type + "\n";
}

void TextWriter::Sample(const std::string& name, const Labels& labels, double value) {
  out_ += name + FormatLabels(labels) + " " + FormatValue(value) + "\n";
}

void TextWriter::HistogramSample(const std::string& name, const Labels& labels,
                                 const Histogram::Snapshot& s) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= s.bounds.size(); ++i) {
    cumulative += s.counts[i];
    Labels l = labels;
    l.emplace_back("le", i < s.bounds.size() ? FormatValue(s.bounds[i]) : "+Inf");
    Sample(name + "_bucket", l, static_cast<double>(cumulative));
  }
  Sample(name + "_sum", labels, s.sum);
  Sample(name + "_count", labels, static_cast<double>(s.count));
}

Family<Counter>* Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  MutexLock l(&mu_);
  counters_.push_back(std::make_unique<Family<Counter>>(
      name, help, std::move(label_names), [] { return std::make_unique<Counter>(); }));
  return counters_.back().get();
}

Family<Gauge>* Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  MutexLock l(&mu_);
  gauges_.push_back(std::make_unique<Family<Gauge>>(name, help, std::move(label_names),
                                                    [] { return std::make_unique<Gauge>(); }));
  return gauges_.back().get();
}

Family<Histogram>* Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<double> bounds,
                                          std::vector<std::string> label_names) {
  std::sort(bounds.begin(), bounds.end());
  MutexLock l(&mu_);
  histograms_.push_back(std::make_unique<Family<Histogram>>(
      name, help, std::move(label_names),
      [bounds] { return std::make_unique<Histogram>(bounds); }));
  return histograms_.back().get();
}

void Registry::AddCollector(std::function<void(TextWriter*)> fn) {
  MutexLock l(&mu_);
  collectors_.push_back(std::move(fn));
}

std::string Registry::Render() const {
  TextWriter w;
  std::vector<std::function<void(TextWriter*)>> collectors;
  {
    MutexLock l(&mu_);
    for (const auto& f : counters_) {
      w.Begin(f->name(), "counter", f->help());
      f->ForEach([&](const Labels& l, const Counter& c) { w.Sample(f->name(), l, c.value()); });
    }
    for (const auto& f : gauges_) {
      w.Begin(f->name(), "gauge", f->help());
      f->ForEach([&](const Labels& l, const Gauge& g) { w.Sample(f->name(), l, g.value()); });
    }
    for (const auto& f : histograms_) {
      w.Begin(f->name(), "histogram", f->help());
      f->ForEach([&](const Labels& l, const Histogram& h) {
        w.HistogramSample(f->name(), l, h.snapshot());
      });
    }
    collectors = collectors_;
  }
  // Collectors read daemon state under the daemon's own locks: not under ours.
  for (const auto& c : collectors) c(&w);
  return w.text();
}

}  // namespace qj::metrics
