/*
 * sweep_names.c - the names of search strategies and metrics, as sweep
 * files, points.jsonl and the tables spell them (see sweep.h), and the
 * short display names of points in the trained tables (sweep_out.h).
 */
#include "sweep.h"

#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep_out.h"

const char *const ax_sweep_strategy_names[] = {
	[AX_SWEEP_GRID] = "grid",
	[AX_SWEEP_RANDOM] = "random",
	[AX_SWEEP_EVOLUTION] = "evolution",
};
static_assert(sizeof ax_sweep_strategy_names / sizeof ax_sweep_strategy_names[0] ==
		      AX_SWEEP_STRATEGY_COUNT, "every strategy needs a name");

static const char *const metric_names[] = {
	[AX_METRIC_MACS] = "macs",
	[AX_METRIC_PARAMS] = "params",
	[AX_METRIC_EMBED_PARAMS] = "embed_params",
	[AX_METRIC_NONEMBEDDING_PARAMS] = "nonembedding_params",
	[AX_METRIC_OTHER_FLOPS] = "other_flops",
	[AX_METRIC_BYTES] = "bytes",
	[AX_METRIC_LATENCY_MS] = "latency_ms",
	[AX_METRIC_ACCURACY] = "accuracy",
};
static_assert(sizeof metric_names / sizeof metric_names[0] == AX_METRIC_KIND_BASE,
	      "every base metric needs a name");

static const char *const trained_names[] = {
	[AX_METRIC_VALID_LOSS - AX_METRIC_TRAINED_BASE] = "valid_loss",
	[AX_METRIC_VALID_LOSS_STD - AX_METRIC_TRAINED_BASE] = "valid_loss_std",
	[AX_METRIC_VALID_PPL - AX_METRIC_TRAINED_BASE] = "valid_ppl",
	[AX_METRIC_VALID_PPL_STD - AX_METRIC_TRAINED_BASE] = "valid_ppl_std",
	[AX_METRIC_TRAIN_SECONDS - AX_METRIC_TRAINED_BASE] = "train_seconds",
	[AX_METRIC_TRAIN_SECONDS_STD - AX_METRIC_TRAINED_BASE] = "train_seconds_std",
	[AX_METRIC_BLEU - AX_METRIC_TRAINED_BASE] = "bleu",
	[AX_METRIC_BLEU_STD - AX_METRIC_TRAINED_BASE] = "bleu_std",
	[AX_METRIC_CHRF - AX_METRIC_TRAINED_BASE] = "chrf",
	[AX_METRIC_CHRF_STD - AX_METRIC_TRAINED_BASE] = "chrf_std",
};
static_assert(sizeof trained_names / sizeof trained_names[0] == AX_METRIC_N_TRAINED,
	      "every trained metric needs a name");

/* "macs_<kind>", made once (pthread_once: any thread may ask first) */
static char kind_names[AX_KIND_COUNT][48];
static pthread_once_t kind_names_once = PTHREAD_ONCE_INIT;

static void make_kind_names(void)
{
	for (int k = 0; k < AX_KIND_COUNT; k++)
		snprintf(kind_names[k], sizeof kind_names[k], "macs_%s", ax_cost_kind_names[k]);
}

const char *ax_metric_name(int m)
{
	if (m < 0 || m >= AX_METRIC_COUNT)
		return "?";
	if (m < AX_METRIC_KIND_BASE)
		return metric_names[m];
	if (m >= AX_METRIC_TRAINED_BASE)
		return trained_names[m - AX_METRIC_TRAINED_BASE];
	pthread_once(&kind_names_once, make_kind_names);
	return kind_names[m - AX_METRIC_KIND_BASE];
}

int ax_metric_find(const char *name)
{
	for (int m = 0; m < AX_METRIC_COUNT; m++)
		if (!strcmp(name, ax_metric_name(m)))
			return m;
	return -1;
}

/* --- display names --------------------------------------------------- */

#define MAX_PARTS 64

/* The parts of name after "<label>-": each starts at a '-' followed by a
 * letter (a tag: "-d96", "-eL6", "-lr0.001"); a '-' before a digit stays
 * in its part ("-wil1e-08"). Fills at[k] (offset of the '-') and len[k];
 * returns the count, 0 for the label alone, -1 when name does not start
 * with the label or has too many parts. */
static int split_name(const char *name, const char *label, int at[MAX_PARTS],
		      int len[MAX_PARTS])
{
	size_t ll = strlen(label), n = strlen(name);
	if (strncmp(name, label, ll) != 0 || (name[ll] && name[ll] != '-'))
		return -1;
	int k = 0;
	for (size_t i = ll; i < n; i++) {
		if (name[i] != '-' || !isalpha((unsigned char)name[i + 1]))
			continue;
		if (k == MAX_PARTS)
			return -1;
		if (k)
			len[k - 1] = (int)i - at[k - 1];
		at[k++] = (int)i;
	}
	if (k)
		len[k - 1] = (int)n - at[k - 1];
	else if (ll < n)
		return -1;   /* "<label>-" followed by no tag */
	return k;
}

/* One family's names: which parts vary, then the names from them. */
static void family_names(const struct ax_sweep_meta *m, const struct ax_sweep_recs *rs,
			 int fam, ax_sweep_name *out)
{
	const char *label = m->family[fam];
	int at0[MAX_PARTS], len0[MAX_PARTS], at[MAX_PARTS], len[MAX_PARTS];
	bool vary[MAX_PARTS] = { false };
	int n0 = -2;
	const char *first = NULL;
	for (int64_t i = 0; i < rs->n; i++) {
		const struct ax_sweep_rec *r = &rs->r[i];
		if (r->family != fam)
			continue;
		int k = split_name(r->name, label, at, len);
		if (n0 == -2) {
			n0 = k;
			first = r->name;
			memcpy(at0, at, sizeof at);
			memcpy(len0, len, sizeof len);
		}
		if (k < 0 || k != n0)
			return;   /* irregular: every name stays whole */
		for (int c = 0; c < k; c++)
			vary[c] |= len[c] != len0[c] ||
				   memcmp(r->name + at[c], first + at0[c], (size_t)len[c]);
	}
	for (int64_t i = 0; i < rs->n; i++) {
		const struct ax_sweep_rec *r = &rs->r[i];
		if (r->family != fam)
			continue;
		int k = split_name(r->name, label, at, len);
		size_t o = (size_t)snprintf(out[i], sizeof out[i], "%s", label);
		for (int c = 0; c < k && o < sizeof out[i]; c++)
			if (vary[c])
				o += (size_t)snprintf(out[i] + o, sizeof out[i] - o, "%.*s",
						      len[c], r->name + at[c]);
	}
}

ax_sweep_name *ax_sweep_display_names(const struct ax_sweep_meta *m,
				      const struct ax_sweep_recs *rs)
{
	ax_sweep_name *out = malloc((size_t)(rs->n ? rs->n : 1) * sizeof *out);
	if (!out)
		return NULL;
	for (int64_t i = 0; i < rs->n; i++)
		snprintf(out[i], sizeof out[i], "%s", rs->r[i].name);
	for (int fam = 0; fam < m->n_families; fam++)
		family_names(m, rs, fam, out);
	return out;
}
