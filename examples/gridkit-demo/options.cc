#include "options.h"

#include "faults.h"

#include <cmath>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace gridkit_demo {
namespace {

// Bounds --duration and fault spans.
constexpr double kMaxSeconds = 1e7;

absl::Status Bad(absl::string_view flag, absl::string_view value, absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(flag, " ", value, ": expected ", want));
}

std::optional<double> ParseDouble(absl::string_view text, double min, double max) {
  double v;
  if (!absl::SimpleAtod(text, &v) || !std::isfinite(v) || v < min || v > max) {
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> ParseInt(absl::string_view text, int64_t min, int64_t max) {
  int64_t v;
  if (!absl::SimpleAtoi(text, &v) || v < min || v > max) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseBytes(absl::string_view text) {
  uint64_t unit = 1;
  if (!text.empty()) {
    switch (absl::ascii_toupper(static_cast<unsigned char>(text.back()))) {
      case 'K':
        unit = uint64_t{1} << 10;
        break;
      case 'M':
        unit = uint64_t{1} << 20;
        break;
      case 'G':
        unit = uint64_t{1} << 30;
        break;
      default:
        break;
    }
    if (unit != 1) text.remove_suffix(1);
  }
  uint64_t v;
  if (!absl::SimpleAtoi(text, &v) || v == 0 || v > (uint64_t{1} << 40) / unit) {
    return std::nullopt;
  }
  return v * unit;
}

// A fault flag's value "OP=BODY[/FROM-TO]", split.
struct FaultSpec {
  Op op;
  absl::string_view body;  // What the fault does, e.g. "150@20" for --slow.
  TimeSpan span;           // The whole run without "/FROM-TO".
};

// Resolves OP and parses the optional span; `want` names the expected form in errors.
absl::StatusOr<FaultSpec> SplitFaultSpec(absl::string_view flag, absl::string_view value,
                                         absl::string_view want) {
  size_t eq = value.find('=');
  std::optional<Op> op =
      eq == absl::string_view::npos ? std::nullopt : OpFromName(std::string(value.substr(0, eq)));
  if (!op) {
    return Bad(flag, value,
               absl::StrCat(want,
                            " with OP one of rowModelBuild, filter, sort, group, "
                            "paginate, render"));
  }
  FaultSpec spec{*op, value.substr(eq + 1), TimeSpan{}};
  size_t slash = spec.body.find('/');
  if (slash == absl::string_view::npos) return spec;
  absl::string_view span = spec.body.substr(slash + 1);
  spec.body = spec.body.substr(0, slash);
  size_t dash = span.find('-');
  std::optional<double> from, to;
  if (dash != absl::string_view::npos) {
    from = ParseDouble(span.substr(0, dash), 0, kMaxSeconds);
    to = ParseDouble(span.substr(dash + 1), 0, kMaxSeconds);
  }
  if (!from || !to || *to <= *from) {
    return Bad(flag, value, "a span /FROM-TO in seconds after the start with 0 <= FROM < TO");
  }
  spec.span = TimeSpan{*from, *to};
  return spec;
}

// Splits "A@B" into its two halves.
std::optional<std::pair<absl::string_view, absl::string_view>> SplitAt(absl::string_view text) {
  size_t at = text.find('@');
  if (at == absl::string_view::npos) return std::nullopt;
  return std::make_pair(text.substr(0, at), text.substr(at + 1));
}

absl::Status ApplyFlag(absl::string_view flag, absl::string_view value, Options& options) {
  if (flag == "--rows") {
    std::optional<int64_t> v = ParseInt(value, 1, 100'000'000);
    if (!v) return Bad(flag, value, "an integer in [1, 100000000]");
    options.rows = *v;
  } else if (flag == "--threads") {
    std::optional<int64_t> v = ParseInt(value, 1, 256);
    if (!v) return Bad(flag, value, "an integer in [1, 256]");
    options.threads = static_cast<int>(*v);
  } else if (flag == "--rate") {
    std::optional<double> v = ParseDouble(value, 0, 1e6);
    if (!v) return Bad(flag, value, "calls per second in [0, 1000000]");
    options.rate = *v;
  } else if (flag == "--duration") {
    std::optional<double> v = ParseDouble(value, 0, kMaxSeconds);
    if (!v) return Bad(flag, value, "seconds >= 0");
    options.duration_s = *v;
  } else if (flag == "--seed") {
    uint64_t v;
    if (!absl::SimpleAtoi(value, &v)) return Bad(flag, value, "an unsigned integer");
    options.seed = v;
  } else if (flag == "--truth") {
    if (value.empty()) return Bad(flag, value, "a file name");
    options.truth_path = std::string(value);
  } else if (flag == "--slow") {
    constexpr absl::string_view kWant = "OP=MS@PCT[/FROM-TO]";
    absl::StatusOr<FaultSpec> spec = SplitFaultSpec(flag, value, kWant);
    if (!spec.ok()) return spec.status();
    auto parts = SplitAt(spec->body);
    std::optional<double> ms = parts ? ParseDouble(parts->first, 0, 1e6) : std::nullopt;
    std::optional<double> pct = parts ? ParseDouble(parts->second, 0, 100) : std::nullopt;
    if (!ms || !pct) {
      return Bad(flag, value, absl::StrCat(kWant, " with MS >= 0 and PCT in [0, 100]"));
    }
    OpFaults& f = options.faults[Index(spec->op)];
    f.slow_ms = *ms;
    f.slow_percent = *pct;
    f.slow_span = spec->span;
  } else if (flag == "--leak") {
    constexpr absl::string_view kWant = "OP=BYTES[/FROM-TO]";
    absl::StatusOr<FaultSpec> spec = SplitFaultSpec(flag, value, kWant);
    if (!spec.ok()) return spec.status();
    std::optional<uint64_t> bytes = ParseBytes(spec->body);
    if (!bytes || *bytes < kMinFaultBlockBytes) {
      return Bad(flag, value, absl::StrCat(kWant, " with BYTES >= 16"));
    }
    OpFaults& f = options.faults[Index(spec->op)];
    f.leak_bytes = *bytes;
    f.leak_span = spec->span;
  } else if (flag == "--cache") {
    constexpr absl::string_view kWant = "OP=BYTES@MAXBYTES[/FROM-TO]";
    absl::StatusOr<FaultSpec> spec = SplitFaultSpec(flag, value, kWant);
    if (!spec.ok()) return spec.status();
    auto parts = SplitAt(spec->body);
    std::optional<uint64_t> bytes = parts ? ParseBytes(parts->first) : std::nullopt;
    std::optional<uint64_t> max = parts ? ParseBytes(parts->second) : std::nullopt;
    if (!bytes || !max || *bytes < kMinFaultBlockBytes || *max < *bytes) {
      return Bad(flag, value, absl::StrCat(kWant, " with 16 <= BYTES <= MAXBYTES"));
    }
    OpFaults& f = options.faults[Index(spec->op)];
    f.cache_bytes = *bytes;
    f.cache_max_bytes = *max;
    f.cache_span = spec->span;
  } else if (flag == "--throw") {
    constexpr absl::string_view kWant = "OP=PCT[/FROM-TO]";
    absl::StatusOr<FaultSpec> spec = SplitFaultSpec(flag, value, kWant);
    if (!spec.ok()) return spec.status();
    std::optional<double> pct = ParseDouble(spec->body, 0, 100);
    if (!pct) return Bad(flag, value, absl::StrCat(kWant, " with PCT in [0, 100]"));
    OpFaults& f = options.faults[Index(spec->op)];
    f.throw_percent = *pct;
    f.throw_span = spec->span;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown flag ", flag, " (see --help)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args) {
  Options options;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      options.help = true;
      continue;
    }
    if (arg == "--wait-start") {
      options.wait_start = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument ", arg));
    }
    absl::string_view flag = arg;
    absl::string_view value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat(flag, " needs a value"));
    }
    if (absl::Status status = ApplyFlag(flag, value, options); !status.ok()) return status;
  }
  return options;
}

std::string Usage() {
  return R"(usage: gridkit-demo [flags]
Drives libgridkit like an interactive application: every thread owns a Grid and repeats
buildRowModel, filter, sort, group, paginate, render.
  --rows N                        rows per grid (20000)
  --threads T                     worker threads, one Grid each (2)
  --rate R                        operation calls per second over all threads, 0 = unpaced (40)
  --duration S                    seconds, decimals allowed, 0 = until SIGINT/SIGTERM (30)
  --seed S                        random seed for data, parameters and faults (1)
  --wait-start                    after loading data, print the ready line and wait for SIGUSR1
  --truth FILE                    write measured per-operation facts as JSON at exit
  --slow OP=MS@PCT[/FROM-TO]      in PCT% of OP calls, burn MS ms of CPU inside the call
  --leak OP=BYTES[/FROM-TO]       every OP call leaks BYTES
  --cache OP=BYTES@MAX[/FROM-TO]  every OP call adds BYTES to a FIFO cache bounded at MAX bytes
  --throw OP=PCT[/FROM-TO]        in PCT% of OP calls, cancel the call with an exception
OP: rowModelBuild, filter, sort, group, paginate, render. BYTES take a K, M or G suffix.
/FROM-TO: the fault acts only on calls starting FROM <= t < TO seconds after the workers
start (decimals allowed); without it, for the whole run.
Fault flags may be repeated, once per OP.
)";
}

}  // namespace gridkit_demo
