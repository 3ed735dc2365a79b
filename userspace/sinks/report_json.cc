#include "userspace/sinks/report_json.h"

#include "userspace/model/format.h"

namespace gridprobe {

nlohmann::json ReportJson(const Snapshot& snap, const Losses& losses) {
  nlohmann::json ops = nlohmann::json::array();
  for (const OpStats& op : snap.ops) ops.push_back(OpJson(op));
  return {{"schema", "gridprobe.report/1"},
          {"target", {{"pid", snap.target.pid}, {"comm", snap.target.comm},
                      {"exe", snap.target.exe}}},
          {"window", {{"start", Rfc3339(snap.start)}, {"end", Rfc3339(snap.end)},
                      {"seconds", snap.seconds()}}},
          {"probes",
           {{"count", losses.probes},
            {"missed_hits", losses.missed_hits},
            {"skipped_exit_sites", losses.skipped_exit_sites}}},
          {"operations", ops}};
}

}  // namespace gridprobe
