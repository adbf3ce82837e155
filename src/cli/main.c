/*
 * main.c - the archex command line: dispatches to one subcommand through
 * the command table below. To add a subcommand: a cmd_<name>.c with
 * ax_cmd_<name>(), a row here, and its --help text.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static const struct ax_cmd commands[] = {
	{ "count", ax_cmd_count, "count params, MACs, FLOPs and bytes of model configs" },
	{ "graph", ax_cmd_graph, "print a model's op list with shapes and per-op costs" },
	{ "sweep", ax_cmd_sweep, "cost a design space, Pareto fronts and best design per budget" },
	{ "merge", ax_cmd_merge, "join the output directories of sharded sweeps" },
	{ "plot", ax_cmd_plot, "draw trade-off, Pareto, breakdown and length plots" },
	{ "run", ax_cmd_run, "reference inference: decode or score, with executed MACs" },
	{ "init", ax_cmd_init, "write a weights file with deterministic random weights" },
};
static const int n_commands = sizeof commands / sizeof commands[0];

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
