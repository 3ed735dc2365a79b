/*
 * The per-call cost benchmark's target: a loop calling a tiny function built
 * the way distributions build code (-fcf-protection: endbr64 first;
 * -fno-omit-frame-pointer: push %rbp next). Prints "ready", waits for
 * SIGUSR1 so a tracer can attach first, then prints ns per call.
 *   loop_target CALLS [call|alloc]
 * "alloc" times a malloc(64)+free pair per iteration instead.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) long gp_bench_inner(long x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

/* Not a leaf, so it has the usual prologue: endbr64; push %rbp; mov %rsp,%rbp. */
__attribute__((noinline)) long gp_bench_fn(long x)
{
	long r = gp_bench_inner(x);

	__asm__ volatile("" ::: "memory");
	return r + 1;
}

/* Keeps the compiler from eliding the malloc/free pair. */
void *volatile escape;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long calls = argc > 1 ? atol(argv[1]) : 100000;
	volatile long sink = 0;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready %d\n", getpid());
	fflush(stdout);
	sigwait(&set, &sig);

	int alloc = argc > 2 && strcmp(argv[2], "alloc") == 0;
	double t0 = now_ns();
	if (alloc) {
		for (long i = 0; i < calls; i++) {
			void *p = malloc(64);

			escape = p;
			free(escape);
		}
	} else {
		for (long i = 0; i < calls; i++)
			sink = gp_bench_fn(sink);
	}
	double t1 = now_ns();
	printf("ns_per_call %.1f\n", (t1 - t0) / calls);
	return 0;
}
