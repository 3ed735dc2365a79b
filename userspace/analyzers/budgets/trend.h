// The trend of operations' metrics over recent windows: a least-squares line
// through the last few points of each, kept up to date in constant time per
// point, and the question forecasts ask of it.
#ifndef GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_TREND_H_
#define GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_TREND_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

namespace gridprobe::budgets {

struct LineFit {
  double slope = 0;      // y units per x unit
  double intercept = 0;  // y at x = 0
  double r_squared = 0;  // share of the variance the line explains; 0 for a flat series
  int points = 0;
};

// Groups of series (one group per operation, one series per budgeted
// metric), each series with a target it may be heading for (its budget),
// sampled window by window at a common x over the last `capacity` samples
// of its group.
//
// Window by window: BeginWindow, Sample for each group that has a sample,
// EndWindow; then the queries describe the lines including this window.
//
// Groups sampled in the same windows since they started share their x sums
// (in steady state, all of them), and the series of all groups sit side by
// side in arrays, so that EndWindow updates and tests every series in one
// loop: four at a time with AVX2 where the CPU has it, else two with SSE2,
// the x86-64 baseline; each lane exactly as a scalar would, so both give
// the same answers bit for bit. The same loop tests each latest sample
// against its target (Above), which is how the evaluator learns which
// metrics are over their warning threshold.
class Trends {
 public:
  static constexpr int kMaxSeries = 32;

  // REQUIRES: capacity >= 2. Where the CPU has AVX2 (and `allow_avx2`),
  // EndWindow does four series at a time; the answers are the same.
  explicit Trends(int capacity, bool allow_avx2 = true);

  // A new group, with no samples, of targets.size() series; returns its id.
  // REQUIRES: 1 <= targets.size() <= kMaxSeries.
  int AddGroup(const std::vector<double>& targets);

  // Starts a window whose samples are at `x`. REQUIRES: x is larger than
  // any before.
  void BeginWindow(double x);
  // Where to write group g's sample for this window, one value per series,
  // before EndWindow. With `restart`, its earlier samples are forgotten
  // first. A group's second sample in a window is not taken: nullptr.
  double* Sample(int g, bool restart) {
    Group& group = groups_[g];
    // The usual case, inline: a group with samples, sampled once a window.
    if (restart || group.history < 0 || group.sampled_in == window_) return SampleAnew(g, restart);
    group.sampled_in = window_;
    if (histories_[group.history].sampled++ == 0) touched_.push_back(group.history);
    return &y_[2 * group.first_pair];  // a lone last series' twin stays 0
  }
  // Adds the samples, dropping the oldest of each group once `capacity`
  // are held, and tests every sampled group's samples and lines as Above and
  // Reaching describe. Returns whether any line is reaching its target.
  bool EndWindow(double within, double min_r_squared);
  // Whether any sample of the latest window is above its target.
  bool any_above() const { return any_above_; }

  // Group g's values as written through Sample in the latest window.
  // REQUIRES: group g was sampled once in it.
  const double* Latest(int g) const { return &y_[2 * groups_[g].first_pair]; }

  // Samples group g holds.
  int size(int g) const {
    const int h = groups_[g].history;
    return h < 0 ? 0 : histories_[h].count;
  }
  // x of group g's oldest sample held. REQUIRES: size(g) > 0.
  double oldest_x(int g) const;
  // The line through series s of group g; nullopt with fewer than two
  // samples.
  std::optional<LineFit> Fit(int g, int s) const;
  // For a group sampled in the latest window (0 for others): bit s is set
  // when series s's line rises with R² >= min_r_squared and reaches the
  // series' target within `within` (in x units) after the latest sample.
  uint32_t Reaching(int g) const { return PairBits(g, 0); }
  // For a group sampled in the latest window (0 for others): bit s is set
  // when series s's latest sample is above its target (`>`: NaN is not).
  uint32_t Above(int g) const { return PairBits(g, kAboveShift); }

 private:
  using Pair = double __attribute__((vector_size(16)));
  // What the tests need from a history's x sums, each in both lanes.
  struct XTerms {
    Pair n, sx, vxx, latest, r2vxx, nw;
  };
  // The x side of a group's samples; shared by every group sampled in the
  // same windows since it started.
  struct History {
    // Sums over the samples held, measured from the origins so that they
    // stay small and exact however long the run and large the values.
    double x_origin = 0;
    double sx = 0;
    double sxx = 0;
    double latest_dx = 0;  // the latest x, from the origin
    int count = 0;
    int next = 0;
    int passes = 0;
    std::vector<double> xs;  // capacity
    int members = 0;         // groups sharing it; 0: free
    // This window.
    int sampled = 0;         // members sampled
    int split = -1;          // the history members not sampled move to
    bool first = false;      // the first sample: it sets the origins
    bool full = false;       // the oldest sample is replaced
    bool recompute = false;  // sums are recomputed from the samples after adding
    bool check = false;      // the lines can be tested (two points, not all at one x)
    double dx = 0, ox = 0;   // the new and the replaced sample's x, from the old origin
    XTerms terms;
  };
  struct Group {
    int first_pair = 0;
    int pairs = 0;
    int series = 0;
    int history = -1;  // -1: no samples
    int64_t sampled_in = -1;
  };
  static constexpr int kPassesPerRecompute = 4;

  // Bits `shift` and `shift` + 1 of the flags of group g's pairs, two bits
  // per pair, if it was sampled in the latest window.
  uint32_t PairBits(int g, int shift) const {
    static_assert(std::endian::native == std::endian::little);
    const Group& group = groups_[g];
    if (group.sampled_in != window_) return 0;
    const uint8_t* const flags = &flags_[group.first_pair];
    uint32_t mask = 0;
    for (int p = 0; p < group.pairs; p += 4) {  // flags_ has 3 bytes to spare
      uint32_t w;
      std::memcpy(&w, flags + p, sizeof w);
      // Byte i's two bits times 2^(24 - 6i) land at bits 24 + 2i; the other
      // products land apart from them and from each other, below bit 24 or
      // past bit 31, so nothing carries into the top byte.
      mask |= ((w >> shift & 0x03030303u) * 0x01041040u >> 24) << (2 * p);
    }
    return group.pairs >= 16 ? mask : mask & ((1u << (2 * group.pairs)) - 1);
  }

  // Sample, for a group that starts (again) or was sampled already.
  double* SampleAnew(int g, bool restart);
  int NewHistory();
  void Leave(Group& g);
  void Advance(History& h, double within, double min_r_squared);
  // Updates and tests pairs [p0, p1), all sampled with history h.
  void AddPairs(const History& h, int p0, int p1);
  template <bool kFull, bool kReaching>
  void AddPairs(const History& h, int p0, int p1);
  void RecomputePairs(const History& h, int p0, int p1);
  void TestPairs(const History& h, int p0, int p1);

  int capacity_;
  bool avx2_;
  int64_t window_ = 0;
  double x_ = 0;
  int fresh_ = -1;  // the history groups starting this window share
  std::vector<Group> groups_;
  std::vector<History> histories_;
  std::vector<int> free_;     // unused histories
  std::vector<int> touched_;  // histories sampled this window
  // Per pair of series; a group of odd size has a zero twin for its last.
  std::vector<double> y_;  // this window's samples, two per pair
  std::vector<Pair> target_, y_origin_;
  std::vector<Pair> sy_, sxy_, syy_;
  // capacity_ rows of stride_ pairs: the samples of one slot side by side,
  // so that a window's stores go to few cache lines.
  std::vector<Pair> samples_;
  size_t stride_ = 0;
  // Per pair, for the latest window: bits 0 and 1, each lane's line is
  // reaching its target; bits 2 and 3, its sample is above its target.
  static constexpr uint8_t kReachingBits = 3;
  static constexpr int kAboveShift = 2;
  std::vector<uint8_t> flags_;
  bool any_reaching_ = false;  // in this window
  bool any_above_ = false;  // in the latest window
};

}  // namespace gridprobe::budgets

#endif  // GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_TREND_H_
