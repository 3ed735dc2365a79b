/*
 * A C program that longjmps out of c_jump_work's callee: no function of this
 * module may get a uretprobe. Only read by the resolver tests, never run under
 * probes.
 */
#include <setjmp.h>
#include <stdio.h>

static jmp_buf env;

__attribute__((noinline)) void c_jump_out(int v)
{
	if (v > 0)
		longjmp(env, v);
}

__attribute__((noinline)) int c_jump_work(int v)
{
	c_jump_out(v);
	__asm__ volatile("" ::: "memory");
	return v + 1;
}

int main(int argc, char **argv)
{
	(void)argv;
	if (setjmp(env) != 0) {
		puts("jumped");
		return 0;
	}
	return c_jump_work(argc - 1);
}
