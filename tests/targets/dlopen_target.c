/*
 * The dlopen e2e test's target. Maps no library of interest at start; then
 * obeys one command per line on stdin and answers "ok" after each:
 *   load        dlopen(LIBRARY)   (argv[1])
 *   call N      N calls of gpdl_work
 *   unload      dlclose; the library is unmapped
 *   alloc N     N calls of malloc, each freed at once
 *   exit
 * Prints "ready PID" first.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char line[256];
	void *lib = NULL;
	long (*work)(long) = NULL;
	volatile long sink = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: dlopen_target LIBRARY\n");
		return 2;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (strncmp(line, "load", 4) == 0) {
			lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
			if (lib == NULL) {
				fprintf(stderr, "dlopen: %s\n", dlerror());
				return 1;
			}
			work = (long (*)(long))dlsym(lib, "gpdl_work");
		} else if (strncmp(line, "call ", 5) == 0) {
			long n = atol(line + 5);

			for (long i = 0; i < n; i++)
				sink += work(i);
		} else if (strncmp(line, "unload", 6) == 0) {
			dlclose(lib);
			lib = NULL;
			work = NULL;
		} else if (strncmp(line, "alloc ", 6) == 0) {
			long n = atol(line + 6);

			for (long i = 0; i < n; i++) {
				/* volatile: the pair must not be optimized away */
				char *volatile p = malloc(64);

				free(p);
			}
		} else if (strncmp(line, "exit", 4) == 0) {
			break;
		}
		printf("ok\n");
		fflush(stdout);
	}
	return 0;
}
