/*
 * test_sweep_crash.c - crash safety of `archex sweep`: a run killed with
 * SIGKILL at random moments, several times, and resumed with --resume
 * each time, ends with the same points.jsonl (as a set of lines: workers
 * may finish in another order), pareto.csv and best.csv as one
 * uninterrupted run, and leaves no temporary files. The kill moments are
 * drawn from a seed printed at the start (AX_CRASH_SEED repeats a run).
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_tmpdir.h"

#define SWEEP AX_SOURCE_DIR "/sweeps/budget-100m.yaml"
#define KILLS 6


static int make_dir(void **state)
{
	(void)state;
	return ax_test_tmpdir_make("crash");
}

static int remove_dir(void **state)
{
	(void)state;
	return ax_test_tmpdir_remove();
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs `archex sweep SWEEP --out dir [--resume]`, with stdout and
 * stderr to /dev/null; kills it with SIGKILL after kill_after seconds
 * (< 0: never). Returns the exit status, or -SIGNAL. */
static int sweep(const char *dir, bool resume, double kill_after)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		alarm(120);
		char *argv[] = { (char *)AX_CLI, "sweep", (char *)SWEEP, "--out",
				 (char *)dir, "--no-plot", "--jobs", "2",
				 resume ? "--resume" : NULL, NULL };
		execv(argv[0], argv);
		_exit(127);
	}
	if (kill_after >= 0) {
		struct timespec ts = { (time_t)kill_after,
				       (long)((kill_after - (double)(time_t)kill_after) * 1e9) };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void test_kill_and_resume(void **state)
{
	(void)state;
	const char *env = getenv("AX_CRASH_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) :
			(unsigned)time(NULL) ^ (unsigned)getpid();
	print_message("kill moments from AX_CRASH_SEED=%u\n", seed);
	srand(seed);

	char ref[400], out[400];
	snprintf(ref, sizeof ref, "%s/ref", tmpdir);
	snprintf(out, sizeof out, "%s/killed", tmpdir);
	double t0 = now();
	assert_int_equal(sweep(ref, false, -1), 0);
	double full = now() - t0;
	/* kill moments are fractions of a warm run: the first run pays for
	 * cold caches and can take several times longer */
	char warm[400];
	snprintf(warm, sizeof warm, "%s/warm", tmpdir);
	t0 = now();
	assert_int_equal(sweep(warm, false, -1), 0);
	double w = now() - t0;
	full = w < full ? w : full;

	/* the first run is killed early (no points.jsonl yet, or a few), so at
	 * least one kill lands; every later one resumes and is killed at a
	 * random moment or finishes first */
	int killed = 0, finished = 0;
	for (int i = 0; i < KILLS; i++) {
		double u = (double)rand() / RAND_MAX;
		double at = full * (i == 0 ? 0.05 + 0.5 * u : 0.9 * u);
		int rc = sweep(out, i > 0, at);
		if (rc == -SIGKILL)
			killed++;
		else if (rc == 0)
			finished++;
		else
			fail_msg("run %d (killed after %.3f s) exited %d", i, at, rc);
	}
	print_message("%d of %d runs killed (full run %.2f s), %d finished first\n",
		      killed, KILLS, full, finished);
	assert_true(killed >= 1);
	assert_int_equal(sweep(out, true, -1), 0);

	if (sh("sort '%s/points.jsonl' >'%s/ref.sorted' && "
	       "sort '%s/points.jsonl' >'%s/out.sorted' && "
	       "cmp -s '%s/ref.sorted' '%s/out.sorted'",
	       ref, tmpdir, out, tmpdir, tmpdir, tmpdir) != 0) {
		/* keep the evidence: the tmpdir is removed at the end */
		sh("rm -rf '%s/sweep-crash-failure' && cp -r '%s' '%s/sweep-crash-failure'",
		   AX_BINARY_DIR, tmpdir, AX_BINARY_DIR);
		fail_msg("points differ after kills (seed %u); copied to %s/sweep-crash-failure",
			 seed, AX_BINARY_DIR);
	}
	assert_int_equal(sh("cmp -s '%s/pareto.csv' '%s/pareto.csv'", ref, out), 0);
	assert_int_equal(sh("cmp -s '%s/best.csv' '%s/best.csv'", ref, out), 0);
	assert_int_equal(sh("test $(wc -l <'%s/points.jsonl') -eq 6138", out), 0);
	/* no temporaries left behind */
	assert_int_equal(sh("test -z \"$(find '%s' -name '*.tmp*')\"", out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_and_resume),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
