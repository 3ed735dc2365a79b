// The profiling commands: `attach PID`, `attach --all` and `run -- CMD`.
// Each assembles the pipeline (analyzers and sinks) the settings ask for,
// checks every output, attaches, and hands the loop to the agent.
#ifndef GRIDPROBE_USERSPACE_CLI_PROFILE_H_
#define GRIDPROBE_USERSPACE_CLI_PROFILE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "userspace/cli/settings.h"

namespace gridprobe {

// gridprobe attach PID | attach --all.
absl::Status Attach(const std::string& pid_text, const ProfileFlags& flags);

// gridprobe run -- PROGRAM ARGS...: starts the program held at its entry
// point, attaches, lets it run and profiles it to the end.
absl::Status Run(const std::vector<std::string>& command, const ProfileFlags& flags);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_CLI_PROFILE_H_
