#include "userspace/analyzers/memory/memory_analyzer.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_format.h"

namespace gridprobe::memory {
namespace {

const CategoryCounters& At(const MemoryCounters& m, size_t i) {
  static const CategoryCounters kZero;
  return i < m.categories.size() ? m.categories[i] : kZero;
}

}  // namespace

MemoryAnalyzer::MemoryAnalyzer(std::vector<std::string> op_names, MemoryAnalyzerOptions options)
    : options_(std::move(options)) {
  names_.push_back("unattributed");
  for (std::string& n : op_names) names_.push_back(std::move(n));
  detectors_.assign(names_.size(), LeakDetector(options_.leak));
  verdicts_.resize(names_.size());
  peaks_.assign(names_.size(), 0);
  first_suspected_s_.resize(names_.size());
  previous_.categories.resize(names_.size());
}

MemorySummary MemoryAnalyzer::Summarize(double seconds, const MemoryCounters& now,
                                        const MemoryCounters& before,
                                        const std::vector<uint64_t>& op_calls) const {
  MemorySummary s;
  s.mode = options_.mode;
  s.allocator = options_.allocator;
  s.allocator_module = options_.allocator_module;
  s.allocator_cxx = options_.allocator_cxx;
  s.unknown_frees = now.unknown_frees;
  s.nested_calls = now.nested_calls;
  s.failed = now.failed;
  s.reused = now.reused;
  for (size_t i = 0; i < names_.size(); ++i) {
    const CategoryCounters& c = At(now, i);
    const CategoryCounters& b = At(before, i);
    MemoryCategory m;
    m.name = names_[i];
    m.allocs = c.allocs - b.allocs;
    m.alloc_bytes = c.alloc_bytes - b.alloc_bytes;
    m.allocs_per_s = seconds > 0 ? static_cast<double>(m.allocs) / seconds : 0;
    m.bytes_per_s = seconds > 0 ? static_cast<double>(m.alloc_bytes) / seconds : 0;
    if (i > 0 && i - 1 < op_calls.size() && op_calls[i - 1] > 0) {
      m.bytes_per_call = static_cast<double>(m.alloc_bytes) / static_cast<double>(op_calls[i - 1]);
    }
    m.live_bytes = c.live_bytes();
    m.live_allocs = c.live_allocs();
    m.peak_live_bytes = std::max(peaks_[i], m.live_bytes);
    m.dropped = c.dropped;
    m.dropped_bytes = c.dropped_bytes;
    const LeakVerdict& v = verdicts_[i];
    m.leak_suspected = v.suspected;
    m.growth_bytes_per_s = v.growth_bytes_per_s;
    m.leak_confidence = v.confidence;
    m.projected_bytes_1h = v.projected_bytes_1h;
    m.leak_reason = v.reason;
    m.first_suspected_s = first_suspected_s_[i];
    s.categories.push_back(std::move(m));
  }
  return s;
}

MemorySummary MemoryAnalyzer::Update(absl::Time now, double window_s, const MemoryCounters& total,
                                     const std::vector<uint64_t>& op_calls) {
  for (size_t i = 0; i < names_.size(); ++i) {
    uint64_t live = At(total, i).live_bytes();
    peaks_[i] = std::max(peaks_[i], live);
    detectors_[i].Add(now, static_cast<int64_t>(live));
    verdicts_[i] = detectors_[i].Verdict();
    if (verdicts_[i].suspected && !first_suspected_s_[i]) {
      first_suspected_s_[i] = absl::ToDoubleSeconds(now - start_);
    }
  }
  MemorySummary s = Summarize(window_s, total, previous_, op_calls);
  previous_ = total;
  return s;
}

MemorySummary MemoryAnalyzer::Totals(double run_s, const MemoryCounters& total,
                                     const std::vector<uint64_t>& op_calls) const {
  MemoryCounters zero;
  zero.categories.resize(names_.size());
  return Summarize(run_s, total, zero, op_calls);
}

nlohmann::json MemoryAnalyzer::LiveDetails(
    const std::vector<LiveAllocation>& live, const std::function<std::string(uint64_t)>& symbolize,
    const std::function<std::vector<uint64_t>(int32_t)>& stack) const {
  struct AgeBucket {
    const char* label;
    double max_s;
  };
  static constexpr AgeBucket kAges[] = {
      {"<1s", 1}, {"1s-10s", 10}, {"10s-1m", 60}, {"1m-10m", 600}, {">=10m", 1e300}};
  struct Site {
    uint64_t bytes = 0;
    uint64_t allocs = 0;
    int32_t stack_id = -1;
    uint64_t caller = 0;
  };
  std::vector<std::vector<const LiveAllocation*>> by_cat(names_.size());
  for (const LiveAllocation& a : live) {
    if (a.category < by_cat.size()) by_cat[a.category].push_back(&a);
  }
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < names_.size(); ++i) {
    auto& allocs = by_cat[i];
    if (allocs.empty()) continue;
    nlohmann::json ages = nlohmann::json::array();
    for (const AgeBucket& b : kAges) ages.push_back({{"age", b.label}, {"allocs", 0}, {"bytes", 0}});
    std::map<std::pair<int32_t, uint64_t>, Site> sites;
    for (const LiveAllocation* a : allocs) {
      double age_s = static_cast<double>(a->age_ns) / 1e9;
      for (size_t k = 0; k < std::size(kAges); ++k) {
        if (age_s < kAges[k].max_s) {
          ages[k]["allocs"] = ages[k]["allocs"].get<uint64_t>() + 1;
          ages[k]["bytes"] = ages[k]["bytes"].get<uint64_t>() + a->size;
          break;
        }
      }
      // Group by stack where one was taken, else by the calling address.
      auto key = a->stack_id >= 0 ? std::make_pair(a->stack_id, uint64_t{0})
                                  : std::make_pair(int32_t{-1}, a->caller);
      Site& s = sites[key];
      s.bytes += a->size;
      ++s.allocs;
      s.stack_id = a->stack_id;
      s.caller = a->caller;
    }
    std::vector<Site> top;
    for (auto& [k, s] : sites) top.push_back(s);
    std::sort(top.begin(), top.end(), [](const Site& a, const Site& b) { return a.bytes > b.bytes; });
    nlohmann::json top_json = nlohmann::json::array();
    for (size_t k = 0; k < top.size() && k < 5; ++k) {
      nlohmann::json frames = nlohmann::json::array();
      std::vector<uint64_t> ips = stack(top[k].stack_id);
      if (ips.empty()) ips.push_back(top[k].caller);
      for (size_t f = 0; f < ips.size() && f < 8; ++f) frames.push_back(symbolize(ips[f]));
      top_json.push_back({{"live_bytes", top[k].bytes}, {"live_allocs", top[k].allocs},
                          {"frames", frames}});
    }
    std::sort(allocs.begin(), allocs.end(),
              [](const LiveAllocation* a, const LiveAllocation* b) { return a->age_ns > b->age_ns; });
    nlohmann::json oldest = nlohmann::json::array();
    for (size_t k = 0; k < allocs.size() && k < 5; ++k) {
      oldest.push_back({{"address", absl::StrFormat("0x%x", allocs[k]->address)},
                        {"bytes", allocs[k]->size},
                        {"age_s", static_cast<double>(allocs[k]->age_ns) / 1e9},
                        {"caller", symbolize(allocs[k]->caller)}});
    }
    out[names_[i]] = {{"age_distribution", ages}, {"top_sites", top_json}, {"oldest", oldest}};
  }
  return out;
}

nlohmann::json MemoryJson(const MemorySummary& s) {
  nlohmann::json cats = nlohmann::json::array();
  for (const MemoryCategory& c : s.categories) {
    nlohmann::json j = {{"category", c.name},
                        {"allocs", c.allocs},
                        {"alloc_bytes", c.alloc_bytes},
                        {"allocs_per_s", c.allocs_per_s},
                        {"bytes_per_s", c.bytes_per_s},
                        {"live_bytes", c.live_bytes},
                        {"live_allocs", c.live_allocs},
                        {"peak_live_bytes", c.peak_live_bytes},
                        {"dropped_allocs", c.dropped},
                        {"dropped_bytes", c.dropped_bytes},
                        {"leak_suspected", c.leak_suspected},
                        {"growth_bytes_per_s", c.growth_bytes_per_s},
                        {"leak_confidence", c.leak_confidence},
                        {"projected_bytes_1h", c.projected_bytes_1h},
                        {"leak_reason", c.leak_reason}};
    j["first_suspected_s"] = c.first_suspected_s.has_value() ? nlohmann::json(*c.first_suspected_s)
                                                             : nlohmann::json(nullptr);
    j["bytes_per_call"] = c.bytes_per_call.has_value() ? nlohmann::json(*c.bytes_per_call)
                                                       : nlohmann::json(nullptr);
    cats.push_back(std::move(j));
  }
  return {{"mode", s.mode},
          {"allocator",
           {{"family", s.allocator}, {"module", s.allocator_module}, {"cxx", s.allocator_cxx}}},
          {"unknown_frees", s.unknown_frees},
          {"nested_calls", s.nested_calls},
          {"failed_allocs", s.failed},
          {"reused_addresses", s.reused},
          {"categories", cats}};
}

}  // namespace gridprobe::memory
