#include "truth.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace gridkit_demo {

uint64_t NearestRank(const std::vector<uint64_t>& sorted, double q) {
  double rank = std::ceil(q * static_cast<double>(sorted.size()));
  size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

LatencyStats MergeStats(const std::vector<ThreadSamples>& threads, Op op) {
  LatencyStats stats;
  std::vector<uint64_t> all;
  for (const ThreadSamples& thread : threads) {
    const OpSamples& samples = thread[Index(op)];
    all.insert(all.end(), samples.latencies_ns.begin(), samples.latencies_ns.end());
    stats.slowed += samples.slowed;
    stats.thrown += samples.thrown;
  }
  if (all.empty()) return stats;
  std::sort(all.begin(), all.end());
  stats.calls = all.size();
  stats.total_ns = std::accumulate(all.begin(), all.end(), uint64_t{0});
  stats.mean_ns = static_cast<double>(stats.total_ns) / static_cast<double>(stats.calls);
  stats.min_ns = all.front();
  stats.max_ns = all.back();
  stats.p50_ns = NearestRank(all, 0.50);
  stats.p95_ns = NearestRank(all, 0.95);
  stats.p99_ns = NearestRank(all, 0.99);
  return stats;
}

uint64_t RunFacts::CallsTotal() const {
  uint64_t total = 0;
  for (const LatencyStats& s : ops) total += s.calls;
  return total;
}

uint64_t RunFacts::ThrownTotal() const {
  uint64_t total = 0;
  for (const LatencyStats& s : ops) total += s.thrown;
  return total;
}

nlohmann::json TruthJson(const RunFacts& facts) {
  nlohmann::json operations = nlohmann::json::object();
  nlohmann::json memory = nlohmann::json::object();
  for (size_t i = 0; i < kNumOps; ++i) {
    const LatencyStats& s = facts.ops[i];
    std::string name(kOpNames[i]);
    operations[name] = {{"calls", s.calls},      {"slowed", s.slowed}, {"thrown", s.thrown},
                        {"mean_ns", s.mean_ns},  {"min_ns", s.min_ns}, {"max_ns", s.max_ns},
                        {"p50_ns", s.p50_ns},    {"p95_ns", s.p95_ns}, {"p99_ns", s.p99_ns},
                        {"total_ns", s.total_ns}};
    const MemoryCounts& m = facts.memory[i];
    memory[name] = {{"leaked_bytes", m.leaked_bytes},
                    {"leaked_allocs", m.leaked_allocs},
                    {"cache_live_bytes", m.cache_live_bytes},
                    {"cache_live_allocs", m.cache_live_allocs}};
  }
  return {{"schema", "gridkit.truth/1"},
          {"pid", facts.pid},
          {"threads", facts.threads},
          {"rows", facts.rows},
          {"rate", facts.rate},
          {"seed", facts.seed},
          {"elapsed_s", facts.elapsed_s},
          {"cpu_s", facts.cpu_s},
          {"ops_total", facts.CallsTotal()},
          {"thrown_total", facts.ThrownTotal()},
          {"operations", operations},
          {"memory", memory}};
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) {
    return absl::UnavailableError(absl::StrCat("create ", tmp, ": ", std::strerror(errno)));
  }
  bool written = std::fwrite(contents.data(), 1, contents.size(), f) == contents.size();
  int write_errno = errno;
  if (std::fclose(f) != 0 && written) {
    written = false;
    write_errno = errno;
  }
  if (!written) {
    std::remove(tmp.c_str());
    return absl::UnavailableError(absl::StrCat("write ", tmp, ": ", std::strerror(write_errno)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int rename_errno = errno;
    std::remove(tmp.c_str());
    return absl::UnavailableError(
        absl::StrCat("rename ", tmp, " to ", path, ": ", std::strerror(rename_errno)));
  }
  return absl::OkStatus();
}

}  // namespace gridkit_demo
