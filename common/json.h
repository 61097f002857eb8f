// Minimal JSON output for the tools' --json modes: string escaping only. Numbers and
// booleans are written with the usual stream operators; keys are ASCII literals.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace qj {

// `s` as a JSON string literal, quotes included. Bytes >= 0x80 pass through (paths and
// names are UTF-8 as HDFS's); control characters, quotes and backslashes are escaped.
inline std::string JsonString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace qj
