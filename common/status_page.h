// What a daemon's status pages show, and how: one StatusReport rendered as JSON
// (`/status`, for scripts) and as an HTML page (`/`, for people), plus the inline SVG
// charts of recent samples. Nothing here fetches anything from elsewhere: the machine
// may be offline, so the page has no external scripts, styles or fonts.
//
// HTML anchors for tests and scrapers: each field is a <td id="f-KEY">, each table a
// <table id="t-KEY"> whose cells carry class "c-COLUMN", each chart an <svg id="chart-KEY">.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"

namespace qj {

// One value, kept both as a JSON literal and as display text.
struct StatusValue {
  StatusValue(const char* s);  // NOLINT(runtime/explicit): values are written inline
  StatusValue(const std::string& s);
  StatusValue(int64_t v);
  StatusValue(int v) : StatusValue(static_cast<int64_t>(v)) {}
  StatusValue(double v);
  StatusValue(bool v);
  std::string json;
  std::string text;
};

struct StatusTable {
  std::string key;    // JSON key and HTML id suffix
  std::string title;  // HTML caption
  std::vector<std::string> columns;
  std::vector<std::vector<StatusValue>> rows;
};

// A series drawn as one chart: (seconds before now, value) pairs, oldest first.
struct StatusChart {
  std::string key;
  std::string title;  // with its unit, e.g. "commit rate (edits/s)"
  std::vector<std::pair<double, double>> points;
};

struct StatusReport {
  std::string daemon;  // "journalnode", "namenode", "failoverd"
  std::string name;    // "jn1", "nn1"
  std::vector<std::pair<std::string, StatusValue>> fields;
  std::vector<StatusTable> tables;
  std::vector<StatusChart> charts;  // HTML only

  void Field(const std::string& key, StatusValue v) { fields.emplace_back(key, std::move(v)); }
};

std::string HtmlEscape(const std::string& s);

// {"daemon":..,"name":..,<fields>,"<table key>":[{col:val,..},..],..}
std::string RenderStatusJson(const StatusReport& r);
// A page that reloads itself every `refresh_s` seconds.
std::string RenderStatusHtml(const StatusReport& r, int refresh_s = 2);
// One chart as an inline <svg> (width x height pixels), with its max value and time axis.
std::string RenderChartSvg(const StatusChart& c, int width = 560, int height = 140);

// A bounded ring of periodic samples of a cumulative count (say, the committed txid) and
// of a level (say, a lag), from which the charts are drawn. Thread-safe.
class SampleRing {
 public:
  explicit SampleRing(size_t capacity) : capacity_(capacity) {}
  void Add(int64_t now_ms, double count, double level);
  // Rate of the count per second between consecutive samples, and the level, as charts
  // with x = seconds before now_ms.
  StatusChart RateChart(int64_t now_ms, const std::string& key, const std::string& title) const;
  StatusChart LevelChart(int64_t now_ms, const std::string& key, const std::string& title) const;

 private:
  struct Sample {
    int64_t ms;
    double count, level;
  };
  const size_t capacity_;
  mutable Mutex mu_;
  std::deque<Sample> samples_ GUARDED_BY(mu_);
};

}  // namespace qj
