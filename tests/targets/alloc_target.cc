// A process for the memory bpf tests: allocates in known patterns inside and
// outside probed "operations", from several threads. Prints "ready", waits
// for a line on stdin, runs, prints "done" and waits for a last line before
// exiting (so the test can read the live allocations while it lives).
//
// Pattern (all sizes exact):
//  - before "go": 100 x malloc(1000) kept, freed after "go" (allocated before attach)
//  - work::Op (an operation) on 4 threads, 50 calls each:
//      malloc(100) kept; calloc(10, 30) freed in the call; realloc chain
//      64 -> 128 -> 4096 kept; posix_memalign(64, 256) kept; aligned_alloc(64, 128) freed
//  - outside operations: 10 x malloc(700) kept (unattributed)
//  - blocks kept by Op on thread t are freed by thread (t+1)%4 for half of them
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace work {

std::mutex mu;
void* volatile escape;  // keeps the compiler from eliding malloc/free pairs
std::vector<void*> kept[4];

__attribute__((noinline)) void Op(int t) {
  void* a = std::malloc(100);
  void* c = std::calloc(10, 30);
  escape = c;
  std::free(escape);
  void* r = std::malloc(64);
  r = std::realloc(r, 128);
  r = std::realloc(r, 4096);
  void* pm = nullptr;
  if (posix_memalign(&pm, 64, 256) != 0) std::abort();
  void* al = aligned_alloc(64, 128);
  escape = al;
  std::free(escape);
  std::lock_guard<std::mutex> lock(mu);
  kept[t].push_back(a);
  kept[t].push_back(r);
  kept[t].push_back(pm);
  asm volatile("" ::: "memory");
}

}  // namespace work

int main() {
  std::vector<void*> before;
  for (int i = 0; i < 100; ++i) before.push_back(std::malloc(1000));
  for (auto& k : work::kept) k.reserve(1000);  // no vector growth inside Op
  std::printf("ready %d\n", getpid());
  std::fflush(stdout);
  std::string line;
  std::getline(std::cin, line);

  for (void* p : before) std::free(p);  // unknown to the probes
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([t] {
      for (int i = 0; i < 50; ++i) work::Op(t);
    });
  }
  for (auto& t : ts) t.join();
  std::vector<void*> outside;
  outside.reserve(10);
  for (int i = 0; i < 10; ++i) outside.push_back(std::malloc(700));
  // Half of each thread's blocks are freed by another thread.
  ts.clear();
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([t] {
      auto& v = work::kept[(t + 1) % 4];
      for (size_t i = 0; i < v.size() / 2; ++i) std::free(v[i]);
    });
  }
  for (auto& t : ts) t.join();
  std::printf("done\n");
  std::fflush(stdout);
  std::getline(std::cin, line);
  return 0;
}
