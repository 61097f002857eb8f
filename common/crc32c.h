// CRC32C (Castagnoli), as used by every record on disk and on the wire.
// Uses the SSE4.2 crc32 instruction when the CPU has it, a table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qj::crc32c {

// Extends `crc` (the CRC32C of some prefix) with data[0, n).
uint32_t Extend(uint32_t crc, const void* data, size_t n);

inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

}  // namespace qj::crc32c
