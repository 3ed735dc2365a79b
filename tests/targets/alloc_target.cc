// A process for the memory bpf tests: allocates in known patterns inside and
// outside probed "operations", from several threads. Prints "ready", waits
// for a line on stdin, runs, prints "done" and waits for a last line before
// exiting (so the test can read the live allocations while it lives).
//
// Pattern (all sizes exact):
//  - before "go": 100 x malloc(1000) kept, freed after "go" (allocated before attach)
//  - work::Op (an operation) on 4 threads, 50 calls each:
//      malloc(100) kept; calloc(10, 30) freed in the call; realloc chain
//      64 -> 128 -> 4096 kept; posix_memalign(64, 256) kept; aligned_alloc(64, 128),
//      valloc(512), pvalloc(100) freed; C++: new char[200] kept, new Node (48 bytes),
//      new (nothrow) char[40], new Aligned (128 bytes, 64-aligned) deleted
//  - outside operations: 10 x malloc(700) kept (unattributed)
//  - blocks kept by Op on thread t are freed by thread (t+1)%4 for half of them
//    (the C blocks with free, the new[] blocks with delete[])
// Built dynamically (run alone or with a preloaded jemalloc/tcmalloc) and
// statically (alloc_target_static: glibc's and libstdc++'s own copies).
// `--no-pvalloc` leaves pvalloc out, for allocators that do not define it
// (jemalloc): glibc's would hand the replacement's free a block it never made.
#include <unistd.h>

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace work {

std::mutex mu;
void* volatile escape;  // keeps the compiler from eliding malloc/free pairs
std::vector<void*> kept[4];
std::vector<char*> kept_new[4];
bool use_pvalloc = true;

struct Node {
  char bytes[48];
};
struct alignas(64) Aligned {
  char bytes[128];
};
static_assert(sizeof(Node) == 48 && sizeof(Aligned) == 128, "the test counts these sizes");

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
  escape = valloc(512);
  std::free(escape);
  if (use_pvalloc) {
    escape = pvalloc(100);
    std::free(escape);
  }
  char* arr = new char[200];
  Node* node = new Node;
  escape = node;
  delete static_cast<Node*>(escape);
  char* nothrow = new (std::nothrow) char[40];
  escape = nothrow;
  delete[] static_cast<char*>(escape);
  Aligned* aligned = new Aligned;
  escape = aligned;
  delete static_cast<Aligned*>(escape);
  std::lock_guard<std::mutex> lock(mu);
  kept[t].push_back(a);
  kept[t].push_back(r);
  kept[t].push_back(pm);
  kept_new[t].push_back(arr);
  asm volatile("" ::: "memory");
}

}  // namespace work

int main(int argc, char** argv) {
  work::use_pvalloc = !(argc > 1 && std::string(argv[1]) == "--no-pvalloc");
  std::vector<void*> before;
  for (int i = 0; i < 100; ++i) before.push_back(std::malloc(1000));
  for (auto& k : work::kept) k.reserve(1000);  // no vector growth inside Op
  for (auto& k : work::kept_new) k.reserve(1000);
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
      auto& n = work::kept_new[(t + 1) % 4];
      for (size_t i = 0; i < n.size() / 2; ++i) delete[] n[i];
    });
  }
  for (auto& t : ts) t.join();
  std::printf("done\n");
  std::fflush(stdout);
  std::getline(std::cin, line);
  return 0;
}
