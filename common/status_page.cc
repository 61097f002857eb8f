#include "common/status_page.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/json.h"
#include "common/metrics.h"

namespace qj {

StatusValue::StatusValue(const char* s) : StatusValue(std::string(s)) {}
StatusValue::StatusValue(const std::string& s) : json(JsonString(s)), text(s) {}
StatusValue::StatusValue(int64_t v) : json(std::to_string(v)), text(std::to_string(v)) {}
StatusValue::StatusValue(double v) {
  // JSON has no NaN or infinity.
  json = std::isfinite(v) ? metrics::FormatValue(v) : "null";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  text = buf;
}
StatusValue::StatusValue(bool v) : json(v ? "true" : "false"), text(v ? "yes" : "no") {}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderStatusJson(const StatusReport& r) {
  std::string out = "{\"daemon\":" + JsonString(r.daemon) + ",\"name\":" + JsonString(r.name);
  for (const auto& [k, v] : r.fields) out += "," + JsonString(k) + ":" + v.json;
  for (const StatusTable& t : r.tables) {
    out += "," + JsonString(t.key) + ":[";
    for (size_t i = 0; i < t.rows.size(); ++i) {
      if (i > 0) out += ",";
      out += "{";
      for (size_t c = 0; c < t.columns.size() && c < t.rows[i].size(); ++c) {
        if (c > 0) out += ",";
        out += JsonString(t.columns[c]) + ":" + t.rows[i][c].json;
      }
      out += "}";
    }
    out += "]";
  }
  return out + "}\n";
}

std::string RenderChartSvg(const StatusChart& c, int width, int height) {
  const int left = 60, right = 10, top = 20, bottom = 20;
  const int pw = width - left - right, ph = height - top - bottom;
  double max_y = 0, max_x = 60;
  for (const auto& [x, y] : c.points) {
    max_y = std::max(max_y, y);
    max_x = std::max(max_x, x);
  }
  if (max_y <= 0) max_y = 1;
  std::string pts;
  char buf[64];
  for (const auto& [x, y] : c.points) {
    // x is seconds before now: now is at the right edge.
    std::snprintf(buf, sizeof(buf), "%.1f,%.1f ", left + pw * (1 - x / max_x),
                  top + ph * (1 - y / max_y));
    pts += buf;
  }
  std::string svg = "<svg id=\"chart-" + HtmlEscape(c.key) +
                    "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
                    "\" height=\"" + std::to_string(height) + "\" role=\"img\" aria-label=\"" +
                    HtmlEscape(c.title) + "\">";
  svg += "<rect x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(top) + "\" width=\"" +
         std::to_string(pw) + "\" height=\"" + std::to_string(ph) +
         "\" fill=\"#f8f8f8\" stroke=\"#ccc\"/>";
  svg += "<text x=\"" + std::to_string(left) + "\" y=\"14\" font-size=\"12\">" +
         HtmlEscape(c.title) + "</text>";
  svg += "<text class=\"ymax\" x=\"" + std::to_string(left - 4) + "\" y=\"" +
         std::to_string(top + 10) + "\" font-size=\"10\" text-anchor=\"end\">" +
         HtmlEscape(StatusValue(max_y).text) + "</text>";
  svg += "<text x=\"" + std::to_string(left - 4) + "\" y=\"" + std::to_string(top + ph) +
         "\" font-size=\"10\" text-anchor=\"end\">0</text>";
  svg += "<text x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(height - 4) +
         "\" font-size=\"10\">-" + std::to_string(static_cast<int64_t>(max_x)) + " s</text>";
  svg += "<text x=\"" + std::to_string(left + pw) + "\" y=\"" + std::to_string(height - 4) +
         "\" font-size=\"10\" text-anchor=\"end\">now</text>";
  if (!pts.empty()) {
    svg +=
        "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"" + pts + "\"/>";
  }
  return svg + "</svg>";
}

std::string RenderStatusHtml(const StatusReport& r, int refresh_s) {
  const std::string title = r.daemon + " " + r.name;
  std::string h =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"" +
      std::to_string(refresh_s) + "\"><title>" + HtmlEscape(title) +
      "</title><style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;"
      "margin-bottom:1em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
      "th{background:#eee}caption{text-align:left;font-weight:bold}</style></head><body>\n";
  h += "<h1 id=\"title\">" + HtmlEscape(title) + "</h1>\n";
  h += "<table id=\"fields\">";
  for (const auto& [k, v] : r.fields) {
    h += "<tr><th>" + HtmlEscape(k) + "</th><td id=\"f-" + HtmlEscape(k) + "\">" +
         HtmlEscape(v.text) + "</td></tr>";
  }
  h += "</table>\n";
  for (const StatusTable& t : r.tables) {
    h += "<table id=\"t-" + HtmlEscape(t.key) + "\"><caption>" + HtmlEscape(t.title) +
         "</caption><tr>";
    for (const auto& c : t.columns) h += "<th>" + HtmlEscape(c) + "</th>";
    h += "</tr>";
    for (const auto& row : t.rows) {
      h += "<tr>";
      for (size_t c = 0; c < row.size() && c < t.columns.size(); ++c) {
        h +=
            "<td class=\"c-" + HtmlEscape(t.columns[c]) + "\">" + HtmlEscape(row[c].text) + "</td>";
      }
      h += "</tr>";
    }
    h += "</table>\n";
  }
  for (const StatusChart& c : r.charts) h += "<div>" + RenderChartSvg(c) + "</div>\n";
  h += "<p><a href=\"/status\">/status</a> (JSON) &middot; <a href=\"/metrics\">/metrics</a> "
       "(Prometheus)</p></body></html>\n";
  return h;
}

void SampleRing::Add(int64_t now_ms, double count, double level) {
  MutexLock l(&mu_);
  samples_.push_back(Sample{now_ms, count, level});
  while (samples_.size() > capacity_) samples_.pop_front();
}

StatusChart SampleRing::RateChart(int64_t now_ms, const std::string& key,
                                  const std::string& title) const {
  StatusChart c{key, title, {}};
  MutexLock l(&mu_);
  for (size_t i = 1; i < samples_.size(); ++i) {
    const Sample &a = samples_[i - 1], &b = samples_[i];
    if (b.ms <= a.ms) continue;
    // A count that went down (a restart, a new writer) is a reset, not a negative rate.
    const double rate = std::max(0.0, (b.count - a.count) * 1000.0 / (b.ms - a.ms));
    c.points.emplace_back((now_ms - b.ms) / 1000.0, rate);
  }
  return c;
}

StatusChart SampleRing::LevelChart(int64_t now_ms, const std::string& key,
                                   const std::string& title) const {
  StatusChart c{key, title, {}};
  MutexLock l(&mu_);
  for (const Sample& s : samples_) c.points.emplace_back((now_ms - s.ms) / 1000.0, s.level);
  return c;
}

}  // namespace qj
