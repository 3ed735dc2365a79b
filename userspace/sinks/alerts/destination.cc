#include "userspace/sinks/alerts/destination.h"

#include <openssl/evp.h>
#include <unistd.h>
#include <zlib.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "userspace/model/format.h"

namespace gridprobe::alerts {

#define DESTINATION(type, ...)                                          \
  absl::StatusOr<std::unique_ptr<Destination>> Make_##type(const DestinationOptions& options, \
                                                           Redactor* redactor);
#include "userspace/sinks/alerts/destinations.def"
#undef DESTINATION

namespace {

struct Registration {
  const char* type;
  absl::StatusOr<std::unique_ptr<Destination>> (*make)(const DestinationOptions&, Redactor*);
  std::vector<std::string> keys;
};

const std::vector<Registration>& Registry() {
  static const auto* registry = new std::vector<Registration>{
#define DESTINATION(type, ...) {#type, &Make_##type, {__VA_ARGS__}},
#include "userspace/sinks/alerts/destinations.def"
#undef DESTINATION
  };
  return *registry;
}

absl::StatusOr<absl::Time> ParseTime(const nlohmann::json& j, const char* what) {
  absl::Time t;
  std::string err;
  if (!j.is_string() || !absl::ParseTime(absl::RFC3339_full, j.get<std::string>(), &t, &err)) {
    return absl::InvalidArgumentError(absl::StrCat("'", what, "' is not an RFC 3339 time"));
  }
  return t;
}

}  // namespace

nlohmann::json NotificationJson(const Notification& n) {
  nlohmann::json j = n.event;
  j["incident"] = {{"state", IncidentStateName(n.incident.state)},
                   {"opened_at", Rfc3339(n.incident.opened_at)},
                   {"folded", n.incident.folded},
                   {"notification", n.incident.notification}};
  return j;
}

absl::StatusOr<Notification> ParseNotification(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("incident") || !j["incident"].is_object() ||
      !j.contains("key") || !j.contains("kind")) {
    return absl::InvalidArgumentError("not a notification (no 'incident', 'key' or 'kind')");
  }
  Notification n;
  n.event = j;
  const nlohmann::json inc = n.event["incident"];
  n.event.erase("incident");
  std::optional<IncidentState> state =
      inc.value("state", "").empty() ? std::nullopt
                                     : ParseIncidentState(inc["state"].get<std::string>());
  if (!state) return absl::InvalidArgumentError("unknown incident state");
  n.incident.state = *state;
  absl::StatusOr<absl::Time> opened = ParseTime(inc.value("opened_at", nlohmann::json()),
                                                "opened_at");
  if (!opened.ok()) return opened.status();
  n.incident.opened_at = *opened;
  n.incident.folded = inc.value("folded", int64_t{0});
  n.incident.notification = inc.value("notification", int64_t{1});
  return n;
}

absl::StatusOr<std::unique_ptr<Destination>> MakeDestination(const DestinationOptions& options,
                                                              Redactor* redactor) {
  for (const Registration& r : Registry()) {
    if (options.type == r.type) return r.make(options, redactor);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown alert destination type '", options.type, "'"));
}

std::optional<std::vector<std::string>> DestinationKeys(const std::string& type) {
  for (const Registration& r : Registry()) {
    if (type == r.type) return r.keys;
  }
  return std::nullopt;
}

std::vector<std::string> DestinationTypes() {
  std::vector<std::string> out;
  for (const Registration& r : Registry()) out.push_back(r.type);
  return out;
}

std::string FamilyLabel(const nlohmann::json& event) {
  std::optional<EventKind> kind = ParseEventKind(event.value("kind", ""));
  return kind ? EventFamily(*kind) : "health";
}

std::string Subject(const nlohmann::json& event) {
  for (const char* field : {"operation", "category", "preset"}) {
    std::string v = event.value(field, "");
    if (!v.empty()) return v;
  }
  return event.value("kind", "");
}

std::string UserAgent() { return "gridprobe/0.1.0"; }

std::string Rfc3339Seconds(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::vector<std::pair<const char*, double>> LatencyFigures(const OpStats& op) {
  return {{"p50", static_cast<double>(op.p50_ns)},
          {"p95", static_cast<double>(op.p95_ns)},
          {"p99", static_cast<double>(op.p99_ns)},
          {"max", static_cast<double>(op.max_ns)}};
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

absl::StatusOr<std::string> Gzip(absl::string_view data) {
  z_stream z{};
  // windowBits 15 + 16: the gzip wrapper, as sentry-native writes it.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("zlib: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return absl::InternalError("zlib: deflate did not finish");
  return out;
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(md), static_cast<size_t>(len)));
}

std::string Truncate(absl::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t n = max;
  // Back up over continuation bytes (10xxxxxx) to a sequence start.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return std::string(text.substr(0, n));
}

absl::StatusOr<bool> BoolKey(const DestinationOptions& options, const std::string& key, bool def) {
  auto it = options.keys.find(key);
  if (it == options.keys.end()) return def;
  if (it->second == "true") return true;
  if (it->second == "false") return false;
  return absl::InvalidArgumentError(absl::StrCat("'", key, "' must be true or false"));
}

}  // namespace gridprobe::alerts
