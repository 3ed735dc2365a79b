// gridkit-demo: drives libgridkit like an interactive application and records, per operation,
// what really happened, for checking a profiler against.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "demo.h"
#include "options.h"
#include "truth.h"

int main(int argc, char** argv) {
  gridkit_demo::BlockControlSignals();

  absl::StatusOr<gridkit_demo::Options> options =
      gridkit_demo::ParseOptions(std::vector<std::string>(argv + 1, argv + argc));
  if (!options.ok()) {
    std::fprintf(stderr, "gridkit-demo: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(gridkit_demo::Usage().c_str(), stdout);
    return 0;
  }

  absl::StatusOr<gridkit_demo::RunFacts> facts = gridkit_demo::RunDemo(*options);
  if (!facts.ok()) {
    std::fprintf(stderr, "gridkit-demo: %s\n", std::string(facts.status().message()).c_str());
    return 1;
  }
  if (!options->truth_path.empty()) {
    absl::Status status = gridkit_demo::WriteFileAtomically(
        options->truth_path, gridkit_demo::TruthJson(*facts).dump(2) + "\n");
    if (!status.ok()) {
      std::fprintf(stderr, "gridkit-demo: truth: %s\n", std::string(status.message()).c_str());
      return 1;
    }
  }
  uint64_t calls = facts->CallsTotal();
  std::fprintf(stderr, "gridkit-demo: %llu calls in %.2fs (%.1f/s), %llu thrown, cpu %.2fs\n",
               static_cast<unsigned long long>(calls), facts->elapsed_s,
               facts->elapsed_s > 0 ? static_cast<double>(calls) / facts->elapsed_s : 0.0,
               static_cast<unsigned long long>(facts->ThrownTotal()), facts->cpu_s);
  return 0;
}
