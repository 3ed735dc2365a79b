// A process for the bpf tier to probe: known numbers of calls, from several
// threads, nested, recursive and with exceptions thrown through probed
// functions. Prints "ready <pid>", waits for a line on stdin, runs, prints
// "done" and exits 0; dies loudly if anything went wrong.
//
// usage: probe_target threads N | nest N | recurse DEPTH REPS | throw N | all
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace target {

volatile long sink;

__attribute__((noinline)) long Leaf(long x) {
  asm volatile("" ::: "memory");
  sink = sink + x;
  return x * 3;
}

__attribute__((noinline)) long Outer(long n) {
  long s = 0;
  for (long i = 0; i < n; ++i) s += Leaf(i);
  asm volatile("" ::: "memory");
  return s;
}

__attribute__((noinline)) long Recurse(long depth) {
  if (depth <= 0) return Leaf(1);
  long r = Recurse(depth - 1);
  asm volatile("" ::: "memory");
  return r + 1;  // work after the call: no tail call
}

__attribute__((noinline)) long Thrower(long i) {
  if (i % 2 == 1) throw std::runtime_error("odd");
  return Leaf(i);
}

__attribute__((noinline)) long Middle(long i) {
  long r = Thrower(i);
  asm volatile("" ::: "memory");
  return r + 1;
}

}  // namespace target

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: probe_target threads N | nest N | recurse DEPTH REPS | throw N\n");
    return 2;
  }
  std::string mode = argv[1];
  long a = argc > 2 ? std::atol(argv[2]) : 0;
  long b = argc > 3 ? std::atol(argv[3]) : 0;
  std::printf("ready %d\n", getpid());
  std::fflush(stdout);
  std::string line;
  std::getline(std::cin, line);

  if (mode == "threads") {
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
      ts.emplace_back([a] {
        for (long i = 0; i < a; ++i) target::Leaf(i);
      });
    }
    for (auto& t : ts) t.join();
  } else if (mode == "nest") {
    for (long i = 0; i < a; ++i) target::Outer(5);
  } else if (mode == "recurse") {
    for (long i = 0; i < b; ++i) target::Recurse(a);
  } else if (mode == "throw") {
    long caught = 0;
    for (long i = 0; i < a; ++i) {
      try {
        target::Middle(i);
      } catch (const std::runtime_error&) {
        ++caught;
      }
    }
    std::printf("caught %ld\n", caught);
  } else {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  std::printf("done\n");
  std::fflush(stdout);
  return 0;
}
