/*
 * bench_count.c - how fast analytic counting is.
 *
 * 1. The CLI: wall time of `archex count --convention paper --format json
 *    configs/paper/ *.yaml` (every paper config, as the README's main job
 *    runs it), against `archex --version` (process start-up alone) in the
 *    same run. The target is well under 50 ms for the whole set.
 * 2. In process, per config: load YAML + validate + build + cost, against
 *    build + cost alone (what a sweep pays per design point).
 * Median of repeated runs; figures are this machine's, quoted as ratios.
 */
#include <glob.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "config.h"
#include "cost.h"
#include "graph.h"
#include "model.h"

extern char **environ;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	return v[n / 2];
}

/* Wall time of one run of argv with stdout to /dev/null. */
static double spawn_time(char **argv)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	double t0 = now();
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		perror("posix_spawn");
		exit(1);
	}
	int st;
	waitpid(pid, &st, 0);
	double t = now() - t0;
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench_count: %s failed\n", argv[1]);
		exit(1);
	}
	return t;
}

int main(void)
{
	enum { RUNS = 21 };
	glob_t gl;
	if (glob(AX_SOURCE_DIR "/configs/paper/*.yaml", 0, NULL, &gl) != 0) {
		fprintf(stderr, "bench_count: no configs found\n");
		return 1;
	}
	int n = (int)gl.gl_pathc;

	/* 1. the CLI over every paper config */
	char **argv = calloc((size_t)n + 8, sizeof *argv);
	int a = 0;
	argv[a++] = (char *)AX_CLI;
	argv[a++] = "count";
	argv[a++] = "--convention";
	argv[a++] = "paper";
	argv[a++] = "--format";
	argv[a++] = "json";
	for (int i = 0; i < n; i++)
		argv[a++] = gl.gl_pathv[i];
	char *version[] = { (char *)AX_CLI, "--version", NULL };
	double t_count[RUNS], t_start[RUNS];
	for (int r = 0; r < RUNS; r++) {
		t_start[r] = spawn_time(version);
		t_count[r] = spawn_time(argv);
	}
	double mc = median(t_count, RUNS), ms = median(t_start, RUNS);
	printf("archex count, %d paper configs (paper, json): %.2f ms wall (median of %d)\n",
	       n, 1e3 * mc, RUNS);
	printf("archex --version (start-up alone):            %.2f ms wall\n", 1e3 * ms);
	printf("counting beyond start-up: %.2f ms, ratio count/start-up %.2fx\n",
	       1e3 * (mc - ms), mc / ms);

	/* 2. in process */
	static struct ax_config cfg[64];
	static struct ax_cost cost;
	struct ax_graph g;
	struct ax_diag d;
	ax_graph_init(&g);
	int reps = 200;
	double t0 = now();
	for (int r = 0; r < reps; r++)
		for (int i = 0; i < n && i < 64; i++) {
			if (ax_config_load(gl.gl_pathv[i], &cfg[i], &d) != AX_OK ||
			    ax_model_build(&cfg[i], &g, &d) != AX_OK) {
				fprintf(stderr, "%s: %s\n", gl.gl_pathv[i], d.msg);
				return 1;
			}
			ax_cost_graph(&g, AX_CONVENTION_PAPER, AX_MODE_SEQUENCE, &cost);
		}
	double t_load = (now() - t0) / (reps * n);
	t0 = now();
	for (int r = 0; r < reps; r++)
		for (int i = 0; i < n && i < 64; i++) {
			ax_model_build(&cfg[i], &g, &d);
			ax_cost_graph(&g, AX_CONVENTION_PAPER, AX_MODE_SEQUENCE, &cost);
		}
	double t_build = (now() - t0) / (reps * n);
	printf("per config: load+validate+build+cost %.1f us, build+cost %.1f us "
	       "(%.0f configs/s/core), YAML share %.0f%%\n", 1e6 * t_load,
	       1e6 * t_build, 1.0 / t_build, 100.0 * (t_load - t_build) / t_load);
	ax_graph_free(&g);
	globfree(&gl);
	free(argv);
	return 0;
}
