// Little-endian / varint encoding helpers shared by edit payloads and the image stream.
// Internal to namenode/. The byte formats they produce are described in FORMAT.md:
//   varint  unsigned LEB128, at most 10 bytes, no overflow past 64 bits;
//   zigzag  signed int64 mapped to unsigned ((n << 1) ^ (n >> 63)), then varint;
//   string  varint byte length, then the bytes.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace qj::nn::codec {

inline void PutU8(std::string* dst, uint8_t v) { dst->push_back(static_cast<char>(v)); }

inline void PutFixed32(std::string* dst, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  dst->append(b, 4);
}

inline void PutFixed64(std::string* dst, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  dst->append(b, 8);
}

inline void PutVarint(std::string* dst, uint64_t v) {
  char b[10];
  int n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  dst->append(b, static_cast<size_t>(n));
}

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

inline void PutSigned(std::string* dst, int64_t v) { PutVarint(dst, ZigZag(v)); }

inline void PutString(std::string* dst, std::string_view s) {
  PutVarint(dst, s.size());
  dst->append(s.data(), s.size());
}

inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

// Reads from a byte buffer; every Get returns false (and records what failed) instead of
// reading past the end. After the first failure all further Gets fail.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool failed() const { return failed_; }
  const char* error() const { return error_; }

  bool GetU8(uint8_t* v) {
    if (!Need(1, "truncated")) return false;
    *v = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool GetBool(bool* v) {
    uint8_t b;
    if (!GetU8(&b)) return false;
    if (b > 1) return Fail("bool byte is neither 0 nor 1");
    *v = b == 1;
    return true;
  }
  bool GetVarint(uint64_t* v) {
    if (failed_) return false;
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos_ >= data_.size()) return Fail("truncated varint");
      uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      if (shift == 63 && b > 1) return Fail("varint overflows 64 bits");
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        // A last group of zero after the first adds nothing: an overlong form. Refused, so
        // that every value (and so every edit, FORMAT.md) has exactly one encoding.
        if (b == 0 && shift > 0) return Fail("varint not in its shortest form");
        *v = result;
        return true;
      }
    }
    return Fail("varint longer than 10 bytes");
  }
  bool GetSigned(int64_t* v) {
    uint64_t u;
    if (!GetVarint(&u)) return false;
    *v = UnZigZag(u);
    return true;
  }
  // A varint that must lie in [lo, hi].
  bool GetBounded(uint64_t lo, uint64_t hi, uint64_t* v, const char* what) {
    if (!GetVarint(v)) return false;
    if (*v < lo || *v > hi) return Fail(what);
    return true;
  }
  bool GetString(size_t max_len, std::string_view* s) {
    uint64_t len;
    if (!GetVarint(&len)) return false;
    if (len > max_len) return Fail("string longer than its limit");
    if (!Need(len, "truncated string")) return false;
    *s = data_.substr(pos_, len);
    pos_ += len;
    return true;
  }
  // Exactly n raw bytes.
  bool GetBytes(size_t n, std::string_view* s) {
    if (!Need(n, "truncated bytes")) return false;
    *s = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Fail(const char* why) {
    if (!failed_) {
      failed_ = true;
      error_ = why;
    }
    return false;
  }

 private:
  bool Need(uint64_t n, const char* why) {
    if (failed_) return false;
    if (n > data_.size() - pos_) return Fail(why);
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
  bool failed_ = false;
  const char* error_ = "";
};

}  // namespace qj::nn::codec
