#include "userspace/sinks/alerts/alerts_sink.h"

#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/yaml_reader.h"
#include "userspace/model/format.h"

namespace gridprobe::alerts {

namespace {

// A notification on its way: formatted once, retried as is.
struct Pending {
  Request request;
  Notification notification;
  std::string outbox_file;  // set when it came from (or went to) the outbox
  bool keepalive = false;
  bool metrics = false;  // a window's metrics: never outboxed
};

// What OnEvent hands the dispatcher.
struct Item {
  std::shared_ptr<const Event> event;
  IncidentInfo incident;
  std::optional<Notification> stored;  // from the outbox
  std::string outbox_file;
  std::optional<Request> metrics;  // a window's metrics, formatted by OnWindow
};

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* s = static_cast<std::string*>(out);
  size_t len = size * n;
  if (s->size() < 1024) s->append(data, std::min(len, 1024 - s->size()));
  return len;
}

size_t Header(char* data, size_t size, size_t n, void* out) {
  size_t len = size * n;
  absl::string_view line(data, len);
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return len;  // the status line, the blank line
  auto* headers = static_cast<std::map<std::string, std::string>*>(out);
  std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon)));
  std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  std::string& slot = (*headers)[name];
  slot = slot.empty() ? value : absl::StrCat(slot, ", ", value);
  return len;
}

// Runs `command` with `input` on its stdin for at most `timeout`.
AttemptResult RunCommand(const std::string& command, const std::string& input,
                         absl::Duration timeout) {
  AttemptResult r;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    r.error = absl::StrCat("pipe: ", strerror(errno));
    r.exit_status = -1;
    return r;
  }
  pid_t pid = fork();
  if (pid < 0) {
    r.error = absl::StrCat("fork: ", strerror(errno));
    r.exit_status = -1;
    close(fds[0]);
    close(fds[1]);
    return r;
  }
  if (pid == 0) {
    setpgid(0, 0);
    dup2(fds[0], 0);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 1);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[0]);
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);  // a command that ignores stdin
  size_t off = 0;
  while (off < input.size()) {
    ssize_t w = write(fds[1], input.data() + off, input.size() - off);
    if (w <= 0 && errno != EINTR) break;
    if (w > 0) off += static_cast<size_t>(w);
  }
  close(fds[1]);
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (true) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (absl::Now() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.timed_out = true;
      r.error = absl::StrCat("killed after ", absl::FormatDuration(timeout));
      r.exit_status = -1;
      return r;
    }
    usleep(5000);
  }
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (*r.exit_status != 0) r.error = absl::StrCat("exit status ", *r.exit_status);
  return r;
}

}  // namespace

struct AlertsSink::Dest {
  DestinationOptions options;
  std::unique_ptr<Destination> destination;
  Redactor redactor;
  EventFilter filter;
  IncidentBook book{absl::Hours(4)};
  // Under mu_: what the outbox gave at start.
  std::deque<Item> queue;
  DestinationStats stats;
  // OnEvent's: notifications in the inbox not yet taken by the dispatcher,
  // and those dropped before it.
  std::atomic<size_t> inbox{0};
  std::atomic<uint64_t> dropped_queue_full{0}, dropped_after_exit{0};
  // The dispatcher's.
  std::deque<Pending> pending;
  bool in_flight = false;
  int attempts = 0;
  absl::Time not_before = absl::InfinitePast();
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string response;
  std::map<std::string, std::string> response_headers;
  char errbuf[CURL_ERROR_SIZE] = {};
  std::thread exec;
  std::atomic<bool> exec_done{false};
  AttemptResult exec_result;
  std::set<long> reported;  // statuses already told on the log
  uint64_t outbox_seq = 0;
};

AlertsSink::AlertsSink(SinkHooks hooks) : hooks_(std::move(hooks)) {
  if (!hooks_.unit) {
    auto gen = std::make_shared<std::mt19937_64>(std::random_device{}());
    hooks_.unit = [gen] { return std::uniform_real_distribution<double>(0, 1)(*gen); };
  }
}

absl::StatusOr<std::unique_ptr<AlertsSink>> AlertsSink::Create(
    std::vector<DestinationOptions> destinations, SinkHooks hooks) {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK) return absl::InternalError("libcurl could not be initialised");
  std::unique_ptr<AlertsSink> sink(new AlertsSink(std::move(hooks)));
  std::set<std::string> names;
  for (DestinationOptions& o : destinations) {
    if (o.name.empty()) o.name = o.type;
    if (!names.insert(o.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "two alert destinations are named '", o.name, "': give each a unique 'name'"));
    }
    auto d = std::make_unique<Dest>();
    absl::StatusOr<EventFilter> filter = EventFilter::Create(o);
    if (!filter.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("alert destination '", o.name, "': ", filter.status().message()));
    }
    d->filter = *filter;
    absl::StatusOr<std::unique_ptr<Destination>> made = MakeDestination(o, &d->redactor);
    if (!made.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("alert destination '", o.name, "': ", made.status().message()));
    }
    d->destination = *std::move(made);
    d->book = IncidentBook(o.repeat_interval);
    d->stats.name = o.name;
    d->stats.type = o.type;
    d->stats.receiver = d->destination->channel() == Channel::kHttp ? ShowUrl(o.url)
                        : d->destination->channel() == Channel::kExec ? "command"
                                                                      : "stderr";
    if (o.insecure && d->destination->channel() == Channel::kHttp) {
      std::fprintf(sink->hooks_.log,
                   "gridprobe: warning: alert destination '%s' has 'insecure: true': TLS "
                   "certificates of %s are not verified\n",
                   o.name.c_str(), d->stats.receiver.c_str());
    }
    d->options = std::move(o);
    sink->dests_.push_back(std::move(d));
  }
  // What a previous run could not deliver goes first, oldest first.
  for (auto& d : sink->dests_) {
    std::string dir = absl::StrCat(d->options.outbox_dir, "/", d->options.name);
    DIR* dp = opendir(dir.c_str());
    if (dp == nullptr) continue;
    std::vector<std::string> files;
    while (dirent* de = readdir(dp)) {
      if (absl::EndsWith(de->d_name, ".json")) files.push_back(de->d_name);
    }
    closedir(dp);
    std::sort(files.begin(), files.end());  // names start with the zero-padded time
    for (const std::string& f : files) {
      std::string path = absl::StrCat(dir, "/", f);
      absl::StatusOr<std::string> text = config::ReadDocument(path);
      absl::StatusOr<Notification> n =
          text.ok() ? ParseNotification(nlohmann::json::parse(*text, nullptr, false))
                    : absl::StatusOr<Notification>(text.status());
      if (!n.ok()) {
        ++d->stats.dropped["outbox_unreadable"];
        std::fprintf(sink->hooks_.log,
                     "gridprobe: alert destination '%s': outbox file %s is unreadable (%s); "
                     "left in place\n",
                     d->options.name.c_str(), path.c_str(),
                     std::string(n.status().message()).c_str());
        continue;
      }
      Item item;
      item.stored = *std::move(n);
      item.outbox_file = path;
      d->queue.push_back(std::move(item));
    }
  }
  for (auto& d : sink->dests_) {
    if (!d->queue.empty()) sink->idle_ = false;
  }
  sink->multi_ = curl_multi_init();
  if (sink->multi_ == nullptr) return absl::InternalError("curl_multi_init failed");
  // The dispatcher (and the exec threads it starts) take no signals:
  // SIGTERM/SIGINT are the agent loop's to read with signalfd; delivered
  // here they would kill gridprobe before the outbox is written.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  sink->dispatcher_ = std::thread([s = sink.get()] { s->Run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return sink;
}

AlertsSink::~AlertsSink() {
  Stop();
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void AlertsSink::OnEvent(const Event& event) {
  absl::Time now = hooks_.now();
  // Decisions first (this thread's alone), then one short lock for one
  // push; the JSON and the requests are the dispatcher's to build.
  Inbound in;
  for (size_t i = 0; i < dests_.size(); ++i) {
    Dest& d = *dests_[i];
    std::optional<IncidentInfo> info = d.book.Decide(event, d.filter.Accepts(event), now);
    if (!info) continue;
    if (closed_.load(std::memory_order_relaxed)) {
      d.dropped_after_exit.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (d.inbox.load(std::memory_order_relaxed) >= d.options.queue_limit) {
      d.dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    d.inbox.fetch_add(1, std::memory_order_relaxed);
    if (in.to.empty()) in.to.reserve(dests_.size());
    in.to.emplace_back(static_cast<uint32_t>(i), *info);
  }
  if (in.to.empty()) return;
  in.event = std::make_shared<const Event>(event);
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    inbox_.push_back(std::move(in));
    inbox_size_.store(inbox_.size(), std::memory_order_seq_cst);
  }
  // A system call only when the dispatcher sleeps.
  if (sleeping_.exchange(false, std::memory_order_seq_cst)) {
    curl_multi_wakeup(static_cast<CURLM*>(multi_));
  }
}

void AlertsSink::OnWindow(const Snapshot& window) {
  // Formatted here, on the sink's thread, so the dispatcher only sends.
  std::vector<std::vector<Request>> batches(dests_.size());
  bool any = false;
  for (size_t i = 0; i < dests_.size(); ++i) {
    if (!dests_[i]->destination->wants_metrics()) continue;
    batches[i] = dests_[i]->destination->Metrics(window);
    any = any || !batches[i].empty();
  }
  if (!any) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < dests_.size(); ++i) {
      Dest& d = *dests_[i];
      for (Request& r : batches[i]) {
        if (d.queue.size() >= d.options.queue_limit || stop_ || draining_) {
          ++d.stats.dropped[stop_ || draining_ ? "after_exit" : "queue_full"];
          continue;
        }
        Item item;
        item.metrics = std::move(r);
        d.queue.push_back(std::move(item));
        idle_ = false;
      }
    }
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

namespace {

// The outbox file of one notification: <dir>/<name>/<time ns>-<seq>.json.
absl::StatusOr<std::string> Persist(const DestinationOptions& o, const Notification& n,
                                    uint64_t seq) {
  std::string dir = absl::StrCat(o.outbox_dir, "/", o.name);
  for (const std::string& d : {o.outbox_dir, dir}) {
    if (mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::InternalError(absl::StrCat("cannot create ", d, ": ", strerror(errno)));
    }
  }
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, n.event.value("time", ""), &t, &err)) t = absl::Now();
  std::string path = absl::StrCat(dir, "/", absl::StrFormat("%020d", absl::ToUnixNanos(t)), "-",
                                  absl::StrFormat("%06d", seq), "-", getpid(), ".json");
  absl::Status s = WriteFileAtomically(path, NotificationJson(n).dump(), 0600);
  if (!s.ok()) return s;
  return path;
}

}  // namespace

void AlertsSink::Run() {
  CURLM* multi = static_cast<CURLM*>(multi_);
  auto outbox = [&](Dest& d, Pending& p) {
    if (p.keepalive) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (p.metrics) {
      ++d.stats.dropped["metrics_undelivered"];
      return;
    }
    if (!p.outbox_file.empty()) {  // already there, from a previous run
      ++d.stats.outboxed;
      return;
    }
    absl::StatusOr<std::string> path = Persist(d.options, p.notification, d.outbox_seq++);
    if (path.ok()) {
      ++d.stats.outboxed;
    } else {
      ++d.stats.dropped["outbox_failed"];
      d.stats.last_error = d.redactor(path.status().message());
    }
  };
  auto complete = [&](Dest& d, const AttemptResult& r) {
    d.in_flight = false;
    Pending& p = d.pending.front();
    absl::Time now = hooks_.now();
    Destination::Answer answer = d.destination->Interpret(r, now);
    Verdict v = answer.verdict;
    // A receiver's rate limit holds every later request too.
    d.not_before = std::max(d.not_before, answer.hold_until);
    std::string what = r.status != 0 ? absl::StrCat("HTTP ", r.status, r.body.empty() ? "" : ": ",
                                                    r.body)
                                     : r.error;
    std::string shown = d.redactor(what);
    bool draining;
    {
      std::lock_guard<std::mutex> lock(mu_);
      draining = draining_;
    }
    if (v == Verdict::kDelivered) {
      std::lock_guard<std::mutex> lock(mu_);
      if (p.keepalive) {
        ++d.stats.refreshed;
      } else if (p.metrics) {
        ++d.stats.metrics_sent;
      } else {
        ++d.stats.sent;
        if (!p.outbox_file.empty()) {
          ++d.stats.redelivered;
          unlink(p.outbox_file.c_str());
        }
      }
    } else if (v == Verdict::kRetry) {
      ++d.attempts;
      if (draining || d.attempts >= d.options.max_attempts) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          d.stats.last_error = shown;
        }
        outbox(d, p);
      } else {
        absl::Duration wait =
            Backoff(d.attempts, d.options.backoff_base, d.options.backoff_cap, hooks_.unit);
        if (std::optional<absl::Duration> ra =
                ParseRetryAfter(r.retry_after, now, d.options.retry_after_cap)) {
          wait = std::max(wait, *ra);
        }
        d.not_before = std::max(now + wait, answer.hold_until);
        std::lock_guard<std::mutex> lock(mu_);
        ++d.stats.retried;
        d.stats.last_error = shown;
        return;  // the same request again later
      }
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      ++d.stats.failed;
      if (r.exit_status.has_value()) ++d.stats.exit_nonzero;
      d.stats.last_error = shown;
      if (!p.outbox_file.empty()) unlink(p.outbox_file.c_str());
      long code = r.exit_status.has_value() ? -2 - *r.exit_status : r.status;
      if (d.reported.insert(code).second) {
        std::fprintf(hooks_.log,
                     "gridprobe: alert destination '%s' (%s, %s) refused a notification: %s; "
                     "not retried\n",
                     d.options.name.c_str(), d.options.type.c_str(), d.stats.receiver.c_str(),
                     shown.c_str());
      }
    }
    d.pending.pop_front();
    d.attempts = 0;
  };
  auto start = [&](Dest& d) {
    Pending& p = d.pending.front();
    switch (d.destination->channel()) {
      case Channel::kConsole: {
        std::fwrite(p.request.body.data(), 1, p.request.body.size(), hooks_.console);
        std::fflush(hooks_.console);
        AttemptResult ok;
        ok.status = 200;
        d.in_flight = true;
        complete(d, ok);
        return;
      }
      case Channel::kExec: {
        d.in_flight = true;
        d.exec_done = false;
        if (d.exec.joinable()) d.exec.join();
        d.exec = std::thread([&d, cmd = p.request.url, body = p.request.body, this] {
          d.exec_result = RunCommand(cmd, body, d.options.timeout);
          d.exec_done = true;
          curl_multi_wakeup(static_cast<CURLM*>(multi_));
        });
        return;
      }
      case Channel::kHttp: break;
    }
    if (d.easy == nullptr) d.easy = curl_easy_init();
    CURL* e = d.easy;
    curl_easy_reset(e);
    d.response.clear();
    d.response_headers.clear();
    d.errbuf[0] = 0;
    if (d.headers != nullptr) curl_slist_free_all(d.headers);
    d.headers = curl_slist_append(nullptr, "Expect:");
    for (const std::string& h : p.request.headers) d.headers = curl_slist_append(d.headers, h.c_str());
    curl_easy_setopt(e, CURLOPT_URL, p.request.url.c_str());
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, p.request.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(p.request.body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, d.headers);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(d.options.connect_timeout)));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(d.options.timeout)));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, d.options.insecure ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, d.options.insecure ? 0L : 2L);
    if (!d.options.ca_bundle.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, d.options.ca_bundle.c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &d.response);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &d.response_headers);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, d.errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &d);
    curl_multi_add_handle(multi, e);
    d.in_flight = true;
  };

  std::vector<Inbound> taken;
  auto take_inbox = [&](const std::function<void(Dest&, Pending)>& each) {
    taken.clear();
    {
      std::lock_guard<std::mutex> lock(inbox_mu_);
      taken.swap(inbox_);
      inbox_size_.store(0, std::memory_order_seq_cst);
    }
    for (Inbound& in : taken) {
      nlohmann::json j = EventJson(*in.event);
      for (size_t k = 0; k < in.to.size(); ++k) {
        Dest& d = *dests_[in.to[k].first];
        d.inbox.fetch_sub(1, std::memory_order_relaxed);
        Pending p;
        p.notification = Notification{k + 1 == in.to.size() ? std::move(j) : j, in.to[k].second};
        each(d, std::move(p));
      }
    }
  };

  while (true) {
    bool stop, draining;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop = stop_;
      draining = draining_;
    }
    if (stop) break;
    // Take what OnEvent queued, format it: the event's JSON once for every
    // destination it goes to.
    take_inbox([&](Dest& d, Pending p) {
      absl::StatusOr<Request> req = d.destination->Format(p.notification);
      if (!req.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        ++d.stats.dropped["unformattable"];
        d.stats.last_error = d.redactor(req.status().message());
        return;
      }
      p.request = *std::move(req);
      d.pending.push_back(std::move(p));
    });
    for (auto& dp : dests_) {
      Dest& d = *dp;
      std::deque<Item> items;
      {
        std::lock_guard<std::mutex> lock(mu_);
        items.swap(d.queue);
      }
      for (Item& item : items) {
        Pending p;
        if (item.metrics) {
          p.request = *std::move(item.metrics);
          p.metrics = true;
          d.pending.push_back(std::move(p));
          continue;
        }
        p.notification = item.stored ? *std::move(item.stored)
                                     : Notification{EventJson(*item.event), item.incident};
        p.outbox_file = item.outbox_file;
        absl::StatusOr<Request> req = d.destination->Format(p.notification);
        if (!req.ok()) {
          std::lock_guard<std::mutex> lock(mu_);
          ++d.stats.dropped["unformattable"];
          d.stats.last_error = d.redactor(req.status().message());
          continue;
        }
        p.request = *std::move(req);
        d.pending.push_back(std::move(p));
      }
    }
    absl::Time now = hooks_.now();
    absl::Duration wait = absl::Milliseconds(200);
    bool idle = true;
    for (auto& dp : dests_) {
      Dest& d = *dp;
      if (!d.in_flight && d.pending.empty() && !draining) {
        for (Request& r : d.destination->KeepAlive(now)) {
          Pending p;
          p.request = std::move(r);
          p.keepalive = true;
          d.pending.push_back(std::move(p));
        }
      }
      if (d.in_flight && d.destination->channel() == Channel::kExec && d.exec_done) {
        complete(d, d.exec_result);
      }
      if (!d.in_flight && !d.pending.empty()) {
        if (now >= d.not_before) {
          start(d);
        } else {
          wait = std::min(wait, d.not_before - now);
        }
      }
      bool only_keepalive = std::all_of(d.pending.begin(), d.pending.end(),
                                        [](const Pending& p) { return p.keepalive; });
      if (!only_keepalive) idle = false;
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      Dest* d = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&d));
      AttemptResult r;
      CURLcode code = m->data.result;
      curl_multi_remove_handle(multi, m->easy_handle);
      if (code == CURLE_OK) {
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &r.status);
        r.body = d->response;
        r.headers = d->response_headers;
        if (auto it = r.headers.find("retry-after"); it != r.headers.end()) {
          r.retry_after = it->second;
        }
      } else {
        r.timed_out = code == CURLE_OPERATION_TIMEDOUT;
        r.error = d->errbuf[0] != 0 ? d->errbuf : curl_easy_strerror(code);
      }
      complete(*d, r);
      idle = false;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      bool queued = inbox_size_.load() > 0 ||
                    std::any_of(dests_.begin(), dests_.end(),
                                [](const auto& d) { return !d->queue.empty(); });
      bool flying = std::any_of(dests_.begin(), dests_.end(),
                                [](const auto& d) { return d->in_flight; });
      idle_ = idle && !queued && !flying;
      if (idle_) idle_cv_.notify_all();
    }
    // Asleep until woken, unless OnEvent pushed meanwhile.
    sleeping_.store(true, std::memory_order_seq_cst);
    if (inbox_size_.load(std::memory_order_seq_cst) == 0) {
      curl_multi_poll(multi, nullptr, 0,
                      static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(wait))),
                      nullptr);
    }
    sleeping_.store(false, std::memory_order_seq_cst);
  }
  // Stopped: what is still on its way goes to the outbox.
  take_inbox([](Dest& d, Pending p) { d.pending.push_back(std::move(p)); });
  for (auto& dp : dests_) {
    Dest& d = *dp;
    if (d.in_flight && d.destination->channel() == Channel::kHttp) {
      curl_multi_remove_handle(multi, d.easy);
    }
    if (d.exec.joinable()) d.exec.join();  // bounded by the command's timeout
    std::deque<Item> items;
    {
      std::lock_guard<std::mutex> lock(mu_);
      items.swap(d.queue);
    }
    for (Item& item : items) {
      Pending p;
      if (item.metrics) {
        p.metrics = true;
        d.pending.push_back(std::move(p));
        continue;
      }
      p.notification = item.stored ? *std::move(item.stored)
                                   : Notification{EventJson(*item.event), item.incident};
      p.outbox_file = item.outbox_file;
      d.pending.push_back(std::move(p));
    }
    for (Pending& p : d.pending) outbox(d, p);
    d.pending.clear();
    if (d.easy != nullptr) curl_easy_cleanup(d.easy);
    if (d.headers != nullptr) curl_slist_free_all(d.headers);
    d.easy = nullptr;
    d.headers = nullptr;
  }
}

void AlertsSink::Drain() {
  absl::Duration limit = absl::ZeroDuration();
  for (auto& d : dests_) limit = std::max(limit, d->options.drain_timeout);
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_) return;
    draining_ = true;
    idle_ = false;  // the dispatcher says when it is, inbox included
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait_for(lock, absl::ToChronoMilliseconds(limit), [this] { return idle_; });
  }
  Stop();
}

void AlertsSink::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    closed_ = true;
  }
  if (multi_ != nullptr) curl_multi_wakeup(static_cast<CURLM*>(multi_));
  if (dispatcher_.joinable()) dispatcher_.join();
}

std::vector<DestinationStats> AlertsSink::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DestinationStats> out;
  for (const auto& d : dests_) {
    DestinationStats s = d->stats;
    s.folded = static_cast<uint64_t>(d->book.folded());
    if (d->book.unmatched() > 0) s.dropped["resolves_nothing_open"] = d->book.unmatched();
    if (uint64_t n = d->dropped_queue_full.load()) s.dropped["queue_full"] += n;
    if (uint64_t n = d->dropped_after_exit.load()) s.dropped["after_exit"] += n;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> AlertsSink::SummaryLines() const {
  std::vector<std::string> lines;
  for (const DestinationStats& s : Stats()) {
    uint64_t dropped = 0;
    for (const auto& [reason, n] : s.dropped) dropped += n;
    std::string line = absl::StrCat("alerts ", s.name, " (", s.type, "): ", s.sent, " sent, ",
                                    s.retried, " retried, ", s.failed, " failed, ", dropped,
                                    " dropped, ", s.folded, " folded, ", s.outboxed, " outboxed");
    if (!s.last_error.empty()) absl::StrAppend(&line, "; last error: ", s.last_error);
    lines.push_back(std::move(line));
  }
  return lines;
}

void AlertsSink::AddToReport(nlohmann::json* report) {
  nlohmann::json list = nlohmann::json::array();
  for (const DestinationStats& s : Stats()) {
    list.push_back({{"name", s.name},
                    {"type", s.type},
                    {"receiver", s.receiver},
                    {"sent", s.sent},
                    {"retried", s.retried},
                    {"failed", s.failed},
                    {"dropped", s.dropped},
                    {"folded", s.folded},
                    {"outboxed", s.outboxed},
                    {"redelivered", s.redelivered},
                    {"refreshed", s.refreshed},
                    {"metrics_sent", s.metrics_sent},
                    {"exit_nonzero", s.exit_nonzero},
                    {"last_error", s.last_error}});
  }
  (*report)["alerts"] = {{"destinations", list}};
}

absl::Status AlertsSink::OnRunEnd(const Snapshot& run, const nlohmann::json& report) {
  for (const std::string& line : SummaryLines()) {
    std::fprintf(hooks_.log, "gridprobe: %s\n", line.c_str());
  }
  return absl::OkStatus();
}

}  // namespace gridprobe::alerts
