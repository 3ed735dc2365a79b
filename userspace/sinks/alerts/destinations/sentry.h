// The parts of the sentry destination that tests check on their own: the
// DSN, the endpoint and auth header it gives, and rate-limit headers.
#ifndef GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATIONS_SENTRY_H_
#define GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATIONS_SENTRY_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "userspace/sinks/alerts/policy.h"

namespace gridprobe::alerts {

// {scheme}://{public_key}[:{secret_key}]@{host[:port]}{path}/{project_id}
struct SentryDsn {
  std::string scheme, public_key, secret_key, host, path, project_id;
};

// Fails on anything that is not a DSN; the message never quotes it.
absl::StatusOr<SentryDsn> ParseSentryDsn(absl::string_view dsn);
// {scheme}://{host}{path}/api/{project_id}/envelope/, or with `base`
// (an `endpoint:`) in place of {scheme}://{host}{path}.
std::string SentryEnvelopeUrl(const SentryDsn& dsn, absl::string_view base = "");
// "X-Sentry-Auth: Sentry sentry_version=7, sentry_client=gridprobe/0.1.0,
// sentry_key=<public key>[, sentry_secret=<secret>]".
std::string SentryAuthHeader(const SentryDsn& dsn);
// When the answer limits gridprobe's events (category error/default, or
// all): X-Sentry-Rate-Limits first, else a 429's Retry-After, else 60 s for
// a bare 429. nullopt: no limit. Each wait at most `cap`.
std::optional<absl::Time> SentryRateLimit(const AttemptResult& result, absl::Time now,
                                          absl::Duration cap);

}  // namespace gridprobe::alerts

#endif  // GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATIONS_SENTRY_H_
