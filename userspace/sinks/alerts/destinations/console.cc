// console: one line per notification on stderr, coloured on a terminal.
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "userspace/sinks/alerts/destination.h"

namespace gridprobe::alerts {
namespace {

class Console : public Destination {
 public:
  explicit Console(std::string name) : name_(std::move(name)), colour_(isatty(2) == 1) {}
  Channel channel() const override { return Channel::kConsole; }

  absl::StatusOr<Request> Format(const Notification& n) override {
    std::string severity = n.event.value("severity", "");
    const char* colour = "";
    if (colour_) {
      colour = n.incident.state == IncidentState::kResolved ? "\033[32m"
               : severity == "warning"                      ? "\033[33m"
                                                            : "\033[31m";
    }
    std::string folded =
        n.incident.folded > 0 ? absl::StrCat(" (", n.incident.folded, " repeats folded)") : "";
    Request r;
    r.body = absl::StrCat(colour, "gridprobe: alert ", IncidentStateName(n.incident.state), " [",
                          severity, "] ", n.event.value("message", ""), folded,
                          colour_ ? "\033[0m" : "", "\n");
    return r;
  }

 private:
  std::string name_;
  bool colour_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Destination>> Make_console(const DestinationOptions& options,
                                                          Redactor* redactor) {
  return std::make_unique<Console>(options.name);
}

}  // namespace gridprobe::alerts
