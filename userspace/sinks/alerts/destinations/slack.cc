// slack: an incoming webhook (the URL is the credential), Block Kit text
// with a plain `text` fallback for notifications.
#include "absl/strings/str_cat.h"
#include "userspace/sinks/alerts/destination.h"

namespace gridprobe::alerts {
namespace {

class Slack : public Destination {
 public:
  explicit Slack(std::string url) : url_(std::move(url)) {}

  absl::StatusOr<Request> Format(const Notification& n) override {
    const nlohmann::json& e = n.event;
    bool resolved = n.incident.state == IncidentState::kResolved;
    std::string severity = e.value("severity", "");
    std::string icon = resolved ? ":white_check_mark:" : ":rotating_light:";
    std::string message = e.value("message", "");
    std::string host = e.contains("target") ? e["target"].value("comm", "") : "";
    std::string text = absl::StrCat(icon, " [", resolved ? "resolved" : severity, "] ", message);
    std::string detail = absl::StrCat("*gridprobe* ", FamilyLabel(e), " ",
                                      IncidentStateName(n.incident.state), "\n*subject:* `",
                                      Subject(e), "`  *severity:* ", severity, "  *target:* ",
                                      host, "\n", message);
    if (n.incident.folded > 0) absl::StrAppend(&detail, "\n_", n.incident.folded, " repeats folded_");
    nlohmann::json body = {
        {"text", text},
        {"blocks",
         {{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", detail}}}}}}};
    Request r;
    r.url = url_;
    r.body = body.dump();
    r.headers = {"Content-Type: application/json", absl::StrCat("User-Agent: ", UserAgent())};
    return r;
  }

 private:
  std::string url_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Destination>> Make_slack(const DestinationOptions& options,
                                                        Redactor* redactor) {
  if (options.url.empty()) return absl::InvalidArgumentError("slack needs 'url'");
  redactor->Add(options.url);  // the whole URL is the credential
  size_t scheme = options.url.find("://");
  if (scheme != std::string::npos) {
    size_t path = options.url.find('/', scheme + 3);
    if (path != std::string::npos) {
      redactor->Add(options.url.substr(path));
      // The token alone, as a receiver's error message may quote it
      // ("invalid_token ..."): the last segment of /services/T../B../token.
      std::string last = options.url.substr(options.url.find_last_of('/') + 1);
      last = last.substr(0, last.find('?'));
      if (last.size() >= 8) redactor->Add(last);
    }
  }
  return std::make_unique<Slack>(options.url);
}

}  // namespace gridprobe::alerts
