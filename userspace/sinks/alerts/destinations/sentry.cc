// sentry: one envelope per notification, POSTed to the DSN's envelope
// endpoint with X-Sentry-Auth (shared/docs/wire-formats.md §1). Every
// notification of an incident carries the same fingerprint, so they land on
// one Sentry issue; the resolution is an `info` event "resolved: ...".
// X-Sentry-Rate-Limits (on any answer) and 429 hold the destination until
// the limit expires; nothing is sent to Sentry before that.
#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "userspace/model/format.h"
#include "userspace/sinks/alerts/destination.h"
#include "userspace/sinks/alerts/destinations/sentry.h"

namespace gridprobe::alerts {

absl::StatusOr<SentryDsn> ParseSentryDsn(absl::string_view dsn) {
  // Errors describe the shape, never the value: a DSN holds a key.
  auto bad = [](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sentry 'dsn' is not a DSN (", why,
        "); expected https://PUBLIC_KEY@HOST[:PORT][/PATH]/PROJECT_ID, as Sentry's project "
        "settings show it"));
  };
  SentryDsn out;
  dsn = absl::StripAsciiWhitespace(dsn);
  size_t scheme_end = dsn.find("://");
  if (scheme_end == absl::string_view::npos) return bad("no scheme");
  out.scheme = std::string(dsn.substr(0, scheme_end));
  if (out.scheme != "https" && out.scheme != "http") return bad("the scheme is not https or http");
  absl::string_view rest = dsn.substr(scheme_end + 3);
  size_t q = rest.find_first_of("?#");
  if (q != absl::string_view::npos) rest = rest.substr(0, q);
  size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  absl::string_view path = slash == absl::string_view::npos ? "" : rest.substr(slash);
  size_t at = authority.rfind('@');
  if (at == absl::string_view::npos) return bad("no public key before '@'");
  absl::string_view userinfo = authority.substr(0, at);
  out.host = std::string(authority.substr(at + 1));
  size_t colon = userinfo.find(':');
  out.public_key = std::string(userinfo.substr(0, colon));
  if (colon != absl::string_view::npos) out.secret_key = std::string(userinfo.substr(colon + 1));
  if (out.public_key.empty()) return bad("an empty public key");
  if (out.host.empty() || out.host.front() == ':') return bad("no host");
  // As sentry-native: trailing slashes off, the last segment is the
  // project, what precedes it the self-hosted path prefix.
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  size_t last = path.rfind('/');
  if (last == absl::string_view::npos || last + 1 >= path.size()) return bad("no project id");
  out.project_id = std::string(path.substr(last + 1));
  out.path = std::string(path.substr(0, last));
  return out;
}

std::string SentryEnvelopeUrl(const SentryDsn& dsn, absl::string_view base) {
  std::string root = base.empty() ? absl::StrCat(dsn.scheme, "://", dsn.host, dsn.path)
                                  : std::string(absl::StripSuffix(base, "/"));
  return absl::StrCat(root, "/api/", dsn.project_id, "/envelope/");
}

std::string SentryAuthHeader(const SentryDsn& dsn) {
  std::string h = absl::StrCat("X-Sentry-Auth: Sentry sentry_version=7, sentry_client=",
                               UserAgent(), ", sentry_key=", dsn.public_key);
  if (!dsn.secret_key.empty()) absl::StrAppend(&h, ", sentry_secret=", dsn.secret_key);
  return h;
}

std::optional<absl::Time> SentryRateLimit(const AttemptResult& r, absl::Time now,
                                          absl::Duration cap) {
  std::optional<absl::Duration> longest;
  if (auto it = r.headers.find("x-sentry-rate-limits"); it != r.headers.end()) {
    for (absl::string_view quota : absl::StrSplit(it->second, ',', absl::SkipWhitespace())) {
      std::vector<absl::string_view> f = absl::StrSplit(absl::StripAsciiWhitespace(quota), ':');
      double seconds = 0;
      if (f.empty() || !absl::SimpleAtod(f[0], &seconds) || !(seconds >= 0)) continue;
      bool ours = f.size() < 2 || f[1].empty();  // no categories: all of them
      if (!ours) {
        for (absl::string_view c : absl::StrSplit(f[1], ';')) {
          // An event without an exception is Relay's "default" category,
          // one with is "error": gridprobe's are the former, the docs say
          // the latter; either stops them.
          if (c == "error" || c == "default") ours = true;
        }
      }
      if (!ours) continue;
      absl::Duration d = absl::Seconds(std::min(seconds, absl::ToDoubleSeconds(cap)));
      longest = longest ? std::max(*longest, d) : d;
    }
    if (longest) return now + *longest;
    if (r.status != 429) return std::nullopt;  // a limit on other categories only
  }
  if (r.status != 429) return std::nullopt;
  if (std::optional<absl::Duration> ra = ParseRetryAfter(r.retry_after, now, cap)) {
    return now + *ra;
  }
  return now + std::min(absl::Seconds(60), cap);  // 429 with neither header
}

namespace {

constexpr size_t kMaxEventItem = 1 << 20;  // Relay: 1 MiB per event item
constexpr size_t kMaxTag = 200;
constexpr size_t kMaxMessage = 8192;

std::string Level(const Notification& n) {
  if (n.incident.state == IncidentState::kResolved) return "info";
  std::string s = n.event.value("severity", "");
  if (s == "critical") return "fatal";
  if (s == "warning") return "warning";
  if (s == "info") return "info";
  return "error";
}

class Sentry : public Destination {
 public:
  Sentry(SentryDsn dsn, std::string url, std::string environment, absl::Duration cap)
      : dsn_(std::move(dsn)), url_(std::move(url)), environment_(std::move(environment)),
        cap_(cap), host_(HostName()) {}

  absl::StatusOr<Request> Format(const Notification& n) override {
    const nlohmann::json& e = n.event;
    bool resolved = n.incident.state == IncidentState::kResolved;
    std::string key = e.value("key", "");
    // The same notification always gets the same id, so a resend (from the
    // outbox, by the next run) is one event to Sentry.
    std::string event_id =
        Sha256Hex(absl::StrCat(key, "\n", Rfc3339(n.incident.opened_at), "\n",
                               n.incident.notification, "\n", IncidentStateName(n.incident.state)))
            .substr(0, 32);
    std::string family = FamilyLabel(e);
    nlohmann::json tags = nlohmann::json::object();
    auto tag = [&](const std::string& k, const std::string& v) {
      if (!v.empty()) tags[Truncate(k, kMaxTag)] = Truncate(v, kMaxTag);
    };
    tag("subject", Subject(e));
    tag("family", family);
    tag("gridprobe.severity", e.value("severity", ""));
    tag("gridprobe.incident", IncidentStateName(n.incident.state));
    tag("gridprobe.key", key);
    for (const char* f : {"operation", "metric", "category", "preset", "impact"}) {
      tag(f, e.value(f, ""));
    }
    if (e.contains("target")) {
      tag("comm", e["target"].value("comm", ""));
      tag("pid", std::to_string(e["target"].value("pid", 0)));
    }
    nlohmann::json extra = e.value("figures", nlohmann::json::object());
    extra["incident"] = {{"state", IncidentStateName(n.incident.state)},
                         {"opened_at", Rfc3339(n.incident.opened_at)},
                         {"folded", n.incident.folded},
                         {"notification", n.incident.notification}};
    std::string message = e.value("message", "");
    if (resolved) message = absl::StrCat("resolved: ", message);
    nlohmann::json event = {
        {"event_id", event_id},
        {"timestamp", e.value("time", Rfc3339(absl::Now()))},
        {"platform", "native"},
        {"level", Level(n)},
        {"logger", absl::StrCat("gridprobe.", family)},
        {"server_name", host_},
        {"release", "gridprobe@0.1.0"},
        {"environment", environment_},
        {"message", {{"formatted", Truncate(message, kMaxMessage)}}},
        {"tags", tags},
        {"extra", extra},
        // One issue per incident: the opening, repeats and resolution group.
        {"fingerprint", {"gridprobe", Truncate(key, kMaxTag)}}};
    std::string payload = event.dump();
    if (payload.size() > kMaxEventItem) {
      event.erase("extra");  // the figures are what can grow
      payload = event.dump();
      if (payload.size() > kMaxEventItem) {
        return absl::InvalidArgumentError("the Sentry event is over 1 MiB");
      }
    }
    nlohmann::json header = {{"event_id", event_id},
                             {"sent_at", Rfc3339Seconds(absl::Now())},
                             {"sdk", {{"name", "gridprobe"}, {"version", "0.1.0"}}}};
    nlohmann::json item = {{"type", "event"},
                           {"length", payload.size()},
                           {"content_type", "application/json"}};
    Request r;
    r.url = url_;
    r.body = absl::StrCat(header.dump(), "\n", item.dump(), "\n", payload, "\n");
    r.headers = {"Content-Type: application/x-sentry-envelope", SentryAuthHeader(dsn_),
                 absl::StrCat("User-Agent: ", UserAgent())};
    return r;
  }

  Answer Interpret(const AttemptResult& r, absl::Time now) override {
    Answer a{Judge(r), absl::InfinitePast()};
    if (std::optional<absl::Time> until = SentryRateLimit(r, now, cap_)) a.hold_until = *until;
    // 413 is final (Judge rejects it). 429 is held until the limit expires
    // and then sent once more: an incident's opening or resolution is one
    // message, not a sample Sentry's SDKs could afford to drop.
    return a;
  }

 private:
  SentryDsn dsn_;
  std::string url_, environment_;
  absl::Duration cap_;
  std::string host_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Destination>> Make_sentry(const DestinationOptions& options,
                                                         Redactor* redactor) {
  auto it = options.keys.find("dsn");
  if (it == options.keys.end() || it->second.empty()) {
    return absl::InvalidArgumentError("sentry needs 'dsn'");
  }
  redactor->Add(it->second);
  absl::StatusOr<SentryDsn> dsn = ParseSentryDsn(it->second);
  if (!dsn.ok()) return dsn.status();
  redactor->Add(dsn->public_key);
  redactor->Add(dsn->secret_key);
  std::string environment = "production";
  if (auto env = options.keys.find("environment"); env != options.keys.end()) {
    environment = env->second;
  }
  if (environment.size() > 64 || environment.find_first_of("/ \n\r") != std::string::npos) {
    return absl::InvalidArgumentError(
        "sentry 'environment' must be at most 64 characters without '/', spaces or newlines");
  }
  redactor->AddUrl(options.url);
  // Sentry limits come as long as an hour; hold that long, not the
  // Retry-After cap's 5 minutes, or the limit would be broken.
  absl::Duration cap = std::max(options.retry_after_cap, absl::Hours(1));
  return std::make_unique<Sentry>(*dsn, SentryEnvelopeUrl(*dsn, options.url), environment, cap);
}

}  // namespace gridprobe::alerts
