/*
 * The attach/detach benchmark's target: 50 small functions, mf_00 to mf_49,
 * called round after round, every millisecond, until it is killed. Timing
 * every one in either return mode takes 100 probes (entry plus uretprobe,
 * or entry plus its one ret). Prints "ready PID".
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define MF(n)                                                   \
	__attribute__((noinline)) long mf_##n(long x)           \
	{                                                       \
		__asm__ volatile("" ::: "memory");              \
		return x * 3 + (1##n - 100);                    \
	}
#define MF10(d) MF(d##0) MF(d##1) MF(d##2) MF(d##3) MF(d##4) MF(d##5) MF(d##6) MF(d##7) MF(d##8) MF(d##9)
MF10(0) MF10(1) MF10(2) MF10(3) MF10(4)

#define CALL(n) x = mf_##n(x);
#define CALL10(d)                                                                              \
	CALL(d##0) CALL(d##1) CALL(d##2) CALL(d##3) CALL(d##4) CALL(d##5) CALL(d##6) CALL(d##7) \
	CALL(d##8) CALL(d##9)

int main(void)
{
	volatile long sink = 0;
	struct timespec ms = { 0, 1000000 };

	printf("ready %d\n", getpid());
	fflush(stdout);
	for (;;) {
		long x = sink;

		CALL10(0) CALL10(1) CALL10(2) CALL10(3) CALL10(4)
		sink = x;
		nanosleep(&ms, NULL);
	}
}
