// The few ways every output spells a number or a time, so that the console,
// reports and events agree.
#ifndef GRIDPROBE_USERSPACE_MODEL_FORMAT_H_
#define GRIDPROBE_USERSPACE_MODEL_FORMAT_H_

#include <string>

#include "absl/time/time.h"

namespace gridprobe {

// "1.23 ms", "850.0 us", "12.00 s".
std::string FormatNanos(double ns);

// "1.5 MiB", "64 KiB", "640 B": binary units, one decimal at most.
std::string FormatBytes(double bytes);

// RFC 3339 in UTC with milliseconds, "2026-12-04T10:15:00.123Z": the one
// timestamp format of reports, events and messages.
std::string Rfc3339(absl::Time t);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_MODEL_FORMAT_H_
