/*
 * plotdata.c - data files for the gnuplot templates (see plotdata.h).
 */
#include "plotdata.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct tp_sort {
	int fam;
	const struct ax_tradeoff_point *p;
};

static int by_family_macs(const void *a, const void *b)
{
	const struct tp_sort *x = a, *y = b;
	if (x->fam != y->fam)
		return x->fam - y->fam;
	if (x->p->macs != y->p->macs)
		return x->p->macs < y->p->macs ? -1 : 1;
	return strcmp(x->p->config, y->p->config);
}

void ax_plotdata_tradeoff(FILE *f, const struct ax_tradeoff_point *pts, int n)
{
	struct tp_sort *s = malloc((size_t)(n ? n : 1) * sizeof *s);
	if (!s)
		return;
	for (int i = 0; i < n; i++) {
		int fam = i;
		for (int j = 0; j < i; j++)
			if (!strcmp(pts[j].family, pts[i].family)) {
				fam = s[j].fam;
				break;
			}
		s[i] = (struct tp_sort){ fam, &pts[i] };
	}
	qsort(s, (size_t)n, sizeof *s, by_family_macs);
	for (int i = 0; i < n; i++) {
		if (i == 0 || s[i].fam != s[i - 1].fam)
			fprintf(f, "%s%s,value,config,approx\n", i ? "\n\n" : "", s[i].p->family);
		fprintf(f, "%.6g,%.6g,%s,%d\n", s[i].p->macs / 1e6, s[i].p->value, s[i].p->config,
			s[i].p->approx);
	}
	free(s);
}

static void kinds_header(FILE *f, const char *first)
{
	fputs(first, f);
	for (int k = 0; k < AX_KIND_COUNT; k++)
		fprintf(f, ",%s", ax_cost_kind_names[k]);
	fputc('\n', f);
}

void ax_plotdata_breakdown_kinds(FILE *f, const char *const *names,
				 const struct ax_cost *costs, const bool *is_lm,
				 int n, int64_t S, int64_t T)
{
	kinds_header(f, "config");
	for (int i = 0; i < n; i++) {
		fputs(names[i], f);
		for (int k = 0; k < AX_KIND_COUNT; k++)
			fprintf(f, ",%.6g", (double)ax_poly_eval(&costs[i].macs_by_kind[k],
				is_lm && is_lm[i] ? 0 : S, T) / 1e6);
		fputc('\n', f);
	}
}

void ax_plotdata_breakdown_layers(FILE *f, const struct ax_graph *g,
				  enum ax_convention conv, enum ax_mode mode,
				  int64_t S, int64_t T)
{
	/* rows: embed, encoder layers, decoder layers, output */
	int n_enc = g->cfg && g->cfg->task == AX_TASK_TRANSLATION ? (int)g->cfg->encoder.layers : 0;
	int n_dec = g->cfg ? (int)g->cfg->decoder.layers : 0;
	int rows = n_enc + n_dec + 2;
	struct ax_poly *acc = calloc((size_t)rows * AX_KIND_COUNT, sizeof *acc);
	if (!acc)
		return;
	struct ax_op_cost c;
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		ax_cost_op(g, i, conv, mode, &c);
		int row;
		if (op->scope == AX_SCOPE_EMBED)
			row = 0;
		else if (op->scope == AX_SCOPE_OUTPUT)
			row = rows - 1;
		else if (op->scope == AX_SCOPE_ENCODER)
			row = op->layer >= 0 ? 1 + op->layer : n_enc;   /* final LN: last layer */
		else
			row = op->layer >= 0 ? 1 + n_enc + op->layer : n_enc + n_dec;
		if (row < 0 || row >= rows)
			continue;
		ax_poly_add(&acc[row * AX_KIND_COUNT + op->tag], &c.macs);
		ax_poly_add(&acc[row * AX_KIND_COUNT + AX_KIND_ELEMENTWISE], &c.aux_macs);
	}
	kinds_header(f, "layer");
	for (int r = 0; r < rows; r++) {
		if (r == 0)
			fputs("embed", f);
		else if (r == rows - 1)
			fputs("output", f);
		else if (r <= n_enc)
			fprintf(f, "enc.%d", r - 1);
		else
			fprintf(f, "dec.%d", r - 1 - n_enc);
		for (int k = 0; k < AX_KIND_COUNT; k++)
			fprintf(f, ",%.6g", (double)ax_poly_eval(&acc[r * AX_KIND_COUNT + k], S, T) / 1e6);
		fputc('\n', f);
	}
	free(acc);
}

void ax_plotdata_seqlen(FILE *f, const char *const *names,
			const struct ax_cost *costs, const bool *is_lm, int n,
			const int64_t *lengths, int n_len)
{
	fputs("seq_len", f);
	for (int i = 0; i < n; i++)
		fprintf(f, ",%s", names[i]);
	fputc('\n', f);
	for (int k = 0; k < n_len; k++) {
		fprintf(f, "%" PRId64, lengths[k]);
		for (int i = 0; i < n; i++)
			fprintf(f, ",%.6g", (double)ax_poly_eval(&costs[i].macs,
				is_lm[i] ? 0 : lengths[k], lengths[k]) / 1e6);
		fputc('\n', f);
	}
}
