/*
 * The sqlite e2e test's target: a program using the system's libsqlite3 the
 * way an application does, timing each of its own API calls with
 * CLOCK_MONOTONIC.
 *   sqlite_workload ROUNDS TRUTH_FILE
 * Builds an in-memory table of 100,000 rows, prints "ready PID", waits for
 * SIGUSR1 (so a profiler can attach first), then runs ROUNDS rounds of
 *   sqlite3_exec     an UPDATE of every row: one statement that returns no
 *                    rows, for which sqlite3_exec calls sqlite3_prepare_v2
 *                    and sqlite3_step once each inside
 *   sqlite3_prepare_v2, sqlite3_step until SQLITE_DONE, sqlite3_reset,
 *   sqlite3_step until SQLITE_DONE again, sqlite3_finalize
 *                    an aggregate query with 10 result rows
 * and writes TRUTH_FILE: per operation, the calls made (its own and those
 * sqlite3_exec made inside), the calls it timed itself, and nearest-rank
 * percentiles and the total of the timed ones.
 */
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { PREPARE, STEP, EXEC, RESET, FINALIZE, NR_OPS };
static const char *const op_names[NR_OPS] = {"prepare", "step", "exec", "reset", "finalize"};

struct op_times {
	uint64_t *ns;
	size_t timed, cap;
	uint64_t calls; /* timed plus those made inside sqlite3_exec */
};

static struct op_times ops[NR_OPS];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void record(int op, uint64_t start)
{
	uint64_t ns = now_ns() - start;
	struct op_times *t = &ops[op];

	if (t->timed == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->ns = realloc(t->ns, t->cap * sizeof(*t->ns));
		if (!t->ns)
			abort();
	}
	t->ns[t->timed++] = ns;
	t->calls++;
}

static void check(sqlite3 *db, int rc, int want, const char *what)
{
	if (rc != want) {
		fprintf(stderr, "sqlite_workload: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t nearest_rank(const uint64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)(q * (double)n);

	if ((double)rank < q * (double)n)
		rank++;
	return sorted[rank < 1 ? 0 : rank - 1];
}

static void setup(sqlite3 *db)
{
	sqlite3_stmt *insert;

	check(db, sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, v REAL)",
			       NULL, NULL, NULL), SQLITE_OK, "create");
	check(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK, "begin");
	check(db, sqlite3_prepare_v2(db, "INSERT INTO t(grp, v) VALUES(?, ?)", -1, &insert, NULL),
	      SQLITE_OK, "prepare insert");
	for (int i = 0; i < 100000; i++) {
		sqlite3_bind_int(insert, 1, i % 10);
		sqlite3_bind_double(insert, 2, i * 0.5);
		check(db, sqlite3_step(insert), SQLITE_DONE, "insert");
		sqlite3_reset(insert);
	}
	sqlite3_finalize(insert);
	check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK, "commit");
}

static void step_all(sqlite3 *db, sqlite3_stmt *stmt)
{
	for (;;) {
		uint64_t t0 = now_ns();
		int rc = sqlite3_step(stmt);

		record(STEP, t0);
		if (rc == SQLITE_DONE)
			return;
		check(db, rc, SQLITE_ROW, "step");
	}
}

static void round_trip(sqlite3 *db)
{
	sqlite3_stmt *stmt;
	uint64_t t0 = now_ns();
	int rc = sqlite3_exec(db, "UPDATE t SET v = v + 1", NULL, NULL, NULL);

	record(EXEC, t0);
	check(db, rc, SQLITE_OK, "exec");
	ops[PREPARE].calls++; /* made inside sqlite3_exec */
	ops[STEP].calls++;

	t0 = now_ns();
	rc = sqlite3_prepare_v2(db, "SELECT grp, count(*), sum(v) FROM t GROUP BY grp", -1, &stmt,
				NULL);
	record(PREPARE, t0);
	check(db, rc, SQLITE_OK, "prepare");
	step_all(db, stmt);
	t0 = now_ns();
	rc = sqlite3_reset(stmt);
	record(RESET, t0);
	check(db, rc, SQLITE_OK, "reset");
	step_all(db, stmt);
	t0 = now_ns();
	rc = sqlite3_finalize(stmt);
	record(FINALIZE, t0);
	check(db, rc, SQLITE_OK, "finalize");
}

static void write_truth(const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		exit(1);
	}
	fprintf(f, "{\"operations\": {");
	for (int op = 0; op < NR_OPS; op++) {
		struct op_times *t = &ops[op];
		uint64_t total = 0;

		qsort(t->ns, t->timed, sizeof(*t->ns), cmp_u64);
		for (size_t i = 0; i < t->timed; i++)
			total += t->ns[i];
		fprintf(f,
			"%s\"%s\": {\"calls\": %llu, \"timed\": %zu, \"total_ns\": %llu, "
			"\"p50_ns\": %llu, \"p95_ns\": %llu, \"p99_ns\": %llu}",
			op ? ", " : "", op_names[op], (unsigned long long)t->calls, t->timed,
			(unsigned long long)total,
			(unsigned long long)nearest_rank(t->ns, t->timed, 0.50),
			(unsigned long long)nearest_rank(t->ns, t->timed, 0.95),
			(unsigned long long)nearest_rank(t->ns, t->timed, 0.99));
	}
	fprintf(f, "}}\n");
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	sqlite3 *db;
	sigset_t set;
	int sig;

	if (argc != 3) {
		fprintf(stderr, "usage: sqlite_workload ROUNDS TRUTH_FILE\n");
		return 2;
	}
	int rounds = atoi(argv[1]);

	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return 1;
	setup(db);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready %d\n", getpid());
	fflush(stdout);
	sigwait(&set, &sig);

	for (int i = 0; i < rounds; i++)
		round_trip(db);
	write_truth(argv[2]);
	sqlite3_close(db);
	return 0;
}
