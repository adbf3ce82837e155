/*
 * cmd_graph.c - `archex graph`: the op list of a config, in execution order,
 * with each op's input and output shapes, the params it owns and its MACs
 * (the value at the given lengths and the exact polynomial in S and T).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "graph.h"
#include "model.h"

static void help(void)
{
	printf(
"usage: archex graph [options] CONFIG\n"
"\n"
"Print the op list a config builds: one line per op in execution order with\n"
"its name, kind, shapes (rows are S or T), owned params and MACs.\n"
"\n"
"options:\n"
"  --convention C   exact (default) or paper (see 'archex count --help')\n"
"  --mode M         sequence (default) or incremental\n"
"  --src-len N      S for the MAC values (default 30)\n"
"  --tgt-len N      T for the MAC values (default 30)\n"
"  --params         list the parameter tensors instead: name, shape, kind,\n"
"                   params counted under the convention (shared ones once)\n"
"  -h, --help       this text\n");
}

static void shape(char *buf, size_t size, const struct ax_graph *g, int32_t t)
{
	if (t < 0) {
		snprintf(buf, size, "-");
		return;
	}
	const struct ax_tensor *x = &g->tensors[t];
	snprintf(buf, size, "(%s,%" PRId64 ")", x->len == AX_LEN_SRC ? "S" : "T",
		 x->width);
}

static void print_params(const struct ax_graph *g, enum ax_convention conv)
{
	char name[256];
	printf("%-48s %12s %-12s %12s\n", "parameter", "shape", "kind", "counted");
	for (int32_t p = 0; p < g->n_params; p++) {
		const struct ax_param *x = &g->params[p];
		char shape_s[48];
		ax_graph_param_name(g, p, name, sizeof name);
		if (x->cols == 1)
			snprintf(shape_s, sizeof shape_s, "(%" PRId64 ")", x->rows);
		else
			snprintf(shape_s, sizeof shape_s, "(%" PRId64 ",%" PRId64 ")",
				 x->rows, x->cols);
		printf("%-48s %12s %-12s %12" PRId64 "\n", name, shape_s,
		       ax_param_kind_names[x->kind], ax_cost_param(x, conv));
	}
}

/* The parsed command line. */
struct graph_args {
	struct ax_count_opts o;
	bool params;        /* --params: the parameter list, not the ops */
	const char *path;   /* the CONFIG */
};

/* Fills a from argv. Returns -1 to go on, or the exit code to return now
 * (after --help, or a usage error already reported). */
static int parse_args(int argc, char **argv, struct graph_args *a)
{
	static const struct option longopts[] = {
		{ "convention", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "src-len", required_argument, NULL, 's' },
		{ "tgt-len", required_argument, NULL, 't' },
		{ "params", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	ax_cli_count_defaults(&a->o);
	a->params = false;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int r = ax_cli_count_opt("graph", opt, optarg, &a->o);
		if (r < 0)
			return AX_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (opt) {
		case 'P': a->params = true; break;
		case 'h': help(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("graph", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_bad_option("graph", argv, longopts);
		}
	}
	if (argc - optind != 1)
		return ax_cli_usage_error("graph", "expected exactly one CONFIG");
	a->path = argv[optind];
	return -1;
}

/* Costs the whole graph and checks the total at (S, T); every op's MACs
 * are a part of the total, so checking it covers them. Prints the
 * diagnostic (naming path) and returns false on a failure. */
static bool check_total(const struct ax_graph *g, const struct ax_count_opts *o,
			const char *path)
{
	struct ax_diag d = { 0 };
	struct ax_cost *total = malloc(sizeof *total);
	enum ax_status st = AX_ERR_NOMEM;
	if (!total)
		ax_diag_set(&d, st, NULL, 0, 0, "out of memory");
	else
		st = ax_cost_check((ax_cost_graph(g, o->convention, o->mode, total), total),
				   o->src_len[0], o->tgt_len[0], &d);
	free(total);
	if (st == AX_OK)
		return true;
	snprintf(d.file, sizeof d.file, "%s", path);
	ax_cli_print_diag(&d);
	return false;
}

/* One line per op: index, name, kind, input and output shapes, owned
 * params, MACs at (S, T) and the MAC polynomial (aux MACs included). */
static void print_ops(const struct ax_graph *g, const struct ax_config *cfg,
		      const struct ax_count_opts *o)
{
	int64_t S = o->src_len[0], T = o->tgt_len[0];
	printf("# %s: %d ops, %d tensors, %d params; convention %s, mode %s, S=%" PRId64
	       " T=%" PRId64 "\n", cfg->name, g->n_ops, g->n_tensors, g->n_params,
	       ax_convention_names[o->convention], ax_mode_names[o->mode], S, T);
	printf("%4s  %-40s %-12s %-18s %-12s %10s %12s  %s\n", "#", "op", "kind",
	       "inputs", "output", "params", "MACs", "MACs(S,T)");
	struct ax_op_cost c;
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		char name[128], in[64] = "", s1[24], out[24], poly[160], hp[24], hm[24];
		ax_graph_name(op->scope, op->layer, op->block, op->role, name, sizeof name);
		for (int k = 0; k < AX_OP_MAX_IN; k++) {
			if (op->in[k] < 0)
				continue;
			shape(s1, sizeof s1, g, op->in[k]);
			size_t len = strlen(in);
			snprintf(in + len, sizeof in - len, "%s%s", len ? "," : "", s1);
		}
		if (!in[0])
			snprintf(in, sizeof in, "tokens");
		shape(out, sizeof out, g, op->out);
		ax_cost_op(g, i, o->convention, o->mode, &c);
		struct ax_poly m = c.macs;
		ax_poly_add(&m, &c.aux_macs);
		ax_cli_poly(poly, sizeof poly, &m);
		ax_cli_human(hp, sizeof hp, c.params);
		ax_cli_human(hm, sizeof hm, ax_poly_eval(&m, S, T));
		printf("%4d  %-40s %-12s %-18s %-12s %10s %12s  %s\n", i, name,
		       ax_op_kind_names[op->kind], in, out, hp, hm, poly);
	}
}

int ax_cmd_graph(int argc, char **argv)
{
	struct graph_args a;
	int rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;

	struct ax_config *cfg = malloc(sizeof *cfg);
	if (!cfg)
		return AX_EXIT_ERROR;
	struct ax_graph g;
	struct ax_diag d = { 0 };
	ax_graph_init(&g);
	rc = AX_EXIT_ERROR;
	if (!ax_cli_load(a.path, cfg))
		goto free_all;
	if (ax_model_build(cfg, &g, &d) != AX_OK) {
		ax_cli_print_diag(&d);
		goto free_all;
	}
	if (a.params)
		print_params(&g, a.o.convention);
	else if (check_total(&g, &a.o, a.path))
		print_ops(&g, cfg, &a.o);
	else
		goto free_all;
	rc = ax_cli_finish_stdout("graph");
free_all:
	ax_graph_free(&g);
	free(cfg);
	return rc;
}
