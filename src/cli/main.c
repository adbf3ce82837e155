/*
 * main.c - the archex command line: dispatches to one subcommand through
 * the command table below. To add a subcommand: a cmd_<name>.c with
 * ax_cmd_<name>(), a row here, and its --help text. Subcommands that run
 * OpenBLAS first get the right kernel (choose_blas_kernel).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cpu.h"
#include "util.h"

static const struct ax_cmd commands[] = {
	{ "count", ax_cmd_count, "count params, MACs, FLOPs and bytes of model configs" },
	{ "graph", ax_cmd_graph, "print a model's op list with shapes and per-op costs" },
	{ "sweep", ax_cmd_sweep, "cost a design space, Pareto fronts and best design per budget" },
	{ "merge", ax_cmd_merge, "join the output directories of sharded sweeps" },
	{ "plot", ax_cmd_plot, "draw trade-off, Pareto, breakdown and length plots" },
	{ "run", ax_cmd_run, "reference inference: decode or score, with executed MACs" },
	{ "init", ax_cmd_init, "write a weights file with deterministic random weights" },
	{ "calibrate", ax_cmd_calibrate, "measure this machine's kernels into a device file for --latency" },
	{ "cpu", ax_cmd_cpu, "the CPU's features and the OpenBLAS kernel archex runs on" },
	{ "data", ax_cmd_data, "build a dataset (Bible en-es, WordNet LM) from Debian packages" },
	{ "bleu", ax_cmd_bleu, "corpus BLEU and chrF as sacreBLEU computes them" },
	{ "import", ax_cmd_import, "fairseq checkpoints and lite-transformer configs to archex" },
	{ "eval", ax_cmd_eval, "loss, perplexity, BLEU and chrF of a model on a dataset split" },
	{ "train", ax_cmd_train, "train a config on a dataset directory (AdamW, checkpoints)" },
	{ "study", ax_cmd_study, "the proxy study's report: proxy vs published, families at matched MACs" },
};
static const int n_commands = sizeof commands / sizeof commands[0];

/* The subcommands that run OpenBLAS, for which the kernel matters. */
static bool uses_blas(const char *name)
{
	static const char *const blas[] = { "run", "eval", "train", "calibrate", "cpu",
					    "sweep" };   /* sweep: trained points */
	for (size_t i = 0; i < sizeof blas / sizeof blas[0]; i++)
		if (!strcmp(name, blas[i]))
			return true;
	return false;
}

/* OpenBLAS chose its kernel, and libgomp its wait policy, when they
 * loaded; both are set here and take effect in one re-execution of this
 * binary:
 * - OPENBLAS_CORETYPE: if OpenBLAS fell back to a generic kernel on a CPU
 *   with AVX2 or AVX-512 (cpu.h), the kernel CPUID supports, with the
 *   guard variable naming it (so the new process does not loop, and
 *   reports the kernel as chosen by archex);
 * - OMP_WAIT_POLICY=passive when unset: the row-parallel kernels' idle
 *   OpenMP threads then sleep instead of spinning against OpenBLAS's
 *   threads (docs/precision.md, "Batched scoring"), and those kernels use
 *   OpenBLAS's thread count (kernels.c).
 * A value the user set is never touched. On failure archex goes on as it
 * is. */
static void reexec_for_blas(char **argv)
{
	struct ax_cpu c;
	ax_cpu_detect(&c);
	const char *core = ax_cpu_choose_coretype(&c, ax_cpu_blas_core(),
						  getenv("OPENBLAS_CORETYPE"),
						  getenv(AX_CPU_GUARD_ENV));
	bool omp = !getenv("OMP_WAIT_POLICY");
	if (!core && !omp)
		return;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = 0;
		bool ok = !omp || setenv("OMP_WAIT_POLICY", "passive", 1) == 0;
		if (ok && core)
			ok = setenv("OPENBLAS_CORETYPE", core, 1) == 0 &&
			     setenv(AX_CPU_GUARD_ENV, core, 1) == 0;
		if (ok) {
			fflush(NULL);
			execv(self, argv);
		}
	}
	if (omp)
		unsetenv("OMP_WAIT_POLICY");
	if (!core)
		return;
	unsetenv("OPENBLAS_CORETYPE");
	unsetenv(AX_CPU_GUARD_ENV);
	fprintf(stderr, "archex: note: could not re-execute with "
		"OPENBLAS_CORETYPE=%s; running on OpenBLAS's '%s' kernel\n",
		core, ax_cpu_blas_core());
}

static void usage(FILE *f)
{
	fprintf(f, "usage: archex <command> [options] [args]\n\n"
		   "Analytic cost models and reference inference for efficient\n"
		   "Transformers (Transformer, Lite Transformer, LightConv,\n"
		   "Evolved Transformer).\n\ncommands:\n");
	for (int i = 0; i < n_commands; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'archex <command> --help' describes a command.\n"
		   "Exit codes: 0 success, 1 runtime or input error, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return AX_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return AX_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("archex %s\n", AX_VERSION);
		return AX_EXIT_OK;
	}
	if (uses_blas(argv[1]))
		reexec_for_blas(argv);
	for (int i = 0; i < n_commands; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	/* the nearest command within two edits, as a hint */
	int best = -1, dist = 3;
	for (int i = 0; i < n_commands; i++) {
		int e = ax_edit_distance(argv[1], commands[i].name, 2);
		if (e < dist) {
			dist = e;
			best = i;
		}
	}
	if (best >= 0) {
		fprintf(stderr, "archex: error: unknown command '%s'; did you mean '%s'?\n",
			argv[1], commands[best].name);
		return AX_EXIT_USAGE;
	}
	fprintf(stderr, "archex: error: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return AX_EXIT_USAGE;
}
