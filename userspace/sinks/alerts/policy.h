// The delivery contract in small pure functions: what is retried, how long
// to wait, and what a message may show (docs/alerts.md, "Delivery").
#ifndef GRIDPROBE_USERSPACE_SINKS_ALERTS_POLICY_H_
#define GRIDPROBE_USERSPACE_SINKS_ALERTS_POLICY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace gridprobe::alerts {

// The outcome of one attempt.
struct AttemptResult {
  long status = 0;          // HTTP status; 0 when no response came
  std::string error;        // transport error ("Connection refused", "timed out")
  std::string body;         // the first KiB of the response
  std::string retry_after;  // the header, as sent
  // Every response header, names lowercased; repeated headers joined by
  // ", " (X-Sentry-Rate-Limits, X-RateLimit-Reset, ...).
  std::map<std::string, std::string> headers;
  bool timed_out = false;
  // exec: the command's exit status (-1: killed).
  std::optional<int> exit_status;
};

enum class Verdict : uint8_t { kDelivered, kRetry, kReject };
// 2xx delivered; no response, a timeout, 408, 429 and 5xx retried;
// every other status (3xx included: redirects are not followed) rejected.
Verdict Judge(const AttemptResult& result);

// Full jitter: a uniform delay in [0, min(cap, base * 2^(attempt-1))],
// `unit` drawing from [0, 1). attempt >= 1.
absl::Duration Backoff(int attempt, absl::Duration base, absl::Duration cap,
                       const std::function<double()>& unit);

// Retry-After as delta-seconds or an HTTP-date, relative to `now`; nullopt
// when absent or unparsable. Negative waits are zero; at most `cap`.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now,
                                              absl::Duration cap);

// Replaces every occurrence of a secret (and of its URL-encoded form) with
// "[redacted]", then cuts the text to one line of at most 300 bytes.
class Redactor {
 public:
  void Add(const std::string& secret);
  // A URL's password and query values are secrets too.
  void AddUrl(const std::string& url);
  std::string operator()(absl::string_view text) const;

 private:
  std::vector<std::string> secrets_;
};

// "scheme://host[:port]": what messages show of a URL (userinfo, path and
// query may all be credentials: a Slack URL's path is one).
std::string ShowUrl(absl::string_view url);

// Lowercase hex HMAC-SHA256 of `body` under `key`.
std::string HmacSha256Hex(absl::string_view key, absl::string_view body);

}  // namespace gridprobe::alerts

#endif  // GRIDPROBE_USERSPACE_SINKS_ALERTS_POLICY_H_
