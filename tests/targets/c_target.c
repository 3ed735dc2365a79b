/*
 * A C process for the return-mode tests: its module imports nothing that
 * throws, longjmps or switches stacks, so gridprobe may time its plain
 * functions with uretprobes. Prints "ready <pid>", waits for a line on stdin,
 * runs, prints "done" and exits 0.
 *
 * usage: c_target threads N     4 threads, N calls of c_work each
 *        c_target apply N       N calls of c_apply (calls through a pointer)
 *        c_target recurse D R   R calls of c_recurse(D)
 *        c_target sort N        sorts N numbers with c_sort
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile long c_sink;

__attribute__((noinline)) long c_leaf(long x)
{
	__asm__ volatile("" ::: "memory");
	c_sink = c_sink + x;
	return x * 3;
}

/* Calls only a fixed function: fast. */
__attribute__((noinline)) long c_work(long x)
{
	long r = c_leaf(x);

	__asm__ volatile("" ::: "memory");
	return r + 1;
}

/* Calls through a pointer, as a library calls a user's callback: safe.
 * noipa: no clone of it with the pointer made constant. */
__attribute__((noipa)) long c_apply(long (*fn)(long), long x)
{
	long r = fn(x);

	__asm__ volatile("" ::: "memory");
	return r + 1;
}

/* Reaches a call through a pointer in c_apply: safe. */
__attribute__((noinline)) long c_via_apply(long x)
{
	long r = c_apply(c_leaf, x);

	__asm__ volatile("" ::: "memory");
	return r + 1;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Hands a callback to qsort, which calls it on this stack: safe. */
__attribute__((noinline)) void c_sort(long *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_long);
}

/* Calls itself: safe. */
__attribute__((noinline)) long c_recurse(long depth)
{
	long r;

	if (depth <= 0)
		return c_leaf(1);
	r = c_recurse(depth - 1);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}

static long calls;

static void *worker(void *arg)
{
	(void)arg;
	for (long i = 0; i < calls; i++)
		c_work(i);
	return NULL;
}

int main(int argc, char **argv)
{
	char line[64];
	long a, b;

	if (argc < 3) {
		fprintf(stderr, "usage: c_target threads N | apply N | recurse DEPTH REPS | sort N\n");
		return 2;
	}
	a = atol(argv[2]);
	b = argc > 3 ? atol(argv[3]) : 0;
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 2;

	if (strcmp(argv[1], "threads") == 0) {
		pthread_t t[4];

		calls = a;
		for (int i = 0; i < 4; i++)
			if (pthread_create(&t[i], NULL, worker, NULL) != 0)
				return 1;
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
	} else if (strcmp(argv[1], "apply") == 0) {
		for (long i = 0; i < a; i++)
			c_apply(c_leaf, i);
	} else if (strcmp(argv[1], "sort") == 0) {
		long v[64];

		for (long i = 0; i < 64; i++)
			v[i] = (i * 37) % 64;
		c_sort(v, (size_t)(a < 64 ? a : 64));
	} else if (strcmp(argv[1], "recurse") == 0) {
		for (long i = 0; i < b; i++)
			c_recurse(a);
	} else {
		fprintf(stderr, "unknown mode %s\n", argv[1]);
		return 2;
	}
	printf("done\n");
	fflush(stdout);
	return 0;
}
