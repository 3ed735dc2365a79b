// A report as one self-contained HTML page: inline CSS and SVG only, no
// script, no external resource of any kind, so it opens offline, from a
// mail attachment or a CI artifact, and prints (docs/report-format.md,
// "HTML").
#ifndef GRIDPROBE_USERSPACE_SINKS_REPORTS_HTML_H_
#define GRIDPROBE_USERSPACE_SINKS_REPORTS_HTML_H_

#include <string>

#include <nlohmann/json.hpp>

namespace gridprobe::reports {

// Renders any gridprobe.report/1 object: time charts need "windows",
// histograms "operations[].histogram", the budget table "budgets.resolved";
// what is missing is said on the page instead of drawn.
std::string RenderHtml(const nlohmann::json& report);

}  // namespace gridprobe::reports

#endif  // GRIDPROBE_USERSPACE_SINKS_REPORTS_HTML_H_
