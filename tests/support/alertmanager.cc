#include "tests/support/alertmanager.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/support/http_receiver.h"

namespace gridprobe::testing {
namespace {

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

std::pair<long, std::string> HttpGet(const std::string& url) {
  std::string body;
  long status = 0;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  return {status, body};
}

Alertmanager::Alertmanager(const std::string& dir) : dir_(dir) {
  std::ofstream(dir_ + "/am.yml")
      << "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n";
  int port = RefusingPort();
  url_ = "http://127.0.0.1:" + std::to_string(port);
  pid_ = fork();
  if (pid_ == 0) {
    std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
    std::string config = "--config.file=" + dir_ + "/am.yml";
    std::string storage = "--storage.path=" + dir_ + "/data";
    if (freopen((dir_ + "/am.log").c_str(), "w", stderr) == nullptr) _exit(126);
    execl(kAlertmanagerBin, kAlertmanagerBin, config.c_str(), storage.c_str(), listen.c_str(),
          "--cluster.listen-address=", static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 200 && HttpGet(url_ + "/-/ready").first != 200; ++i) usleep(50000);
  ready_ = HttpGet(url_ + "/-/ready").first == 200;
}

Alertmanager::~Alertmanager() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

std::string Alertmanager::log() const {
  std::ifstream in(dir_ + "/am.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json Alertmanager::Alerts(const std::string& key) const {
  nlohmann::json ours = nlohmann::json::array();
  auto [status, body] = HttpGet(url_ + "/api/v2/alerts");
  if (status != 200) return ours;
  nlohmann::json all = nlohmann::json::parse(body, nullptr, false);
  if (!all.is_array()) return ours;
  for (const auto& a : all) {
    if (a["labels"].value("gridprobe_key", "").find(key) != std::string::npos) ours.push_back(a);
  }
  return ours;
}

}  // namespace gridprobe::testing
