// The six gridkit operations the demo drives, by the names gridkit passes to checkpoints.

#ifndef GRIDKIT_DEMO_OPS_H_
#define GRIDKIT_DEMO_OPS_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace gridkit_demo {

// In cycle order.
enum class Op { kRowModelBuild, kFilter, kSort, kGroup, kPaginate, kRender };

inline constexpr size_t kNumOps = 6;

inline constexpr std::array<std::string_view, kNumOps> kOpNames = {
    "rowModelBuild", "filter", "sort", "group", "paginate", "render"};

inline constexpr size_t Index(Op op) { return static_cast<size_t>(op); }

inline std::optional<Op> OpFromName(std::string_view name) {
  for (size_t i = 0; i < kNumOps; ++i) {
    if (kOpNames[i] == name) return static_cast<Op>(i);
  }
  return std::nullopt;
}

}  // namespace gridkit_demo

#endif  // GRIDKIT_DEMO_OPS_H_
