/*
 * sweep_names.c - the names of search strategies and metrics, as sweep
 * files, points.jsonl and the tables spell them (see sweep.h).
 */
#include "sweep.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

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
