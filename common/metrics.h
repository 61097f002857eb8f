// Metrics: counters, gauges and fixed-bucket histograms with labels, rendered in the
// Prometheus text exposition format (version 0.0.4) for a daemon's `/metrics` page.
//
// Naming (checked by Registry in debug builds only through the tests): units in the name
// (`_seconds`, `_bytes`), counters end in `_total`, histograms of latencies in seconds.
//
// Two ways to publish a figure:
//   - owned metrics: Registry::AddCounter/AddGauge/AddHistogram return a family; `With()`
//     returns the child for one set of label values (take it once, keep the pointer: the
//     child lives as long as the registry). Updating a child is one relaxed atomic
//     operation (a histogram: two, plus a CAS loop for the sum), no lock;
//   - collectors: Registry::AddCollector registers a function that writes samples at
//     scrape time from state the daemon already keeps (txids, epochs, HA role), so that
//     figures which exist elsewhere are read, never copied on the hot path.
//
// Thread-safety: everything is thread-safe. Render() takes the registry's mutex and each
// family's mutex (never while a collector runs another registry call).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"

namespace qj::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing value.
class Counter {
 public:
  void Increment(double by = 1) { Add(&value_, by); }
  double value() const { return value_.load(std::memory_order_relaxed); }

  static void Add(std::atomic<double>* a, double by);

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by) { Counter::Add(&value_, by); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets (upper bounds, ascending; +Inf is implicit).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> counts;  // per bucket, not cumulative; size bounds + 1 (+Inf)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// Exponential bucket bounds: start, start*factor, ... (count of them).
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// Writes the exposition text. Collectors use it; so does Registry for owned families.
// Each family must be written in one piece: Begin(), then its samples.
class TextWriter {
 public:
  // type: "counter", "gauge" or "histogram".
  void Begin(const std::string& name, const std::string& type, const std::string& help);
  void Sample(const std::string& name, const Labels& labels, double value);
  // name_bucket / name_sum / name_count lines of one histogram child.
  void HistogramSample(const std::string& name, const Labels& labels, const Histogram::Snapshot& s);
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

// Formats a sample value as Prometheus does (integers without a fraction, +Inf, NaN).
std::string FormatValue(double v);
// Escapes a label value (backslash, double quote, newline).
std::string EscapeLabelValue(const std::string& v);

template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<T>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // The child for these label values (in the order of the family's label names; the
  // count must match). Created on first use; the pointer stays valid. Finding an existing
  // child (nearly every call: e.g. once per namenode client call) takes the lock shared.
  T* With(const std::vector<std::string>& values) {
    {
      ReaderMutexLock l(&mu_);
      auto it = children_.find(values);
      if (it != children_.end()) return it->second.get();
    }
    WriterMutexLock l(&mu_);
    auto& slot = children_[values];
    if (!slot) slot = make_();
    return slot.get();
  }
  T* With() { return With(std::vector<std::string>{}); }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }

  // Calls fn(labels, child) for every child, in label order.
  void ForEach(const std::function<void(const Labels&, const T&)>& fn) const {
    ReaderMutexLock l(&mu_);
    for (const auto& [values, child] : children_) {
      Labels labels;
      for (size_t i = 0; i < values.size() && i < label_names_.size(); ++i) {
        labels.emplace_back(label_names_[i], values[i]);
      }
      fn(labels, *child);
    }
  }

 private:
  const std::string name_, help_;
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<T>()> make_;
  mutable SharedMutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_ GUARDED_BY(mu_);
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The family pointers live as long as the registry. Names must be unique.
  Family<Counter>* AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>* AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>* AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<double> bounds,
                                  std::vector<std::string> label_names = {});
  // fn runs at every Render(), after the owned families, in registration order.
  void AddCollector(std::function<void(TextWriter*)> fn);

  // The whole exposition text.
  std::string Render() const;

 private:
  mutable Mutex mu_;
  // In registration order.
  std::vector<std::unique_ptr<Family<Counter>>> counters_ GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_ GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_ GUARDED_BY(mu_);
  std::vector<std::function<void(TextWriter*)>> collectors_ GUARDED_BY(mu_);
};

}  // namespace qj::metrics
