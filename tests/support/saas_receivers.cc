#include "tests/support/saas_receivers.h"

#include <zlib.h>

#include <chrono>
#include <cmath>
#include <regex>
#include <set>

namespace gridprobe::testing {
namespace {

using nlohmann::json;

std::string Header(const HttpRequest& req, const std::string& name) {
  auto it = req.headers.find(name);
  return it == req.headers.end() ? "" : it->second;
}

bool HasHeader(const HttpRequest& req, const std::string& name) {
  return req.headers.count(name) != 0;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Inflate(const std::string& in, int window_bits, std::string* out) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out->append(buf, sizeof buf - z.avail_out);
    if (out->size() > (256u << 20)) rc = Z_MEM_ERROR;  // a bomb
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END && z.avail_in == 0;
}

// A JSON error body of the service's shape.
HttpReply Json(int status, const json& body, std::vector<std::string> headers = {}) {
  headers.push_back("Content-Type: application/json");
  return HttpReply(status, std::move(headers), body.dump());
}

bool IsHex32(const std::string& s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

bool DecodeBody(const HttpRequest& req, std::string* out, std::string* error) {
  std::string enc = Header(req, "content-encoding");
  for (char& c : enc) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out->clear();
  if (enc.empty() || enc == "identity") {
    *out = req.body;
    return true;
  }
  if (enc == "gzip") {
    if (req.body.size() < 2 || static_cast<unsigned char>(req.body[0]) != 0x1f ||
        static_cast<unsigned char>(req.body[1]) != 0x8b) {
      *error = "gzip body without the gzip magic";
      return false;
    }
    if (!Inflate(req.body, 15 + 16, out)) {
      *error = "corrupt gzip stream";
      return false;
    }
    return true;
  }
  if (enc == "deflate") {
    if (!Inflate(req.body, 15, out)) {
      *error = "corrupt zlib stream";
      return false;
    }
    return true;
  }
  *error = "unsupported Content-Encoding " + enc;
  return false;
}

std::vector<json> SaasModel::Accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

std::vector<std::string> SaasModel::Rejections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejections_;
}

HttpReply SaasModel::Accept(json payload, const std::string& api, HttpReply reply) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!payload.is_object()) payload = {{"body", std::move(payload)}};  // New Relic's arrays
  payload["_api"] = api;
  accepted_.push_back(std::move(payload));
  return reply;
}

HttpReply SaasModel::Reject(int status, const std::string& reason, HttpReply reply) {
  std::lock_guard<std::mutex> lock(mu_);
  rejections_.push_back(std::to_string(status) + " " + reason);
  reply.status = status;
  return reply;
}

// ---- Sentry (wire-formats.md §1 (e))

HttpReply SentryModel::Handle(const HttpRequest& req) {
  auto bad = [&](const std::string& why) {
    return Reject(400, why,
                  Json(400, {{"detail", "invalid event envelope"}, {"causes", {why}}},
                       {"X-Sentry-Error: invalid event envelope: " + why}));
  };
  if (req.method != "POST") return Reject(405, "method " + req.method, Json(405, {{"detail", "method not allowed"}}));
  std::string path = req.path.substr(0, req.path.find('?'));
  if (path != "/api/" + project_ + "/envelope/") {
    return Reject(404, "path " + path, Json(404, {{"detail", "not found"}}));
  }
  // X-Sentry-Auth: "Sentry k=v, k=v".
  std::string auth = Header(req, "x-sentry-auth");
  if (auth.rfind("Sentry ", 0) != 0) {
    return Reject(403, "no X-Sentry-Auth", Json(403, {{"detail", "missing authorization information"}}));
  }
  std::map<std::string, std::string> kv;
  std::string rest = auth.substr(7);
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t comma = rest.find(',', pos);
    std::string part = rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    size_t eq = part.find('=');
    if (eq != std::string::npos) kv[part.substr(0, eq)] = part.substr(eq + 1);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (kv["sentry_version"] != "7") {
    return Reject(403, "sentry_version", Json(403, {{"detail", "missing authorization information"}}));
  }
  if (kv["sentry_key"] != key_) {
    return Reject(403, "sentry_key", Json(403, {{"detail", "event submission rejected with_reason: ProjectId"}}));
  }
  if (HasHeader(req, "content-length") &&
      std::stoul(Header(req, "content-length")) != req.body.size()) {
    return bad("Content-Length is not the body's size");
  }
  std::string ct = Header(req, "content-type");
  if (ct != "application/x-sentry-envelope" && ct != "text/plain") {
    return Reject(415, "content type " + ct, Json(415, {{"detail", "unsupported media type"}}));
  }
  std::string body, err;
  if (!DecodeBody(req, &body, &err)) return bad(err);
  if (body.size() > (200u << 20)) {
    return Reject(413, "envelope over 200 MiB", Json(413, {{"detail", "envelope exceeded size limits"}}));
  }
  if (body.find('\r') != std::string::npos) return bad("carriage return in the envelope");
  // Envelope = Headers { "\n" Item } [ "\n" ]
  size_t nl = body.find('\n');
  std::string head_line = body.substr(0, nl);
  json head = json::parse(head_line, nullptr, false);
  if (!head.is_object()) return bad("envelope header is not a JSON object");
  size_t sent_at = 0;
  for (size_t p = head_line.find("\"sent_at\""); p != std::string::npos;
       p = head_line.find("\"sent_at\"", p + 1)) {
    ++sent_at;
  }
  if (sent_at != 1) return bad("sent_at must be given exactly once");
  pos = nl == std::string::npos ? body.size() : nl + 1;
  int events = 0;
  json event;
  while (pos < body.size()) {
    size_t e = body.find('\n', pos);
    std::string item_line = body.substr(pos, e == std::string::npos ? std::string::npos : e - pos);
    if (item_line.empty() && e == std::string::npos) break;
    json item = json::parse(item_line, nullptr, false);
    if (!item.is_object() || !item.contains("type") || !item["type"].is_string()) {
      return bad("item header without a type");
    }
    pos = e == std::string::npos ? body.size() : e + 1;
    std::string payload;
    if (item.contains("length")) {
      if (!item["length"].is_number_unsigned()) return bad("item length is not a byte count");
      size_t len = item["length"].get<size_t>();
      if (pos + len > body.size()) return bad("item length runs past the envelope");
      payload = body.substr(pos, len);
      pos += len;
      if (pos < body.size()) {
        if (body[pos] != '\n') return bad("a length-prefixed payload not followed by a newline");
        ++pos;
      }
    } else {
      size_t pe = body.find('\n', pos);
      payload = body.substr(pos, pe == std::string::npos ? std::string::npos : pe - pos);
      pos = pe == std::string::npos ? body.size() : pe + 1;
    }
    if (item["type"] == "event") {
      ++events;
      if (payload.size() > (1u << 20)) {
        return Reject(413, "event item over 1 MiB", Json(413, {{"detail", "envelope exceeded size limits"}}));
      }
      event = json::parse(payload, nullptr, false);
    }
  }
  if (events != 1) return bad("expected exactly one event item, got " + std::to_string(events));
  if (!event.is_object()) return bad("event payload is not JSON");
  std::string id = head.value("event_id", "");
  if (!IsHex32(id)) return bad("envelope event_id is not 32 lowercase hex");
  if (event.value("event_id", "") != id) return bad("event_id differs from the envelope's");
  if (!event.contains("timestamp") || !event.contains("platform")) {
    return bad("event without timestamp or platform");
  }
  static const std::set<std::string> kLevels = {"fatal", "error", "warning", "info", "debug"};
  if (event.contains("level") && !kLevels.count(event.value("level", ""))) return bad("level");
  if (event.contains("tags")) {
    if (!event["tags"].is_object()) return bad("tags is not an object");
    for (const auto& [k, v] : event["tags"].items()) {
      if (!v.is_string() || k.size() > 200 || v.get<std::string>().size() > 200) {
        return bad("tag " + k + " is not a string of at most 200 characters");
      }
    }
  }
  if (event.contains("message") &&
      event["message"].value("formatted", "").size() > 8192) {
    return bad("message over 8192 characters");
  }
  return Accept(event, "sentry", Json(200, {{"id", id}}));
}

// ---- Datadog (§2 (e))

HttpReply DatadogModel::Handle(const HttpRequest& req) {
  auto bad = [&](const std::string& why) {
    return Reject(400, why, Json(400, {{"errors", {why}}}));
  };
  if (req.method != "POST") return Reject(405, "method", Json(405, {{"errors", {"Method Not Allowed"}}}));
  std::string path = req.path.substr(0, req.path.find('?'));
  bool events = path == "/api/v1/events", series = path == "/api/v2/series";
  if (!events && !series) return Reject(404, "path " + path, Json(404, {{"errors", {"Not found"}}}));
  if (Header(req, "dd-api-key") != key_) {
    return Reject(403, "DD-API-KEY", Json(403, {{"errors", {"Forbidden"}}}));
  }
  if (Header(req, "content-type") != "application/json") {
    return Reject(415, "content type", Json(415, {{"errors", {"Unsupported Media Type"}}}));
  }
  if (req.body.size() > 512000) {
    return Reject(413, "wire size", Json(413, {{"errors", {"Payload too large"}}}));
  }
  if (events && HasHeader(req, "content-encoding")) {
    // Compression of event posts is not documented.
    return Reject(415, "compressed event", Json(415, {{"errors", {"Unsupported Media Type"}}}));
  }
  std::string body, err;
  if (!DecodeBody(req, &body, &err)) return bad(err);
  if (body.size() >= 5242880) {
    return Reject(413, "decompressed size", Json(413, {{"errors", {"Payload too large"}}}));
  }
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return bad("Invalid JSON");
  int64_t now = NowSeconds();
  auto tags_ok = [](const json& t) {
    if (!t.is_array()) return false;
    for (const json& s : t) {
      if (!s.is_string() || s.get<std::string>().find(':') == std::string::npos ||
          s.get<std::string>().size() > 200) {
        return false;
      }
    }
    return true;
  };
  if (events) {
    if (!j.contains("title") || !j["title"].is_string() || !j.contains("text") ||
        !j["text"].is_string()) {
      return bad("title and text are required strings");
    }
    if (j["text"].get<std::string>().size() > 4000) return bad("text over 4000 characters");
    if (j.contains("aggregation_key") &&
        (!j["aggregation_key"].is_string() || j["aggregation_key"].get<std::string>().size() > 100)) {
      return bad("aggregation_key over 100 characters");
    }
    static const std::set<std::string> kTypes = {"error", "warning", "info", "success",
                                                 "user_update", "recommendation", "snapshot"};
    if (j.contains("alert_type") && !kTypes.count(j.value("alert_type", ""))) return bad("alert_type");
    if (j.contains("priority") && j["priority"] != "normal" && j["priority"] != "low") {
      return bad("priority");
    }
    if (j.contains("date_happened")) {
      if (!j["date_happened"].is_number_integer()) return bad("date_happened is not an integer");
      int64_t t = j["date_happened"].get<int64_t>();
      if (t < now - 18 * 3600 || t > now + 600) return bad("date_happened out of range");
    }
    if (j.contains("tags") && !tags_ok(j["tags"])) return bad("tags must be key:value strings");
    return Accept(j, "datadog.events",
                  Json(202, {{"status", "ok"},
                             {"event", {{"id", 1}, {"title", j["title"]}}}}));
  }
  if (!j.contains("series") || !j["series"].is_array() || j["series"].empty()) {
    return bad("series must be a non-empty array");
  }
  for (const json& s : j["series"]) {
    if (!s.is_object() || !s.contains("metric") || !s["metric"].is_string()) return bad("metric");
    int type = s.value("type", 0);
    if (type < 0 || type > 3) return bad("type");
    if ((type == 1 || type == 2) &&
        (!s.contains("interval") || !s["interval"].is_number_integer() || s["interval"] <= 0)) {
      return bad("interval is required for counts and rates");
    }
    if (!s.contains("points") || !s["points"].is_array() || s["points"].empty()) return bad("points");
    for (const json& p : s["points"]) {
      if (!p.contains("timestamp") || !p["timestamp"].is_number_integer()) return bad("timestamp");
      int64_t t = p["timestamp"].get<int64_t>();
      if (t < now - 3600 || t > now + 600) return bad("timestamp out of range");
      if (!p.contains("value") || !p["value"].is_number() ||
          !std::isfinite(p["value"].get<double>())) {
        return bad("value");
      }
    }
    if (s.contains("tags") && !tags_ok(s["tags"])) return bad("tags must be key:value strings");
    if (s.contains("resources")) {
      for (const json& r : s["resources"]) {
        if (!r.contains("name") || !r.contains("type")) return bad("resources need name and type");
      }
    }
  }
  return Accept(j, "datadog.series", Json(202, {{"errors", json::array()}}));
}

// ---- New Relic (§3 (e))

HttpReply NewRelicModel::Handle(const HttpRequest& req) {
  auto bad = [&](const std::string& why) {
    return Reject(400, why, Json(400, {{"success", false}, {"error", why}}));
  };
  if (req.method != "POST") return Reject(405, "method", Json(405, {{"error", "Method Not Allowed"}}));
  std::string path = req.path.substr(0, req.path.find('?'));
  bool events = path == "/v1/accounts/" + account_ + "/events", metrics = path == "/metric/v1";
  if (!events && !metrics) return Reject(404, "path " + path, Json(404, {{"error", "Not Found"}}));
  bool authed = insert_ ? events && Header(req, "x-insert-key") == key_
                        : Header(req, "api-key") == key_;
  if (!authed) return Reject(403, "key", Json(403, {{"error", "Invalid license key"}}));
  if (Header(req, "content-type") != "application/json") {
    return Reject(415, "content type", Json(415, {{"error", "Unsupported Media Type"}}));
  }
  if (!HasHeader(req, "content-length")) {
    return Reject(411, "no Content-Length", Json(411, {{"error", "Length Required"}}));
  }
  if (std::stoul(Header(req, "content-length")) != req.body.size()) return bad("Content-Length");
  if (req.body.size() > 1000000) {
    return Reject(413, "over 10^6 bytes", Json(413, {{"error", "Request Entity Too Large"}}));
  }
  std::string body, err;
  if (!DecodeBody(req, &body, &err)) return bad(err);
  json j = json::parse(body, nullptr, false);
  if (!j.is_array()) return bad("the body must be a JSON array");
  if (events) {
    static const std::regex kType("[A-Za-z0-9_:]+");
    for (const json& e : j) {
      if (!e.is_object()) return bad("events must be objects");
      if (!e.contains("eventType") || !e["eventType"].is_string() ||
          !std::regex_match(e["eventType"].get<std::string>(), kType)) {
        return bad("eventType");
      }
      if (e.size() > 255) return bad("over 255 attributes");
      bool tagged = false;
      for (const auto& [k, v] : e.items()) {
        if (k.size() > 255) return bad("attribute name over 255 characters");
        if (!v.is_string() && !v.is_number() && !v.is_boolean()) {
          return bad("attribute " + k + " is not flat");
        }
        if (v.is_string() && v.get<std::string>().size() > 4096) return bad("value over 4096");
        if (k.rfind("aggregationTag.", 0) == 0) tagged = true;
      }
      if (e["eventType"] == "NrAiIncidentExternal") {
        std::string state = e.value("state", "");
        if (state != "trigger" && state != "resolve") return bad("state");
        if (state == "trigger" && (!e.contains("title") || !e.contains("source"))) {
          return bad("title and source are required on trigger");
        }
        if (!tagged) return bad("at least one aggregationTag.* is required");
        if (e.contains("priority")) {
          static const std::set<std::string> kP = {"low", "medium", "high", "critical"};
          if (!kP.count(e.value("priority", ""))) return bad("priority");
        }
      }
    }
    return Accept(j, "newrelic.events",
                  Json(200, {{"success", true}, {"uuid", "3e4b5c6d-0000-4000-8000-000000000000"}}));
  }
  int64_t now_ms = NowSeconds() * 1000;
  static const std::set<std::string> kRestricted = {
      "newrelic.source", "metricName", "endTimestamp", "interval.ms", "timestamp", "value",
      "count", "sum", "min", "max"};
  for (const json& m : j) {
    if (!m.is_object() || !m.contains("metrics") || !m["metrics"].is_array() ||
        m["metrics"].empty()) {
      return bad("every map needs a non-empty metrics");
    }
    json common = m.value("common", json::object());
    for (const json& p : m["metrics"]) {
      if (!p.contains("name") || !p["name"].is_string() || p["name"].get<std::string>().size() >= 255) {
        return bad("name");
      }
      std::string type = p.value("type", "gauge");
      if (type != "gauge" && type != "count" && type != "summary") return bad("type");
      bool interval = p.contains("interval.ms") || common.contains("interval.ms");
      if ((type == "count" || type == "summary") && !interval) return bad("interval.ms");
      if (!p.contains("value")) return bad("value");
      if (type == "summary") {
        for (const char* f : {"count", "sum", "min", "max"}) {
          if (!p["value"].contains(f) || !p["value"][f].is_number()) return bad("summary value");
        }
      } else if (!p["value"].is_number() || !std::isfinite(p["value"].get<double>())) {
        return bad("value");
      }
      json ts = p.contains("timestamp") ? p["timestamp"] : common.value("timestamp", json());
      if (!ts.is_null()) {
        if (!ts.is_number_integer()) return bad("timestamp");
        int64_t t = ts.get<int64_t>();
        if (t < now_ms - 48 * 3600 * 1000LL || t > now_ms + 24 * 3600 * 1000LL) {
          return bad("timestamp out of range");
        }
      }
      json attrs = common.value("attributes", json::object());
      json own = p.value("attributes", json::object());  // a named object: items() refers to it
      for (const auto& [k, v] : own.items()) attrs[k] = v;
      if (attrs.size() > 100) return bad("over 100 attributes");
      for (const auto& [k, v] : attrs.items()) {
        if (kRestricted.count(k) || k == p["name"]) return bad("restricted attribute " + k);
        if (!v.is_string() && !v.is_number() && !v.is_boolean()) return bad("attribute " + k);
      }
    }
  }
  return Accept(j, "newrelic.metrics",
                Json(202, {{"requestId", "3e4b5c6d-0000-4000-8000-000000000001"}}));
}

}  // namespace gridprobe::testing
