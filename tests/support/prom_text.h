// Test support: a strict reader of the Prometheus text exposition format
// 0.0.4, written from the format's rules (docs/exporters.md), not from
// gridprobe's renderer, so a page it accepts is one Prometheus accepts.
#ifndef GRIDPROBE_TESTS_SUPPORT_PROM_TEXT_H_
#define GRIDPROBE_TESTS_SUPPORT_PROM_TEXT_H_

#include <map>
#include <string>
#include <vector>

namespace gridprobe::testing {

struct PromSample {
  std::string name;                           // with _bucket/_sum/_count
  std::map<std::string, std::string> labels;  // unescaped
  double value = 0;
};

struct PromFamily {
  std::string name;
  std::string type;
  std::string help;  // unescaped
  std::vector<PromSample> samples;
};

struct PromPage {
  std::vector<PromFamily> families;
  const PromFamily* Find(const std::string& name) const;
  // The samples of `name` whose labels include all of `match`.
  std::vector<const PromSample*> Select(const std::string& name,
                                        const std::map<std::string, std::string>& match) const;
};

// Parses `text`; returns "" and fills *page, or the first rule broken, with
// its line number. Checks: UTF-8, line syntax and escapes, names, one HELP and TYPE
// per family before its samples, families contiguous, no repeated series,
// and per histogram series: le increasing, counts cumulative, a +Inf bucket
// equal to _count, and _sum present.
std::string ParsePromText(const std::string& text, PromPage* page);

// histogram_quantile as Prometheus computes it for classic buckets
// (promql/quantile.go: linear interpolation inside the bucket that holds
// the rank q*count; the first bucket starts at 0), over (le, cumulative
// count) pairs sorted by le, the +Inf bucket last.
double HistogramQuantile(double q, const std::vector<std::pair<double, double>>& buckets);

}  // namespace gridprobe::testing

#endif  // GRIDPROBE_TESTS_SUPPORT_PROM_TEXT_H_
