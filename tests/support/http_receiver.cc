#include "tests/support/http_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace gridprobe::testing {
namespace {

// Listens on 127.0.0.1:*port, or a free port when *port is 0.
int Listen(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(*port));
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

}  // namespace

int RefusingPort() {
  int port = 0;
  int fd = Listen(&port);
  close(fd);
  return port;
}

HttpReceiver::HttpReceiver() {
  port_ = 0;
  listen_fd_ = Listen(&port_);
  listen(listen_fd_, 16);
  thread_ = std::thread([this] { Serve(); });
}

HttpReceiver::~HttpReceiver() {
  stop_ = true;
  thread_.join();
  if (!is_down_) close(listen_fd_);
}

std::string HttpReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void HttpReceiver::Script(std::vector<HttpReply> replies) {
  std::lock_guard<std::mutex> lock(mu_);
  script_.assign(replies.begin(), replies.end());
}

void HttpReceiver::SetFallback(HttpReply reply) {
  std::lock_guard<std::mutex> lock(mu_);
  fallback_ = std::move(reply);
}

void HttpReceiver::SetHandler(std::function<HttpReply(const HttpRequest&)> handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

std::vector<HttpRequest> HttpReceiver::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

bool HttpReceiver::WaitFor(size_t n) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return requests_.size() >= n; });
}

void HttpReceiver::Down() {
  want_down_ = true;
  while (!is_down_) usleep(1000);
}

void HttpReceiver::Up() {
  want_down_ = false;
  while (is_down_) usleep(1000);
}

void HttpReceiver::Serve() {
  while (!stop_) {
    if (want_down_ != is_down_) {
      if (want_down_) {
        close(listen_fd_);
      } else {
        int port = port_;
        listen_fd_ = Listen(&port);
        listen(listen_fd_, 16);
      }
      is_down_ = want_down_.load();
    }
    if (is_down_) {
      usleep(10000);
      continue;
    }
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Handle(fd);
    close(fd);
  }
}

void HttpReceiver::Handle(int fd) {
  std::string data;
  char buf[4096];
  size_t header_end = std::string::npos;
  size_t content_length = 0;
  auto read_some = [&] {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return false;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    data.append(buf, static_cast<size_t>(n));
    return true;
  };
  while (header_end == std::string::npos) {
    if (!read_some()) return;
    header_end = data.find("\r\n\r\n");
  }
  HttpRequest req;
  std::string head = data.substr(0, header_end);
  size_t line_end = head.find("\r\n");
  std::string first = head.substr(0, line_end);
  size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
  req.method = first.substr(0, sp1);
  req.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      req.headers[name] = value;
      if (name == "content-length") content_length = std::strtoul(value.c_str(), nullptr, 10);
    }
    pos = e + 2;
  }
  while (data.size() < header_end + 4 + content_length) {
    if (!read_some()) break;
  }
  req.body = data.substr(header_end + 4, content_length);
  HttpReply reply;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!script_.empty()) {
      reply = script_.front();
      script_.pop_front();
    } else if (handler_) {
      reply = handler_(req);
    } else {
      reply = fallback_;
    }
    requests_.push_back(req);
    cv_.notify_all();
  }
  if (reply.hang) {
    // Until the client hangs up (or the receiver stops).
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) > 0 && read(fd, buf, sizeof buf) <= 0) break;
    }
    return;
  }
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\n";
  for (const std::string& h : reply.headers) out += h + "\r\n";
  out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n";
  out += reply.body;
  size_t off = 0;
  while (off < out.size()) {
    ssize_t w = write(fd, out.data() + off, out.size() - off);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
}

}  // namespace gridprobe::testing
