/*
 * study_out.c - the proxy study's tables on a FILE * and its files: the
 * CSVs, study.json and the gnuplot data of proxy.gp and accuracy.gp
 * (study.h). Numbers in files are shortest round-trip decimals, a
 * missing one (NaN) an empty CSV cell or a JSON null.
 */
#include "study.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "json.h"

/* --- helpers ------------------------------------------------------------- */

static const struct ax_study_group *main_group(const struct ax_study *st)
{
	return &st->group[st->main_group];
}

static const struct ax_study_point *join_point(const struct ax_study *st, int64_t i)
{
	return &main_group(st)->pt[st->join[i].point];
}

/* A CSV number: an integer as one, else the shortest round trip; empty
 * for NaN. */
static void csv_num(FILE *f, double v)
{
	char buf[40];
	if (isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0) {
		fprintf(f, "%.0f", v);
	} else if (isfinite(v)) {
		ax_json_format_double(buf, sizeof buf, v);
		fputs(buf, f);
	}
}

/* ",v" for each value */
static void csv_nums(FILE *f, int n, const double *v)
{
	for (int i = 0; i < n; i++) {
		fputc(',', f);
		csv_num(f, v[i]);
	}
}

/* "4.123 ± 0.012", or "-" for NaN. */
static void mean_std(char *buf, size_t size, double mean, double sd, int prec)
{
	if (!isfinite(mean))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*f ± %.*f", prec, mean, prec, isfinite(sd) ? sd : 0.0);
}

/* "86.9M", "1.34G" */
static void macs_text(char *buf, size_t size, double v)
{
	if (v >= 1e9)
		snprintf(buf, size, "%.3gG", v / 1e9);
	else
		snprintf(buf, size, "%.3gM", v / 1e6);
}

static const char *proxy_sign(int k)
{
	return k == AX_STUDY_PROXY_VALID_LOSS ? "negated" : "as is";
}

/* --- the text tables ------------------------------------------------------ */

static void print_trust(FILE *f, const struct ax_study *st)
{
	fprintf(f, "(a) Trust in the proxy: published %s against each proxy, rank correlations\n"
		"    (valid_loss negated: +1 means lower proxy loss <-> higher published %s)\n",
		st->metric, st->metric);
	fprintf(f, "%-14s %-20s %-8s %3s %9s %14s\n", "dataset", "proxy", "sign", "n",
		"spearman", "kendall_tau_b");
	for (int ds = 0; ds < st->n_datasets; ds++)
		for (int k = 0; k < AX_STUDY_PROXY_COUNT; k++) {
			const struct ax_study_corr *c = &st->corr[ds][k];
			fprintf(f, "%-14s %-20s %-8s %3" PRId64 " %9.3f %14.3f\n", st->dataset[ds],
				ax_study_proxy_names[k], proxy_sign(k), c->n, c->spearman, c->kendall);
		}
	fprintf(f, "\njoined points (published config = the point's model with the point's vocabulary):\n");
	fprintf(f, "%-14s %-22s %9s %-40s %8s %17s %15s %9s\n", "dataset", "config", "published",
		"point", "MACs", "valid_loss", "bleu", "params");
	for (int64_t i = 0; i < st->n_join; i++) {
		const struct ax_study_join *j = &st->join[i];
		const struct ax_study_point *p = join_point(st, i);
		char m[16], vl[48], bl[48];
		macs_text(m, sizeof m, p->macs);
		mean_std(vl, sizeof vl, p->valid_loss, p->valid_loss_std, 3);
		mean_std(bl, sizeof bl, p->bleu, p->bleu_std, 2);
		fprintf(f, "%-14s %-22s %9.2f %-40s %8s %17s %15s %8.2fM\n", j->dataset, j->config,
			j->published, p->name, m, vl, bl, j->params / 1e6);
	}
}

/* The cell of (budget b, family fam) with the lowest valid loss, or -1;
 * *count gets the points in it. */
static int64_t best_cell(const struct ax_study *st, int b, int fam, int *count)
{
	int64_t best = -1;
	*count = 0;
	const struct ax_study_group *g = main_group(st);
	for (int64_t i = 0; i < st->n_cell; i++) {
		const struct ax_study_point *p = &g->pt[st->cell[i].point];
		if (st->cell[i].budget != b || p->fam != fam)
			continue;
		++*count;
		if (best < 0 || p->valid_loss < g->pt[st->cell[best].point].valid_loss)
			best = i;
	}
	return best;
}

/* family x budget of valid loss (bleu: BLEU), mean ± std */
static void print_pivot(FILE *f, const struct ax_study *st, bool bleu)
{
	const struct ax_study_group *s = main_group(st);
	char h[32], cell[64];
	fprintf(f, "%-14s", bleu ? "BLEU" : "valid loss");
	for (int b = 0; b < st->n_budgets; b++) {
		macs_text(h, sizeof h, st->budget[b]);
		fprintf(f, " %18s", h);
	}
	fputc('\n', f);
	for (int fam = 0; fam < st->n_families; fam++) {
		fprintf(f, "%-14s", st->family[fam]);
		for (int b = 0; b < st->n_budgets; b++) {
			int count;
			int64_t c = best_cell(st, b, fam, &count);
			const struct ax_study_point *p = c >= 0 ? &s->pt[st->cell[c].point] : NULL;
			if (!p)
				snprintf(cell, sizeof cell, "-");
			else if (bleu)
				mean_std(cell, sizeof cell, p->bleu, p->bleu_std, 2);
			else
				mean_std(cell, sizeof cell, p->valid_loss, p->valid_loss_std, 3);
			fprintf(f, " %17s%s", cell, p && st->cell[c].winner ? "*" : (count > 1 ? "+" : " "));
		}
		fputc('\n', f);
	}
}

static void print_claim(FILE *f, const struct ax_study *st)
{
	const struct ax_study_group *s = main_group(st);
	fprintf(f, "\n(b) The paper's claim: per MAC budget B (%s MACs, a point is in B when "
		"%.2g B <= MACs <= B), mean ± std over seeds; * the budget's winner by valid "
		"loss, + the best of several designs\n", st->sw[0].meta.convention,
		1 - st->tolerance);
	print_pivot(f, st, false);
	print_pivot(f, st, true);
	fprintf(f, "%-14s %-6s %-44s %8s %17s %15s %5s\n", "budget", "", "design", "MACs",
		"valid_loss", "bleu", "seeds");
	for (int64_t i = 0; i < st->n_cell; i++) {
		const struct ax_study_point *p = &s->pt[st->cell[i].point];
		char b[16], m[16], vl[48], bl[48];
		macs_text(b, sizeof b, st->budget[st->cell[i].budget]);
		macs_text(m, sizeof m, p->macs);
		mean_std(vl, sizeof vl, p->valid_loss, p->valid_loss_std, 3);
		mean_std(bl, sizeof bl, p->bleu, p->bleu_std, 2);
		fprintf(f, "%-14s %-6s %-44s %8s %17s %15s %5d\n", b,
			st->cell[i].winner ? "winner" : "", p->name, m, vl, bl, p->n_seeds);
	}
	if (st->n_outside)
		fprintf(f, "%" PRId64 " trained points are in no budget group\n", st->n_outside);
}

static void print_budgets(FILE *f, const struct ax_study *st)
{
	int n = st->n_groups;
	fprintf(f, "\n(c) The budget study: valid loss (rank) per training budget, over the %"
		PRId64 " designs trained at all %d budgets\n%-44s", st->n_design, n, "design");
	for (int k = 0; k < n; k++)
		fprintf(f, " %22s", st->group[k].budget);
	fputc('\n', f);
	for (int64_t i = 0; i < st->n_design; i++) {
		const struct ax_study_design *g = &st->design[i];
		fprintf(f, "%-44s", g->name);
		for (int k = 0; k < n; k++) {
			char c[48];
			snprintf(c, sizeof c, "%.3f (%g)",
				 st->group[k].pt[g->point[k]].valid_loss, g->rank[k]);
			fprintf(f, " %22s", c);
		}
		fputc('\n', f);
	}
	fprintf(f, "Kendall tau-b between the budgets' valid losses:\n%-22s", "");
	for (int k = 0; k < n; k++)
		fprintf(f, " %22s", st->group[k].budget);
	fputc('\n', f);
	for (int a = 0; a < n; a++) {
		fprintf(f, "%-22s", st->group[a].budget);
		for (int b = 0; b < n; b++)
			fprintf(f, " %22.3f", st->kendall[a][b]);
		fputc('\n', f);
	}
}

void ax_study_print(FILE *f, const struct ax_study *st)
{
	const struct ax_study_group *g = main_group(st);
	const struct ax_sweep_meta *m = &st->sw[0].meta;
	const struct ax_study_point *p = &g->pt[0];
	for (int i = 0; i < st->n_sweeps; i++) {
		const struct ax_study_sweep *s = &st->sw[i];
		fprintf(f, "sweep %s (%s): %s, %" PRId64 " of %" PRId64 " points trained%s\n",
			s->meta.name, s->dir, s->budget, s->n, s->n_records,
			s->meta.complete ? "" : " (an incomplete sweep)");
	}
	fprintf(f, "(a) and (b) read the %" PRId64 " points at %s (%s).\n", g->n, g->budget,
		g->sweeps);
	fprintf(f, "MACs: %s convention, S=%" PRId64 " T=%" PRId64 "; the proxy models keep "
		"each design's layers and widths and take the corpus's vocabulary (%" PRId64
		"/%" PRId64 ", share %s)\n\n", m->convention, m->src_len, m->tgt_len,
		p->vocab_source, p->vocab_target, ax_share_names[p->share]);
	print_trust(f, st);
	print_claim(f, st);
	if (st->n_groups >= 2)
		print_budgets(f, st);
}

/* --- CSV files ------------------------------------------------------------ */

static void write_join_csv(FILE *f, const struct ax_study *st)
{
	fprintf(f, "dataset,config,published_%s,id,name,family,macs,params,"
		"nonembedding_params,valid_loss,valid_loss_std,bleu,bleu_std,seeds\n", st->metric);
	for (int64_t i = 0; i < st->n_join; i++) {
		const struct ax_study_join *j = &st->join[i];
		const struct ax_study_point *p = join_point(st, i);
		fprintf(f, "%s,%s,", j->dataset, j->config);
		csv_num(f, j->published);
		fprintf(f, ",%s,%s,%s", p->id, p->name, p->family);
		double v[] = { p->macs, j->params, p->nonembedding_params, p->valid_loss,
			       p->valid_loss_std, p->bleu, p->bleu_std };
		csv_nums(f, 7, v);
		fprintf(f, ",%d\n", p->n_seeds);
	}
}

static void write_corr_csv(FILE *f, const struct ax_study *st)
{
	fprintf(f, "dataset,proxy,sign,n,spearman,kendall_tau_b\n");
	for (int ds = 0; ds < st->n_datasets; ds++)
		for (int k = 0; k < AX_STUDY_PROXY_COUNT; k++) {
			const struct ax_study_corr *c = &st->corr[ds][k];
			fprintf(f, "%s,%s,%s,%" PRId64, st->dataset[ds], ax_study_proxy_names[k],
				proxy_sign(k), c->n);
			double v[] = { c->spearman, c->kendall };
			csv_nums(f, 2, v);
			fputc('\n', f);
		}
}

static void write_claim_csv(FILE *f, const struct ax_study *st)
{
	fprintf(f, "budget,family,id,name,macs,valid_loss,valid_loss_std,bleu,bleu_std,"
		"seeds,winner\n");
	for (int64_t i = 0; i < st->n_cell; i++) {
		const struct ax_study_point *p = &main_group(st)->pt[st->cell[i].point];
		csv_num(f, st->budget[st->cell[i].budget]);
		fprintf(f, ",%s,%s,%s", p->family, p->id, p->name);
		double v[] = { p->macs, p->valid_loss, p->valid_loss_std, p->bleu, p->bleu_std };
		csv_nums(f, 5, v);
		fprintf(f, ",%d,%d\n", p->n_seeds, st->cell[i].winner);
	}
}

static void write_ranks_csv(FILE *f, const struct ax_study *st)
{
	fprintf(f, "family,design,budget,sweep,id,valid_loss,valid_loss_std,rank\n");
	for (int64_t i = 0; i < st->n_design; i++)
		for (int k = 0; k < st->n_groups; k++) {
			const struct ax_study_design *g = &st->design[i];
			const struct ax_study_point *p = &st->group[k].pt[g->point[k]];
			fprintf(f, "%s,%s,%s,%s,%s", st->family[g->fam], g->name,
				st->group[k].budget, st->sw[p->sweep].meta.name, p->id);
			double v[] = { p->valid_loss, p->valid_loss_std, g->rank[k] };
			csv_nums(f, 3, v);
			fputc('\n', f);
		}
}

static void write_kendall_csv(FILE *f, const struct ax_study *st)
{
	fprintf(f, "budget_a,sweeps_a,budget_b,sweeps_b,n,kendall_tau_b\n");
	for (int a = 0; a < st->n_groups; a++)
		for (int b = a + 1; b < st->n_groups; b++) {
			const struct ax_study_group *x = &st->group[a], *y = &st->group[b];
			fprintf(f, "%s,%s,%s,%s,%" PRId64 ",", x->budget, x->sweeps, y->budget,
				y->sweeps, st->n_design);
			csv_num(f, st->kendall[a][b]);
			fputc('\n', f);
		}
}

/* --- plot data ------------------------------------------------------------ */

/* proxy.gp: one block per (dataset, family) that has joins, header
 * "<Family> / <dataset>,published,config", rows "valid_loss,published,
 * config"; blocks apart by two blank lines. */
static void write_proxy_plot(FILE *f, const struct ax_study *st)
{
	bool first = true;
	for (int ds = 0; ds < st->n_datasets; ds++)
		for (int fam = 0; fam < st->n_families; fam++) {
			bool head = false;
			for (int64_t i = 0; i < st->n_join; i++) {
				const struct ax_study_join *j = &st->join[i];
				const struct ax_study_point *p = join_point(st, i);
				if (strcmp(j->dataset, st->dataset[ds]) || p->fam != fam)
					continue;
				if (!head)
					fprintf(f, "%s%s / %s,published,config\n", first ? "" : "\n\n",
						ax_sweep_family_title(st->family_kind[fam]),
						st->dataset[ds]);
				head = true, first = false;
				csv_num(f, p->valid_loss);
				fputc(',', f);
				csv_num(f, j->published);
				fprintf(f, ",%s\n", j->config);
			}
		}
}

void ax_study_proxy_blocks(const struct ax_study *st, char *fams, char *sets, size_t size)
{
	size_t nf = 0, ns = 0;
	fams[0] = sets[0] = '\0';
	for (int ds = 0; ds < st->n_datasets; ds++)
		for (int fam = 0; fam < st->n_families; fam++)
			for (int64_t i = 0; i < st->n_join; i++)
				if (!strcmp(st->join[i].dataset, st->dataset[ds]) &&
				    join_point(st, i)->fam == fam) {
					if (nf < size)
						nf += (size_t)snprintf(fams + nf, size - nf, "%s%d",
								       nf ? " " : "", fam + 1);
					if (ns < size)
						ns += (size_t)snprintf(sets + ns, size - ns, "%s%d",
								       ns ? " " : "", ds + 1);
					break;
				}
}

/* accuracy.gp's format: a block per family, "<Family>,valid_loss,std,
 * config", rows "macs_m,valid_loss,std,name" by MACs. */
static void write_claim_plot(FILE *f, const struct ax_study *st)
{
	const struct ax_study_group *s = main_group(st);
	bool first = true;
	for (int fam = 0; fam < st->n_families; fam++) {
		/* the points of fam by MACs: selection, as n is small */
		double last = -1;
		int64_t last_i = -1;
		for (;;) {
			int64_t at = -1;
			for (int64_t i = 0; i < s->n; i++) {
				const struct ax_study_point *p = &s->pt[i];
				bool after = p->macs > last || (p->macs == last && i > last_i);
				if (p->fam == fam && after &&
				    (at < 0 || p->macs < s->pt[at].macs))
					at = i;
			}
			if (at < 0)
				break;
			if (last_i < 0)
				fprintf(f, "%s%s,valid_loss,std,config\n", first ? "" : "\n\n",
					ax_sweep_family_title(st->family_kind[fam]));
			first = false;
			const struct ax_study_point *p = &s->pt[at];
			csv_num(f, p->macs / 1e6);
			double v[] = { p->valid_loss, p->valid_loss_std };
			csv_nums(f, 2, v);
			fprintf(f, ",%s\n", p->name);
			last = p->macs, last_i = at;
		}
	}
}

/* --- study.json ----------------------------------------------------------- */

static void json_point(struct ax_json *j, const struct ax_study *st,
		       const struct ax_study_point *p)
{
	ax_json_key(j, "id"); ax_json_string(j, p->id);
	ax_json_key(j, "name"); ax_json_string(j, p->name);
	ax_json_key(j, "family"); ax_json_string(j, p->family);
	ax_json_key(j, "sweep"); ax_json_string(j, st->sw[p->sweep].meta.name);
	ax_json_key(j, "macs"); ax_json_double(j, p->macs);
	ax_json_key(j, "nonembedding_params"); ax_json_double(j, p->nonembedding_params);
	ax_json_key(j, "valid_loss"); ax_json_double(j, p->valid_loss);
	ax_json_key(j, "valid_loss_std"); ax_json_double(j, p->valid_loss_std);
	ax_json_key(j, "bleu"); ax_json_double(j, p->bleu);
	ax_json_key(j, "bleu_std"); ax_json_double(j, p->bleu_std);
	ax_json_key(j, "seeds"); ax_json_int(j, p->n_seeds);
}

static void json_sweeps(struct ax_json *j, const struct ax_study *st)
{
	ax_json_key(j, "sweeps");
	ax_json_begin_array(j);
	for (int i = 0; i < st->n_sweeps; i++) {
		const struct ax_study_sweep *s = &st->sw[i];
		ax_json_begin_object(j);
		ax_json_key(j, "dir"); ax_json_string(j, s->dir);
		ax_json_key(j, "name"); ax_json_string(j, s->meta.name);
		ax_json_key(j, "budget"); ax_json_string(j, s->budget);
		ax_json_key(j, "complete"); ax_json_bool(j, s->meta.complete);
		ax_json_key(j, "points"); ax_json_int(j, s->n_records);
		ax_json_key(j, "trained"); ax_json_int(j, s->n);
		ax_json_end_object(j);
	}
	ax_json_end_array(j);
}

static void json_trust(struct ax_json *j, const struct ax_study *st)
{
	ax_json_key(j, "joins");
	ax_json_begin_array(j);
	for (int64_t i = 0; i < st->n_join; i++) {
		ax_json_begin_object(j);
		ax_json_key(j, "dataset"); ax_json_string(j, st->join[i].dataset);
		ax_json_key(j, "config"); ax_json_string(j, st->join[i].config);
		ax_json_key(j, "published"); ax_json_double(j, st->join[i].published);
		ax_json_key(j, "params"); ax_json_double(j, st->join[i].params);
		json_point(j, st, join_point(st, i));
		ax_json_end_object(j);
	}
	ax_json_end_array(j);
	ax_json_key(j, "correlations");
	ax_json_begin_array(j);
	for (int ds = 0; ds < st->n_datasets; ds++)
		for (int k = 0; k < AX_STUDY_PROXY_COUNT; k++) {
			const struct ax_study_corr *c = &st->corr[ds][k];
			ax_json_begin_object(j);
			ax_json_key(j, "dataset"); ax_json_string(j, st->dataset[ds]);
			ax_json_key(j, "proxy"); ax_json_string(j, ax_study_proxy_names[k]);
			ax_json_key(j, "sign"); ax_json_string(j, proxy_sign(k));
			ax_json_key(j, "n"); ax_json_int(j, c->n);
			ax_json_key(j, "spearman"); ax_json_double(j, c->spearman);
			ax_json_key(j, "kendall_tau_b"); ax_json_double(j, c->kendall);
			ax_json_end_object(j);
		}
	ax_json_end_array(j);
}

static void json_claim(struct ax_json *j, const struct ax_study *st)
{
	ax_json_key(j, "claim");
	ax_json_begin_object(j);
	ax_json_key(j, "tolerance"); ax_json_double(j, st->tolerance);
	ax_json_key(j, "budgets");
	ax_json_begin_array(j);
	for (int b = 0; b < st->n_budgets; b++)
		ax_json_double(j, st->budget[b]);
	ax_json_end_array(j);
	ax_json_key(j, "outside"); ax_json_int(j, st->n_outside);
	ax_json_key(j, "points");
	ax_json_begin_array(j);
	for (int64_t i = 0; i < st->n_cell; i++) {
		ax_json_begin_object(j);
		ax_json_key(j, "budget"); ax_json_double(j, st->budget[st->cell[i].budget]);
		ax_json_key(j, "winner"); ax_json_bool(j, st->cell[i].winner);
		json_point(j, st, &main_group(st)->pt[st->cell[i].point]);
		ax_json_end_object(j);
	}
	ax_json_end_array(j);
	ax_json_end_object(j);
}

static void json_budgets(struct ax_json *j, const struct ax_study *st)
{
	ax_json_key(j, "budget_study");
	if (st->n_groups < 2) {
		ax_json_null(j);
		return;
	}
	ax_json_begin_object(j);
	ax_json_key(j, "budgets");   /* ascending, as "ranks" and "kendall_tau_b" */
	ax_json_begin_array(j);
	for (int k = 0; k < st->n_groups; k++)
		ax_json_string(j, st->group[k].budget);
	ax_json_end_array(j);
	ax_json_key(j, "designs");
	ax_json_begin_array(j);
	for (int64_t i = 0; i < st->n_design; i++) {
		ax_json_begin_object(j);
		ax_json_key(j, "name"); ax_json_string(j, st->design[i].name);
		ax_json_key(j, "family");
		ax_json_string(j, st->family[st->design[i].fam]);
		ax_json_key(j, "valid_loss");
		ax_json_begin_array(j);
		for (int k = 0; k < st->n_groups; k++)
			ax_json_double(j, st->group[k].pt[st->design[i].point[k]].valid_loss);
		ax_json_end_array(j);
		ax_json_key(j, "ranks");
		ax_json_begin_array(j);
		for (int k = 0; k < st->n_groups; k++)
			ax_json_double(j, st->design[i].rank[k]);
		ax_json_end_array(j);
		ax_json_end_object(j);
	}
	ax_json_end_array(j);
	ax_json_key(j, "kendall_tau_b");
	ax_json_begin_array(j);
	for (int a = 0; a < st->n_groups; a++) {
		ax_json_begin_array(j);
		for (int b = 0; b < st->n_groups; b++)
			ax_json_double(j, st->kendall[a][b]);
		ax_json_end_array(j);
	}
	ax_json_end_array(j);
	ax_json_end_object(j);
}

enum ax_status ax_study_write_json(FILE *f, const struct ax_study *st, struct ax_diag *d)
{
	struct ax_json j;
	ax_json_init(&j, f, AX_JSON_PRETTY);
	ax_json_begin_object(&j);
	ax_json_key(&j, "metric"); ax_json_string(&j, st->metric);
	json_sweeps(&j, st);
	json_trust(&j, st);
	json_claim(&j, st);
	json_budgets(&j, st);
	ax_json_end_object(&j);
	enum ax_status s = ax_json_finish(&j, d);
	fputc('\n', f);
	return s;
}

/* --- the files ------------------------------------------------------------ */

typedef void (*study_table_fn)(FILE *f, const struct ax_study *st);

static enum ax_status write_file(const char *dir, const char *name, study_table_fn fn,
				 const struct ax_study *st, struct ax_diag *d)
{
	char path[AX_PATH_MAX + 64];
	struct ax_atomic a;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = ax_atomic_open(&a, path, d);
	if (!f)
		return d ? d->status : AX_ERR_IO;
	enum ax_status s = AX_OK;
	if (fn)
		fn(f, st);
	else
		s = ax_study_write_json(f, st, d);
	if (s) {
		ax_atomic_abort(&a);
		return s;
	}
	return ax_atomic_commit(&a, d);
}

enum ax_status ax_study_write(const struct ax_study *st, const char *outdir,
			      struct ax_diag *d)
{
	static const struct {
		const char *name;
		study_table_fn fn;
		bool budget_study;
	} files[] = {
		{ "proxy_join.csv", write_join_csv, false },
		{ "proxy_correlation.csv", write_corr_csv, false },
		{ "claim.csv", write_claim_csv, false },
		{ "budget_ranks.csv", write_ranks_csv, true },
		{ "budget_kendall.csv", write_kendall_csv, true },
		{ "plots/proxy.csv", write_proxy_plot, false },
		{ "plots/claim.csv", write_claim_plot, false },
		{ "study.json", NULL, false },
	};
	char plots[AX_PATH_MAX + 16];
	enum ax_status s;
	snprintf(plots, sizeof plots, "%s/plots", outdir);
	if ((s = ax_sweep_make_dirs(plots, d)))
		return s;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		if (files[i].budget_study && st->n_groups < 2) {
			/* no budget study: none left from an earlier run */
			char path[AX_PATH_MAX + 64];
			snprintf(path, sizeof path, "%s/%s", outdir, files[i].name);
			if (unlink(path) != 0 && errno != ENOENT)
				return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot remove: %s",
						   strerror(errno));
			continue;
		}
		if ((s = write_file(outdir, files[i].name, files[i].fn, st, d)))
			return s;
	}
	return AX_OK;
}
