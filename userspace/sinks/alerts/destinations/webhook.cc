// webhook: the notification JSON (docs/alerts.md) POSTed to `url`, signed
// with HMAC-SHA256 in X-Gridprobe-Signature when a `secret` is set.
#include "absl/strings/str_cat.h"
#include "userspace/sinks/alerts/destination.h"

namespace gridprobe::alerts {
namespace {

class Webhook : public Destination {
 public:
  Webhook(std::string url, std::string secret) : url_(std::move(url)), secret_(std::move(secret)) {}

  absl::StatusOr<Request> Format(const Notification& n) override {
    Request r;
    r.url = url_;
    r.body = NotificationJson(n).dump();
    r.headers = {"Content-Type: application/json", absl::StrCat("User-Agent: ", UserAgent()),
                 absl::StrCat("X-Gridprobe-Event: ", n.event.value("kind", "")),
                 absl::StrCat("X-Gridprobe-Incident: ", IncidentStateName(n.incident.state))};
    if (!secret_.empty()) {
      r.headers.push_back(
          absl::StrCat("X-Gridprobe-Signature: sha256=", HmacSha256Hex(secret_, r.body)));
    }
    return r;
  }

 private:
  std::string url_, secret_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Destination>> Make_webhook(const DestinationOptions& options,
                                                          Redactor* redactor) {
  if (options.url.empty()) return absl::InvalidArgumentError("webhook needs 'url'");
  std::string secret;
  if (auto it = options.keys.find("secret"); it != options.keys.end()) secret = it->second;
  redactor->Add(secret);
  redactor->AddUrl(options.url);
  return std::make_unique<Webhook>(options.url, secret);
}

}  // namespace gridprobe::alerts
