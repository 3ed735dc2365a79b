#include "userspace/analyzers/budgets/trend.h"

#include <algorithm>
#include <cstring>
#include <immintrin.h>
#include <utility>

#include "absl/base/attributes.h"

namespace gridprobe::budgets {
namespace {

using Pair = double __attribute__((vector_size(16)));
using PairMask = int64_t __attribute__((vector_size(16)));

Pair Splat(double v) { return Pair{v, v}; }

Pair Load(const double* p) {
  Pair v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Bit i: whether the comparison `c` holds in lane i.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t Bits(PairMask c) {
#if defined(__SSE2__)
  return __builtin_ia32_movmskpd(reinterpret_cast<Pair>(c));  // one instruction
#else
  return static_cast<uint32_t>((c[0] & 1) | (c[1] & 2));
#endif
}

// Bit 0 and bit 1: whether each series of a pair is reaching its target,
// from its sums (sy, sxy, syy) and target - y_origin (headroom, computed
// where needed: one subtraction is cheaper than an array to load).
//
// vxx, vxy, vyy: the variances and covariance times n. With slope
// b = vxy / vxx and the line at height h at the latest x, the crossing is
// (target - h) / b later; `rise` is that times n * vxx.
template <typename XTerms>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint8_t PairReaching(Pair sy, Pair sxy, Pair syy, Pair headroom,
                                                         const XTerms& x) {
  const Pair vxy = x.n * sxy - x.sx * sy;
  const Pair vyy = x.n * syy - sy * sy;
  const Pair rise = (x.n * headroom - sy) * x.vxx - vxy * x.latest;
  // `&`, not `&&`: noisy data makes each test a coin toss for the branch
  // predictor, while the answer is nearly always no.
  return static_cast<uint8_t>(Bits(vxy > Splat(0)) & Bits(vxy * vxy >= x.r2vxx * vyy) &
                              Bits(rise > Splat(0)) & Bits(rise <= x.nw * vxy));
}


// The arrays EndWindow updates, as doubles: pair p's two lanes at 2p, 2p + 1.
struct Lanes {
  const double* y;  // this window's samples
  const double* origin;
  const double* target;
  double* sy;
  double* sxy;
  double* syy;
  double* samples;  // the row of the slot the samples go to
  uint8_t* flags;
};
// A history's terms for this window (Trends::History).
struct XScalars {
  double dx, ox, n, sx, vxx, latest, r2vxx, nw;
};

using Quad = double __attribute__((vector_size(32)));

#define GP_AVX2 __attribute__((target("avx2")))

GP_AVX2 inline Quad LoadQuad(const double* p) {
  Quad v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
GP_AVX2 inline void StoreQuad(double* p, Quad v) { std::memcpy(p, &v, sizeof v); }
GP_AVX2 inline Quad Splat4(double v) { return Quad{v, v, v, v}; }

// Trends::AddPairs' loop with AVX2, two pairs per step, for pairs [p0, p1)
// (an even number of them). Each lane does what the SSE2 loop and
// PairReaching do, operation for operation, so the sums and answers are
// the same bit for bit (AVX2 brings no fused multiply-add). Returns the
// flags of all pairs, or-ed.
template <bool kFull, bool kReaching>
GP_AVX2 uint8_t AddQuads(const Lanes& a, const XScalars& x, int p0, int p1) {
  const Quad zero = Splat4(0), dx = Splat4(x.dx), ox = Splat4(x.ox), n = Splat4(x.n),
             sx = Splat4(x.sx), vxx = Splat4(x.vxx), latest = Splat4(x.latest),
             r2vxx = Splat4(x.r2vxx), nw = Splat4(x.nw);
  // Stores through `flags` could alias everything else: copies, restricted.
  const double* __restrict y = a.y;
  const double* __restrict origin = a.origin;
  const double* __restrict target = a.target;
  double* __restrict sy = a.sy;
  double* __restrict sxy = a.sxy;
  double* __restrict syy = a.syy;
  double* __restrict samples = a.samples;
  uint8_t* __restrict flags = a.flags;
  uint32_t any = 0;
  for (int p = p0; p < p1; p += 2) {
    const size_t i = 2 * static_cast<size_t>(p);
    const Quad new_y = LoadQuad(y + i);
    const Quad yo = LoadQuad(origin + i);
    const Quad dy = new_y - yo;
    Quad s_y, s_xy, s_yy;
    if constexpr (kFull) {
      const Quad oy = LoadQuad(samples + i) - yo;
      s_y = LoadQuad(sy + i) + (dy - oy);
      s_xy = LoadQuad(sxy + i) + (dx * dy - ox * oy);
      s_yy = LoadQuad(syy + i) + (dy * dy - oy * oy);
    } else {
      s_y = LoadQuad(sy + i) + dy;
      s_xy = LoadQuad(sxy + i) + dx * dy;
      s_yy = LoadQuad(syy + i) + dy * dy;
    }
    StoreQuad(sy + i, s_y);
    StoreQuad(sxy + i, s_xy);
    StoreQuad(syy + i, s_yy);
    StoreQuad(samples + i, new_y);
    uint32_t bits = 0;
    if constexpr (kReaching) {
      const Quad vxy = n * s_xy - sx * s_y;
      const Quad vyy = n * s_yy - s_y * s_y;
      const Quad rise = (n * (LoadQuad(target + i) - yo) - s_y) * vxx - vxy * latest;
      const auto ok = (vxy > zero) & (vxy * vxy >= r2vxx * vyy) & (rise > zero) & (rise <= nw * vxy);
      bits = static_cast<uint32_t>(_mm256_movemask_pd(reinterpret_cast<__m256d>(ok)));
    }
    const uint32_t above = static_cast<uint32_t>(
        _mm256_movemask_pd(reinterpret_cast<__m256d>(new_y > LoadQuad(target + i))));
    const uint8_t lo = static_cast<uint8_t>((bits & 3) | (above & 3) << 2);
    const uint8_t hi = static_cast<uint8_t>((bits >> 2) | (above >> 2) << 2);
    flags[p] = lo;
    flags[p + 1] = hi;
    any |= lo | hi;
  }
  return static_cast<uint8_t>(any);
}

#undef GP_AVX2

bool HasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}

}  // namespace

Trends::Trends(int capacity, bool allow_avx2) : capacity_(capacity), avx2_(allow_avx2 && HasAvx2()) {}

int Trends::AddGroup(const std::vector<double>& targets) {
  Group& g = groups_.emplace_back();
  g.series = static_cast<int>(targets.size());
  g.pairs = (g.series + 1) / 2;
  g.first_pair = static_cast<int>(target_.size());
  for (int p = 0; p < g.pairs; ++p) {
    const double twin = 2 * p + 1 < g.series ? targets[2 * p + 1] : 0;
    target_.push_back(Pair{targets[2 * p], twin});
  }
  const size_t pairs = target_.size();
  y_.resize(2 * pairs, 0);
  y_origin_.resize(pairs, Splat(0));
  sy_.resize(pairs, Splat(0));
  sxy_.resize(pairs, Splat(0));
  syy_.resize(pairs, Splat(0));
  if (pairs > stride_) {  // room for more pairs in every row, rows kept
    const size_t stride = std::max(pairs, 2 * stride_);
    std::vector<Pair> samples(stride * capacity_, Splat(0));
    for (int i = 0; i < capacity_; ++i) {
      std::copy_n(samples_.data() + i * stride_, stride_, samples.data() + i * stride);
    }
    samples_ = std::move(samples);
    stride_ = stride;
  }
  flags_.resize(pairs + 3, 0);  // see PairBits
  return static_cast<int>(groups_.size()) - 1;
}

int Trends::NewHistory() {
  int h;
  if (free_.empty()) {
    h = static_cast<int>(histories_.size());
    histories_.emplace_back();
  } else {
    h = free_.back();
    free_.pop_back();
    histories_[h] = History();
  }
  histories_[h].xs.resize(capacity_);
  return h;
}

void Trends::Leave(Group& g) {
  if (g.history < 0) return;
  if (--histories_[g.history].members == 0) free_.push_back(g.history);
  g.history = -1;
}

void Trends::BeginWindow(double x) {
  ++window_;
  x_ = x;
  any_above_ = false;
}

double* Trends::SampleAnew(int id, bool restart) {
  Group& g = groups_[id];
  if (g.sampled_in == window_) return nullptr;
  g.sampled_in = window_;
  if (restart || g.history < 0) {
    Leave(g);
    if (fresh_ < 0) fresh_ = NewHistory();
    g.history = fresh_;
    ++histories_[fresh_].members;
  }
  if (histories_[g.history].sampled++ == 0) touched_.push_back(g.history);
  return &y_[2 * g.first_pair];  // a lone last series' twin stays 0
}

bool Trends::EndWindow(double within, double min_r_squared) {
  // A history some of whose groups were not sampled splits: they keep a
  // copy as it was, the sampled ones go on with it.
  bool split = false;
  for (int h : touched_) {
    if (histories_[h].sampled == histories_[h].members) continue;
    const int copy = NewHistory();
    History& from = histories_[h];
    histories_[copy] = from;
    histories_[copy].members = from.members - from.sampled;
    histories_[copy].sampled = 0;
    from.members = from.sampled;
    from.split = copy;
    split = true;
  }
  if (split) {
    for (Group& g : groups_) {
      if (g.history >= 0 && g.sampled_in != window_ && histories_[g.history].split >= 0) {
        g.history = histories_[g.history].split;
      }
    }
  }
  for (int h : touched_) Advance(histories_[h], within, min_r_squared);

  // Sampled groups side by side with the same history form one run.
  const int n = static_cast<int>(groups_.size());
  for (int i = 0; i < n;) {
    const Group& g = groups_[i++];
    if (g.sampled_in != window_) continue;
    const int p0 = g.first_pair;
    int p1 = p0 + g.pairs;
    while (i < n && groups_[i].sampled_in == window_ && groups_[i].history == g.history) {
      p1 += groups_[i++].pairs;
    }
    AddPairs(histories_[g.history], p0, p1);
  }

  for (int h : touched_) {
    histories_[h].sampled = 0;
    histories_[h].split = -1;
  }
  touched_.clear();
  fresh_ = -1;
  return std::exchange(any_reaching_, false);
}

void Trends::Advance(History& h, double within, double min_r_squared) {
  h.first = h.count == 0;
  if (h.first) h.x_origin = x_;
  const double dx = x_ - h.x_origin;
  h.latest_dx = dx;
  h.full = h.count == capacity_;
  double ox = 0;
  if (h.full) {
    ox = h.xs[h.next] - h.x_origin;
    h.sx += dx - ox;
    h.sxx += dx * dx - ox * ox;
  } else {
    ++h.count;
    h.sx += dx;
    h.sxx += dx * dx;
  }
  h.dx = dx;
  h.ox = ox;
  h.xs[h.next] = x_;
  h.recompute = false;
  if (++h.next == capacity_) {
    h.next = 0;
    // Subtracting drifts; start afresh now and then. The series follow in
    // RecomputePairs.
    if (h.count == capacity_ && ++h.passes % kPassesPerRecompute == 0) {
      h.recompute = true;
      const double shift = h.xs[0] - h.x_origin;
      h.x_origin = h.xs[0];
      h.latest_dx -= shift;
      h.sx = h.sxx = 0;
      for (int i = 0; i < h.count; ++i) {
        const double x = h.xs[i] - h.x_origin;
        h.sx += x;
        h.sxx += x * x;
      }
    }
  }
  const double n = h.count;
  const double vxx = n * h.sxx - h.sx * h.sx;
  h.check = h.count >= 2 && vxx > 0;
  h.terms.n = Splat(n);
  h.terms.sx = Splat(h.sx);
  h.terms.vxx = Splat(vxx);
  h.terms.latest = Splat(n * h.latest_dx - h.sx);
  h.terms.r2vxx = Splat(min_r_squared * vxx);
  h.terms.nw = Splat(n * within);
}

void Trends::AddPairs(const History& h, int p0, int p1) {
  if (h.first) {  // these groups start (or start again) here
    for (int p = p0; p < p1; ++p) {
      y_origin_[p] = Load(&y_[2 * p]);
      sy_[p] = sxy_[p] = syy_[p] = Splat(0);
    }
  }
  const bool test = h.check && !h.recompute;
  if (h.full) {
    test ? AddPairs<true, true>(h, p0, p1) : AddPairs<true, false>(h, p0, p1);
  } else {
    test ? AddPairs<false, true>(h, p0, p1) : AddPairs<false, false>(h, p0, p1);
  }
  if (h.recompute) {
    RecomputePairs(h, p0, p1);
    if (h.check) TestPairs(h, p0, p1);
  }
}

template <bool kFull, bool kReaching>
void Trends::AddPairs(const History& h, int p0, int p1) {
  const int slot = h.next == 0 ? capacity_ - 1 : h.next - 1;  // Advance moved past it
  uint8_t any = 0;
  int p = p0;
  if (avx2_ && p1 - p0 >= 2) {
    const Lanes lanes{
        .y = y_.data(),
        .origin = reinterpret_cast<const double*>(y_origin_.data()),
        .target = reinterpret_cast<const double*>(target_.data()),
        .sy = reinterpret_cast<double*>(sy_.data()),
        .sxy = reinterpret_cast<double*>(sxy_.data()),
        .syy = reinterpret_cast<double*>(syy_.data()),
        .samples = reinterpret_cast<double*>(&samples_[slot * stride_]),
        .flags = flags_.data(),
    };
    const XScalars x{.dx = h.dx,
                     .ox = h.ox,
                     .n = h.terms.n[0],
                     .sx = h.terms.sx[0],
                     .vxx = h.terms.vxx[0],
                     .latest = h.terms.latest[0],
                     .r2vxx = h.terms.r2vxx[0],
                     .nw = h.terms.nw[0]};
    p = p0 + ((p1 - p0) & ~1);
    any = AddQuads<kFull, kReaching>(lanes, x, p0, p);
  }
  // The SSE2 loop: every pair without AVX2, else the last of an odd run.
  const double* __restrict y = y_.data();
  const Pair* __restrict yo = y_origin_.data();
  Pair* __restrict sums_y = sy_.data();
  Pair* __restrict sums_xy = sxy_.data();
  Pair* __restrict sums_yy = syy_.data();
  Pair* __restrict samples = &samples_[slot * stride_];
  const Pair* __restrict target = target_.data();
  uint8_t* __restrict flags = flags_.data();
  const double dx = h.dx;
  const double ox = h.ox;
  const XTerms terms = h.terms;  // a copy: the stores below could alias it
  for (; p < p1; ++p) {
    Pair& sample = samples[p];
    const Pair new_y = Load(y + 2 * p);
    const Pair dy = new_y - yo[p];
    Pair s_y, s_xy, s_yy;
    if constexpr (kFull) {
      // Replace the oldest sample's share of the sums with the new one's.
      const Pair oy = sample - yo[p];
      s_y = sums_y[p] + (dy - oy);
      s_xy = sums_xy[p] + (dx * dy - ox * oy);
      s_yy = sums_yy[p] + (dy * dy - oy * oy);
    } else {
      s_y = sums_y[p] + dy;
      s_xy = sums_xy[p] + dx * dy;
      s_yy = sums_yy[p] + dy * dy;
    }
    sums_y[p] = s_y;
    sums_xy[p] = s_xy;
    sums_yy[p] = s_yy;
    sample = new_y;
    const uint8_t bits = kReaching ? PairReaching(s_y, s_xy, s_yy, target[p] - yo[p], terms) : 0;
    flags[p] = static_cast<uint8_t>(bits | Bits(new_y > target[p]) << kAboveShift);
    any |= flags[p];
  }
  any_reaching_ |= (any & kReachingBits) != 0;
  any_above_ |= (any >> kAboveShift) != 0;
}

void Trends::RecomputePairs(const History& h, int p0, int p1) {
  // next is 0 again: samples are oldest first.
  for (int p = p0; p < p1; ++p) {
    const Pair yo = samples_[p];
    Pair s_y = Splat(0), s_xy = Splat(0), s_yy = Splat(0);
    for (int i = 0; i < h.count; ++i) {
      const double dx = h.xs[i] - h.x_origin;
      const Pair dy = samples_[i * stride_ + p] - yo;
      s_y += dy;
      s_xy += dx * dy;
      s_yy += dy * dy;
    }
    y_origin_[p] = yo;
    sy_[p] = s_y;
    sxy_[p] = s_xy;
    syy_[p] = s_yy;
  }
}

void Trends::TestPairs(const History& h, int p0, int p1) {
  const XTerms terms = h.terms;
  for (int p = p0; p < p1; ++p) {
    const uint8_t bits = PairReaching(sy_[p], sxy_[p], syy_[p], target_[p] - y_origin_[p], terms);
    flags_[p] = static_cast<uint8_t>((flags_[p] & ~kReachingBits) | bits);
    any_reaching_ |= bits != 0;
  }
}

double Trends::oldest_x(int g) const {
  const History& h = histories_[groups_[g].history];
  return h.xs[h.count < capacity_ ? 0 : h.next];
}

std::optional<LineFit> Trends::Fit(int g, int s) const {
  if (size(g) < 2) return std::nullopt;
  const History& h = histories_[groups_[g].history];
  const int p = groups_[g].first_pair + s / 2;
  const int lane = s % 2;
  const double n = h.count;
  const double mx = h.sx / n;
  const double my = sy_[p][lane] / n;
  const double vxx = h.sxx - n * mx * mx;
  const double vxy = sxy_[p][lane] - n * mx * my;
  const double vyy = syy_[p][lane] - n * my * my;
  if (!(vxx > 0)) return std::nullopt;
  LineFit fit;
  fit.points = h.count;
  fit.slope = vxy / vxx;
  fit.intercept = y_origin_[p][lane] + my - fit.slope * (mx + h.x_origin);
  if (vyy > 0) {
    fit.r_squared = vxy * vxy / (vxx * vyy);
    if (fit.r_squared > 1) fit.r_squared = 1;
  }
  return fit;
}

}  // namespace gridprobe::budgets
