// The smallest HTTP/1.1 server that serves a scrape: one thread, one
// connection at a time, GET/HEAD of /metrics, every response closes its
// connection; with `gzip`, a body over 1 KiB is gzipped when the request
// accepts it (Prometheus does). Requests over 8 KiB or slower than 2 s are dropped, so a
// stuck client delays the next scrape by at most that.
#ifndef GRIDPROBE_USERSPACE_SINKS_PROMETHEUS_HTTP_SERVER_H_
#define GRIDPROBE_USERSPACE_SINKS_PROMETHEUS_HTTP_SERVER_H_

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace gridprobe::prometheus {

struct ListenAddress {
  std::string host;   // as given: "127.0.0.1", "::1", "localhost", "0.0.0.0"
  uint16_t port = 0;  // 0: any free port
  bool loopback = false;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
};

// "HOST:PORT" with HOST an IPv4 address, "[IPv6]" or "localhost".
// `what` names the setting in errors ("--prometheus"). kUsage on bad text.
// `body` in the gzip format (RFC 1952); nullopt if zlib fails.
std::optional<std::string> Gzip(const std::string& body);

absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& text, const std::string& what);

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
};

class HttpServer {
 public:
  // Called on the server's thread for every GET/HEAD of `path`.
  using Handler = std::function<HttpResponse()>;

  // Binds and listens now (a port in use fails here, kOutputFailed, before
  // any probe), then serves on a thread of its own until destroyed.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const ListenAddress& address,
                                                           const std::string& what,
                                                           std::string path, Handler handler,
                                                           bool gzip);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port bound (the one chosen when 0 was asked for).
  uint16_t port() const { return port_; }
  uint64_t requests() const { return requests_.load(); }
  uint64_t gzipped() const { return gzipped_.load(); }

 private:
  HttpServer(int listen_fd, int wake_read, int wake_write, uint16_t port, std::string path,
             Handler handler, bool gzip);
  void Serve();
  void HandleConnection(int fd);

  int listen_fd_;
  int wake_read_;
  int wake_write_;
  uint16_t port_;
  std::string path_;
  Handler handler_;
  bool gzip_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> gzipped_{0};
  std::thread thread_;
};

}  // namespace gridprobe::prometheus

#endif  // GRIDPROBE_USERSPACE_SINKS_PROMETHEUS_HTTP_SERVER_H_
