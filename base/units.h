// Durations and sizes as people write them in configuration files.
#ifndef GRIDPROBE_BASE_UNITS_H_
#define GRIDPROBE_BASE_UNITS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace gridprobe::config {

// Reads a non-negative duration: a decimal number and one of the units ns,
// us (or µs), ms, s, m, h, d: "250ms", "1.5s", "2m", "1h", "7d". A bare "0" is zero.
// Returns nullopt for anything else, including values past 100 years.
std::optional<absl::Duration> ParseDuration(absl::string_view text);

// Reads a byte count: a plain integer ("4096"), or a decimal number with one
// of B, KiB, MiB, GiB, TiB (powers of 1024) or kB, KB, MB, GB, TB (powers of
// 1000): "64KiB", "1.5MiB". Fractions of a byte are rounded.
std::optional<uint64_t> ParseSize(absl::string_view text);

// The shortest text that ParseDuration reads back as `d` ("16.7ms", "1h").
// REQUIRES: d is a non-negative whole number of nanoseconds.
std::string FormatConfigDuration(absl::Duration d);

// The shortest text that ParseSize reads back as `bytes` ("64KiB", "1000").
std::string FormatConfigSize(uint64_t bytes);

}  // namespace gridprobe::config

#endif  // GRIDPROBE_BASE_UNITS_H_
