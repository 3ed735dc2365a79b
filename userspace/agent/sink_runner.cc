#include "userspace/agent/sink_runner.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"

namespace gridprobe {

SinkRunner::SinkRunner(std::vector<Sink*> sinks, size_t queue_limit) : queue_limit_(queue_limit) {
  for (Sink* sink : sinks) {
    auto w = std::make_unique<Worker>();
    w->sink = sink;
    w->stats.name = sink->name();
    workers_.push_back(std::move(w));
  }
  // Sink threads take no signals: SIGINT/SIGTERM/SIGHUP are the agent
  // loop's to read (signalfd); delivered to a sink thread they would kill
  // the process before the report is written. Threads inherit the mask.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  for (auto& w : workers_) w->thread = std::thread([this, p = w.get()] { Loop(p); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

SinkRunner::~SinkRunner() {
  for (auto& w : workers_) {
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->stop = true;
    }
    w->cv.notify_one();
  }
  for (auto& w : workers_) {
    // A sink left behind at Finish's deadline may still be blocked; the
    // process is about to exit and waits for it a little, not for ever.
    if (w->thread.joinable()) {
      std::unique_lock<std::mutex> lock(w->mu);
      bool idle = w->done_cv.wait_for(lock, std::chrono::seconds(2),
                                      [&w] { return w->queue.empty() && !w->busy; });
      lock.unlock();
      if (idle) {
        w->thread.join();
      } else {
        // Still inside the sink: the thread keeps its Worker, which is
        // left allocated on purpose rather than freed under it.
        w->thread.detach();
        w.release();
      }
    }
  }
}

bool SinkRunner::Push(Worker* w, Item item, bool control) {
  {
    std::lock_guard<std::mutex> lock(w->mu);
    // Control items (end of run) are never refused.
    if (!control && w->queue.size() >= queue_limit_) return false;
    w->queue.push_back(std::move(item));
    w->stats.max_queued = std::max(w->stats.max_queued, w->queue.size());
  }
  w->cv.notify_one();
  return true;
}

void SinkRunner::PostWindow(const Snapshot& window) {
  auto shared = std::make_shared<const Snapshot>(window);
  for (auto& w : workers_) {
    if (!Push(w.get(), shared, false)) {
      std::lock_guard<std::mutex> lock(w->mu);
      ++w->stats.dropped_windows;
    }
  }
}

void SinkRunner::PostEvent(const Event& event) {
  for (auto& w : workers_) {
    if (!Push(w.get(), event, false)) {
      std::lock_guard<std::mutex> lock(w->mu);
      ++w->stats.dropped_events;
    }
  }
}

void SinkRunner::Loop(Worker* w) {
  for (;;) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(w->mu);
      w->cv.wait(lock, [w] { return w->stop || !w->queue.empty(); });
      if (w->queue.empty()) return;  // stop, nothing left
      item = std::move(w->queue.front());
      w->queue.pop_front();
      w->busy = true;
    }
    const absl::Time t0 = absl::Now();
    absl::Status status;
    if (auto* window = std::get_if<std::shared_ptr<const Snapshot>>(&item)) {
      w->sink->OnWindow(**window);
    } else if (auto* event = std::get_if<Event>(&item)) {
      w->sink->OnEvent(*event);
    } else if (std::holds_alternative<Drain>(item)) {
      w->sink->Drain();
    } else if (auto* end = std::get_if<RunEnd>(&item)) {
      status = w->sink->OnRunEnd(*end->run, *end->report);
    }
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->stats.busy_ms += ms;
      w->busy_unreported_ms += ms;
      if (std::holds_alternative<std::shared_ptr<const Snapshot>>(item)) ++w->stats.windows;
      if (std::holds_alternative<Event>(item)) ++w->stats.events;
      if (std::holds_alternative<Drain>(item)) ++w->drains_done;
      if (std::holds_alternative<RunEnd>(item)) {
        ++w->ends_done;
        w->end_status = status;
      }
      w->busy = false;
    }
    w->done_cv.notify_all();
  }
}

double SinkRunner::TakeBusyMs() {
  double total = 0;
  for (auto& w : workers_) {
    std::lock_guard<std::mutex> lock(w->mu);
    total += w->busy_unreported_ms;
    w->busy_unreported_ms = 0;
  }
  return total;
}

absl::Status SinkRunner::Finish(const Snapshot& run, nlohmann::json* report,
                                absl::Duration deadline) {
  const absl::Time until = absl::Now() + deadline;
  std::vector<std::string> late;
  auto wait = [&](Worker* w, int Worker::*counter, absl::Time by) {
    std::unique_lock<std::mutex> lock(w->mu);
    const auto chrono_until =
        std::chrono::system_clock::now() + absl::ToChronoNanoseconds(by - absl::Now());
    return w->done_cv.wait_until(lock, chrono_until, [w, counter] { return w->*counter > 0; });
  };
  std::vector<bool> alive(workers_.size(), true);
  for (auto& w : workers_) Push(w.get(), Drain{}, true);
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (!wait(workers_[i].get(), &Worker::drains_done, until)) {
      alive[i] = false;
      late.push_back(workers_[i]->stats.name);
    }
  }
  nlohmann::json sinks = nlohmann::json::array();
  for (const SinkStats& st : Stats()) {
    sinks.push_back({{"name", st.name},
                     {"windows", st.windows},
                     {"events", st.events},
                     {"dropped_windows", st.dropped_windows},
                     {"dropped_events", st.dropped_events},
                     {"busy_ms", st.busy_ms},
                     {"max_queued", st.max_queued}});
  }
  (*report)["agent"]["sinks"] = sinks;
  for (size_t i = 0; i < workers_.size(); ++i) {
    // Only a sink whose thread is idle now may be called from here.
    if (alive[i]) workers_[i]->sink->AddToReport(report);
  }
  // The end of the run gets its own deadline: a sink left behind at the
  // drain must not use up the others' time.
  const absl::Time end_until = absl::Now() + deadline;
  RunEnd end{std::make_shared<const Snapshot>(run),
             std::make_shared<const nlohmann::json>(*report)};
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (alive[i]) Push(workers_[i].get(), end, true);
  }
  absl::Status first = absl::OkStatus();
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (!alive[i]) continue;
    Worker* w = workers_[i].get();
    if (!wait(w, &Worker::ends_done, end_until)) {
      late.push_back(w->stats.name);
      continue;
    }
    std::lock_guard<std::mutex> lock(w->mu);
    if (first.ok() && !w->end_status.ok()) first = w->end_status;
  }
  if (!first.ok()) return first;
  if (!late.empty()) {
    return WithExitCode(absl::DeadlineExceededError(absl::StrCat(
                            "sink ", absl::StrJoin(late, ", "), " did not finish within ",
                            absl::FormatDuration(deadline), " of the end of the run")),
                        ExitCode::kOutputFailed);
  }
  return absl::OkStatus();
}

std::vector<SinkStats> SinkRunner::Stats() const {
  std::vector<SinkStats> out;
  for (const auto& w : workers_) {
    std::lock_guard<std::mutex> lock(w->mu);
    out.push_back(w->stats);
  }
  return out;
}

}  // namespace gridprobe
