// The demo run as a whole: data setup, the start handshake, workers, stop on deadline or signal.

#ifndef GRIDKIT_DEMO_DEMO_H_
#define GRIDKIT_DEMO_DEMO_H_

#include "absl/status/statusor.h"
#include "options.h"
#include "truth.h"

namespace gridkit_demo {

// Blocks SIGINT, SIGTERM and SIGUSR1 in the calling thread. Call first thing in main(), before
// any thread exists: threads inherit the mask, so these signals are only ever taken by the
// run's sigwait and can neither kill the process early nor interrupt a worker.
void BlockControlSignals();

// Loads one Grid per thread, prints the ready line, optionally waits for SIGUSR1, then runs the
// workers until the duration expires or SIGINT/SIGTERM arrives.
// REQUIRES: BlockControlSignals() was called.
absl::StatusOr<RunFacts> RunDemo(const Options& options);

}  // namespace gridkit_demo

#endif  // GRIDKIT_DEMO_DEMO_H_
