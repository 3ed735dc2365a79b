// A real Alertmanager (Debian's prometheus-alertmanager) on a loopback
// port, for the tests that check what it shows in /api/v2/alerts.
#ifndef GRIDPROBE_TESTS_SUPPORT_ALERTMANAGER_H_
#define GRIDPROBE_TESTS_SUPPORT_ALERTMANAGER_H_

#include <sys/types.h>

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace gridprobe::testing {

inline constexpr const char* kAlertmanagerBin = "/usr/bin/prometheus-alertmanager";

// GET url -> (status, body); status 0 when nothing answered.
std::pair<long, std::string> HttpGet(const std::string& url);

class Alertmanager {
 public:
  // Starts it with its data and log under `dir`; ready() says whether it
  // answered /-/ready within 10 s.
  explicit Alertmanager(const std::string& dir);
  ~Alertmanager();  // SIGTERM, then waits
  bool ready() const { return ready_; }
  const std::string& url() const { return url_; }
  std::string log() const;
  // The alerts of /api/v2/alerts whose label gridprobe_key contains `key`.
  nlohmann::json Alerts(const std::string& key) const;

 private:
  std::string dir_, url_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

}  // namespace gridprobe::testing

#endif  // GRIDPROBE_TESTS_SUPPORT_ALERTMANAGER_H_
