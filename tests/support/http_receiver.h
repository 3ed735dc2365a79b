// A loopback HTTP/1.1 receiver for delivery tests: records every request
// and answers from a script (status, headers, body; or hangs; or closes).
#ifndef GRIDPROBE_TESTS_SUPPORT_HTTP_RECEIVER_H_
#define GRIDPROBE_TESTS_SUPPORT_HTTP_RECEIVER_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gridprobe::testing {

struct HttpRequest {
  std::string method, path;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

struct HttpReply {
  HttpReply(int status = 200, std::vector<std::string> headers = {}, std::string body = "",
            bool hang = false)
      : status(status), headers(std::move(headers)), body(std::move(body)), hang(hang) {}
  int status = 200;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  bool hang = false;  // never answer (until the client gives up)
};

class HttpReceiver {
 public:
  HttpReceiver();  // listens on 127.0.0.1, a free port
  ~HttpReceiver();
  int port() const { return port_; }
  std::string url(const std::string& path = "") const;
  // Replies used in order; when none is left, `fallback`.
  void Script(std::vector<HttpReply> replies);
  void SetFallback(HttpReply reply);
  // Answers every request the script does not: a model of a real service
  // that checks the request and answers as the service would.
  void SetHandler(std::function<HttpReply(const HttpRequest&)> handler);
  std::vector<HttpRequest> Requests() const;
  // Waits (up to 30 s) until `n` requests arrived; returns whether they did.
  bool WaitFor(size_t n) const;
  // Down: the port is closed (connections refused) until Up() listens on
  // the same port again. Both return once it is so.
  void Down();
  void Up();

 private:
  void Serve();
  void Handle(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> want_down_{false}, is_down_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<HttpReply> script_;
  HttpReply fallback_;
  std::function<HttpReply(const HttpRequest&)> handler_;
  std::vector<HttpRequest> requests_;
  std::thread thread_;
};

// A loopback port nothing listens on (bound, then closed).
int RefusingPort();

}  // namespace gridprobe::testing

#endif  // GRIDPROBE_TESTS_SUPPORT_HTTP_RECEIVER_H_
