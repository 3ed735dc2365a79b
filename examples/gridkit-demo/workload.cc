#include "workload.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gridkit_demo {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::array<std::string_view, 8> kCategories = {"Audio",  "Books",   "Garden", "Kitchen",
                                                         "Office", "Outdoor", "Tools",  "Toys"};
constexpr std::array<std::string_view, 6> kRegions = {"Central",  "East",  "North",
                                                      "Overseas", "South", "West"};
constexpr std::array<std::string_view, 16> kAdjectives = {
    "Amber", "Brisk", "Copper", "Dusty",  "Emerald", "Frosted", "Golden", "Hollow",
    "Ivory", "Jolly", "Quiet",  "Rustic", "Silver",  "Tidy",    "Velvet", "Wild"};
constexpr std::array<std::string_view, 16> kNouns = {
    "Anchor", "Basket",  "Candle", "Drum",     "Easel",  "Fountain", "Globe",  "Hammock",
    "Kettle", "Lantern", "Mirror", "Notebook", "Pillow", "Radio",    "Shovel", "Teapot"};
// Search fragments: some common, some rare, so filtered views vary in size.
constexpr std::array<std::string_view, 8> kSearches = {"an",  "er", "north", "lantern",
                                                       "k-2", "12", "audio", "ee"};
constexpr std::array<std::string_view, 6> kSortable = {"price",    "qty",    "name",
                                                       "category", "region", "id"};
constexpr std::array<size_t, 3> kPageSizes = {100, 200, 500};

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

template <typename Rng>
size_t Uniform(Rng& rng, size_t n) {
  return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
}

template <typename Rng, typename T, size_t N>
const T& Pick(Rng& rng, const std::array<T, N>& values) {
  return values[Uniform(rng, N)];
}

gridkit::FilterSpec MakeFilter(std::mt19937_64& rng) {
  using gridkit::FilterOp;
  gridkit::FilterSpec spec;
  size_t shape = Uniform(rng, 100);
  if (shape < 30) {
    constexpr std::array<double, 4> kPrices = {5, 10, 20, 40};
    spec.predicates.push_back({"price", FilterOp::kGreater, Pick(rng, kPrices)});
  } else if (shape < 55) {
    spec.predicates.push_back(
        {"qty", FilterOp::kLess, static_cast<int64_t>(100 + Uniform(rng, 401))});
  } else if (shape < 70) {
    spec.predicates.push_back({"category", FilterOp::kEquals, std::string(Pick(rng, kCategories))});
  } else if (shape < 80) {
    spec.predicates.push_back({"category", FilterOp::kLess, std::string(Pick(rng, kCategories))});
    spec.predicates.push_back({"price", FilterOp::kGreater, 10.0});
  } else if (shape < 90) {
    spec.search = Pick(rng, kSearches);
  } else {
    spec.predicates.push_back(
        {"name", FilterOp::kContains, std::string(Pick(rng, kAdjectives).substr(0, 3))});
  }
  return spec;
}

std::vector<gridkit::SortKey> MakeSortKeys(std::mt19937_64& rng) {
  std::array<std::string_view, kSortable.size()> columns = kSortable;
  std::shuffle(columns.begin(), columns.end(), rng);
  std::vector<gridkit::SortKey> keys(1 + Uniform(rng, 3));
  for (size_t i = 0; i < keys.size(); ++i) {
    keys[i].column = columns[i];
    keys[i].descending = Uniform(rng, 2) == 1;
  }
  return keys;
}

gridkit::GroupSpec MakeGroup(std::mt19937_64& rng) {
  static const std::array<std::vector<std::string>, 5> kBy = {
      {{"category"}, {"region"}, {"category", "region"}, {"region", "category"}, {"qty"}}};
  gridkit::GroupSpec spec;
  spec.by = Pick(rng, kBy);
  spec.aggregates = {{gridkit::AggregateFn::kCount, ""},
                     {gridkit::AggregateFn::kSum, "price"},
                     {gridkit::AggregateFn::kAvg, "price"},
                     {gridkit::AggregateFn::kMin, "price"},
                     {gridkit::AggregateFn::kMax, "qty"}};
  return spec;
}

gridkit::RenderOptions MakeRenderOptions(std::mt19937_64& rng) {
  constexpr std::array<size_t, 3> kWidths = {16, 24, 32};
  gridkit::RenderOptions options;
  options.decimals = static_cast<int>(Uniform(rng, 4));
  options.thousands_separators = Uniform(rng, 4) != 0;
  options.max_column_width = Pick(rng, kWidths);
  return options;
}

}  // namespace

std::vector<gridkit::ColumnSpec> DemoSchema() {
  using gridkit::ColumnType;
  return {{"id", ColumnType::kInt64},        {"name", ColumnType::kString},
          {"category", ColumnType::kString}, {"region", ColumnType::kString},
          {"price", ColumnType::kDouble},    {"qty", ColumnType::kInt64}};
}

std::vector<gridkit::Row> GenerateRows(int64_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> price(3.2, 1.0);
  std::uniform_int_distribution<int64_t> qty(1, 500);
  std::uniform_int_distribution<int> model(100, 999);
  std::vector<gridkit::Row> out;
  out.reserve(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    std::string name(Pick(rng, kAdjectives));
    name.append(" ").append(Pick(rng, kNouns)).append(" ");
    name.push_back(static_cast<char>('A' + Uniform(rng, 26)));
    name.append("-").append(std::to_string(model(rng)));
    double cents = std::round(std::min(price(rng), 99'999.0) * 100);
    out.push_back({int64_t{100'000} + r, std::move(name), std::string(Pick(rng, kCategories)),
                   std::string(Pick(rng, kRegions)), cents / 100, qty(rng)});
  }
  return out;
}

void StopSignal::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
}

bool StopSignal::SleepUntil(Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_until(lock, deadline, [this] { return stopped(); });
}

Pacer::Pacer(Clock::time_point start, double rate, int worker, int workers)
    : start_(start),
      offset_(rate > 0 ? worker / rate : 0),
      period_(rate > 0 ? workers / rate : 0) {}

Clock::time_point Pacer::Advance(Clock::time_point now) {
  if (period_.count() == 0) return now;
  auto slot_time = [this](uint64_t slot) {
    return start_ + std::chrono::duration_cast<Clock::duration>(
                        offset_ + period_ * static_cast<double>(slot));
  };
  if (now - slot_time(next_slot_) > std::chrono::seconds(1)) {
    double behind = (now - start_ - offset_) / period_;
    next_slot_ = static_cast<uint64_t>(std::ceil(behind));
  }
  return slot_time(next_slot_++);
}

bool Pacer::Next(StopSignal& stop) {
  if (stop.stopped()) return false;
  Clock::time_point now = Clock::now();
  Clock::time_point deadline = Advance(now);
  return deadline <= now || stop.SleepUntil(deadline);
}

Worker::Worker(int index, const Options& options, gridkit::Grid grid, FaultMemory* memory)
    : index_(index),
      options_(options),
      grid_(std::move(grid)),
      // Distinct streams per thread and per purpose, all derived from --seed.
      faults_(options.faults, options.seed * 1'000'003 + 2 * index + 1, memory,
              [this] { return Elapsed(); }),
      rng_(options.seed * 1'000'003 + 2 * index),
      view_size_(grid_.row_count()) {
  ctx_.checkpoint = [this](const char* op, int stage) { faults_.Checkpoint(op, stage); };
  for (OpSamples& samples : samples_) samples.latencies_ns.reserve(1024);
}

double Worker::Elapsed() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

template <typename Fn>
void Worker::Measure(Op op, Fn&& call) {
  OpSamples& samples = samples_[Index(op)];
  const uint64_t slowed_before = faults_.slowed(op);
  uint64_t start = MonotonicNs();
  try {
    call();
  } catch (const Cancelled&) {
    ++samples.thrown;
    return;
  }
  uint64_t end = MonotonicNs();
  samples.latencies_ns.push_back(end - start);
  if (faults_.slowed(op) != slowed_before) ++samples.slowed;
}

void Worker::Call(Op op) {
  // Parameters are drawn before the clock starts and results are destroyed after it stops, so
  // the measurement covers the library call alone.
  switch (op) {
    case Op::kRowModelBuild:
      Measure(op, [&] { grid_.buildRowModel(&ctx_); });
      view_size_ = grid_.view_size();
      break;
    case Op::kFilter: {
      gridkit::FilterSpec spec = MakeFilter(rng_);
      Measure(op, [&] { grid_.filter(spec, &ctx_); });
      view_size_ = grid_.view_size();
      break;
    }
    case Op::kSort: {
      std::vector<gridkit::SortKey> keys = MakeSortKeys(rng_);
      Measure(op, [&] { grid_.sort(keys, &ctx_); });
      break;
    }
    case Op::kGroup: {
      gridkit::GroupSpec spec = MakeGroup(rng_);
      std::optional<gridkit::GroupResult> result;
      Measure(op, [&] { result.emplace(grid_.group(spec, &ctx_)); });
      break;
    }
    case Op::kPaginate: {
      size_t size = Pick(rng_, kPageSizes);
      size_t pages = std::max<size_t>(1, (view_size_ + size - 1) / size);
      // Now and then ask past the end, as a stale scroll position would.
      size_t index = Uniform(rng_, pages + pages / 10);
      std::optional<gridkit::Page> page;
      Measure(op, [&] { page.emplace(grid_.paginate(index, size, &ctx_)); });
      if (page) page_ = std::move(*page);
      break;
    }
    case Op::kRender: {
      gridkit::RenderOptions options = MakeRenderOptions(rng_);
      std::optional<gridkit::RenderedPage> rendered;
      Measure(op, [&] { rendered.emplace(grid_.render(page_, options, &ctx_)); });
      break;
    }
  }
}

void Worker::Run(Clock::time_point start, StopSignal& stop) {
  start_ = start;
  Pacer pacer(start, options_.rate, index_, options_.threads);
  try {
    while (true) {
      for (size_t i = 0; i < kNumOps; ++i) {
        if (!pacer.Next(stop)) return;
        Call(static_cast<Op>(i));
      }
    }
  } catch (const std::exception& e) {
    error_ = absl::StrCat("worker ", index_, ": ", e.what());
    stop.Stop();
  }
}

}  // namespace gridkit_demo
