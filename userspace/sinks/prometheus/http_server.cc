#include "userspace/sinks/prometheus/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status.h"

namespace gridprobe::prometheus {
namespace {

constexpr size_t kMaxRequest = 8192;
constexpr int kIoTimeoutMs = 2000;

absl::Status BadAddress(const std::string& what, const std::string& text, const char* why) {
  return WithExitCode(
      absl::InvalidArgumentError(absl::StrCat(
          what, " '", text, "': ", why, "; give HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464")),
      ExitCode::kUsage);
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    default:
      return "Internal Server Error";
  }
}

// Whether the request's Accept-Encoding names gzip (q=0 is not checked:
// no scraper sends it).
bool AcceptsGzip(const std::string& request) {
  const std::string lower = absl::AsciiStrToLower(request);
  const size_t at = lower.find("\r\naccept-encoding:");
  if (at == std::string::npos) return false;
  const size_t end = lower.find("\r\n", at + 2);
  return lower.substr(at, end - at).find("gzip") != std::string::npos;
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::optional<std::string> Gzip(const std::string& body) {
  z_stream z{};
  // 15 + 16: a gzip header and trailer; level 1: the page is repetitive
  // enough that faster levels lose little.
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return std::nullopt;
  std::string out(deflateBound(&z, body.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& text, const std::string& what) {
  ListenAddress a;
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return BadAddress(what, text, "an IPv6 address needs brackets and a port");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) return BadAddress(what, text, "no port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return BadAddress(what, text, "an IPv6 address needs brackets");
    }
  }
  uint32_t p = 0;
  if (!absl::SimpleAtoi(port, &p) || p > 65535) return BadAddress(what, text, "bad port");
  if (host.empty()) return BadAddress(what, text, "no host (all interfaces is 0.0.0.0)");
  a.host = host;
  a.port = static_cast<uint16_t>(p);
  if (absl::AsciiStrToLower(host) == "localhost") host = "127.0.0.1";
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(a.port);
    a.loopback = (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
    std::memcpy(&a.addr, &v4, sizeof(v4));
    a.addr_len = sizeof(v4);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(a.port);
    a.loopback = IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr);
    std::memcpy(&a.addr, &v6, sizeof(v6));
    a.addr_len = sizeof(v6);
  } else {
    return BadAddress(what, text, "the host is not an IP address or localhost");
  }
  return a;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const ListenAddress& address,
                                                              const std::string& what,
                                                              std::string path, Handler handler,
                                                              bool gzip) {
  const std::string where = absl::StrCat(what, " ", address.host, ":", address.port);
  int fd = socket(address.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError(errno, absl::StrCat(where, ": socket"), ExitCode::kOutputFailed);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address.addr), address.addr_len) != 0) {
    const int err = errno;
    close(fd);
    if (err == EADDRINUSE) {
      return WithExitCode(absl::UnavailableError(absl::StrCat(
                              where, ": the port is in use by another program; choose a free one")),
                          ExitCode::kOutputFailed);
    }
    return ErrnoError(err, absl::StrCat(where, ": bind"), ExitCode::kOutputFailed);
  }
  if (listen(fd, 16) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoError(err, absl::StrCat(where, ": listen"), ExitCode::kOutputFailed);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const uint16_t port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  int wake[2];
  if (pipe2(wake, O_CLOEXEC) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoError(err, absl::StrCat(where, ": pipe"), ExitCode::kOutputFailed);
  }
  std::unique_ptr<HttpServer> server(
      new HttpServer(fd, wake[0], wake[1], port, std::move(path), std::move(handler), gzip));
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

HttpServer::HttpServer(int listen_fd, int wake_read, int wake_write, uint16_t port,
                       std::string path, Handler handler, bool gzip)
    : listen_fd_(listen_fd),
      wake_read_(wake_read),
      wake_write_(wake_write),
      port_(port),
      path_(std::move(path)),
      handler_(std::move(handler)),
      gzip_(gzip) {}

HttpServer::~HttpServer() {
  char c = 0;
  while (write(wake_write_, &c, 1) < 0 && errno == EINTR) {
  }
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  close(wake_read_);
  close(wake_write_);
}

void HttpServer::Serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    HandleConnection(fd);
    close(fd);
  }
}

void HttpServer::HandleConnection(int fd) {
  timeval tv{kIoTimeoutMs / 1000, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::string request;
  char buf[2048];
  while (request.find("\r\n\r\n") == std::string::npos) {
    if (request.size() > kMaxRequest) return;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // closed, or slower than the timeout
    request.append(buf, static_cast<size_t>(n));
  }
  ++requests_;
  const std::string line = request.substr(0, request.find("\r\n"));
  std::vector<std::string> parts = absl::StrSplit(line, ' ');
  HttpResponse r;
  bool head = false;
  if (parts.size() != 3 || !absl::StartsWith(parts[2], "HTTP/1.")) {
    r = {400, "text/plain; charset=utf-8", "bad request\n"};
  } else if (parts[0] != "GET" && parts[0] != "HEAD") {
    r = {405, "text/plain; charset=utf-8", "only GET and HEAD\n"};
  } else {
    head = parts[0] == "HEAD";
    const std::string target = parts[1].substr(0, parts[1].find('?'));
    if (target == path_) {
      r = handler_();
    } else {
      r = {404, "text/plain; charset=utf-8", absl::StrCat("gridprobe serves ", path_, "\n")};
    }
  }
  bool gzipped = false;
  if (gzip_ && r.body.size() > 1024 && AcceptsGzip(request)) {
    if (std::optional<std::string> z = Gzip(r.body)) {
      r.body = *std::move(z);
      gzipped = true;
      ++gzipped_;
    }
  }
  std::string out = absl::StrCat(
      "HTTP/1.1 ", r.status, " ", Reason(r.status), "\r\nContent-Type: ", r.content_type,
      gzipped ? "\r\nContent-Encoding: gzip" : "", "\r\nContent-Length: ", r.body.size(), "\r\n");
  if (r.status == 405) out.append("Allow: GET, HEAD\r\n");
  out.append("Connection: close\r\n\r\n");
  if (!head) out.append(r.body);
  WriteAll(fd, out);
}

}  // namespace gridprobe::prometheus
