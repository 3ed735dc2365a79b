// exec: runs `command` (with /bin/sh -c) with the notification JSON on its
// stdin; the sink applies the timeout and counts the exit status.
#include "userspace/sinks/alerts/destination.h"

namespace gridprobe::alerts {
namespace {

class Exec : public Destination {
 public:
  explicit Exec(std::string command) : command_(std::move(command)) {}
  Channel channel() const override { return Channel::kExec; }

  absl::StatusOr<Request> Format(const Notification& n) override {
    Request r;
    r.url = command_;
    r.body = NotificationJson(n).dump() + "\n";
    return r;
  }

 private:
  std::string command_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Destination>> Make_exec(const DestinationOptions& options,
                                                       Redactor* redactor) {
  auto it = options.keys.find("command");
  if (it == options.keys.end() || it->second.empty()) {
    return absl::InvalidArgumentError("exec needs 'command'");
  }
  return std::make_unique<Exec>(it->second);
}

}  // namespace gridprobe::alerts
