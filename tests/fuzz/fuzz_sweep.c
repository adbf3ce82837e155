/*
 * fuzz_sweep.c - libFuzzer target for the sweep-file loader: any bytes
 * must give AX_OK or a diagnostic, never a crash, leak or hang. Base
 * configs come from memory (no file system): a path containing "lm" gets
 * a Lite language model, "lite" a Lite translation model, anything else
 * a Transformer. A sweep that loads and has few points is also run
 * (resolve, measure, constraints, JSON lines), so the fuzzer reaches the
 * expression evaluator and the config paths. Built with -DAX_FUZZ=ON.
 */
#define _POSIX_C_SOURCE 200809L  /* fmemopen; the fuzz build sets no flags */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "model.h"
#include "sweep.h"

#define MAX_RUN_POINTS 64

static const char base_transformer[] =
	"family: transformer\ntask: translation\nembed_dim: 64\nnorm: post\n"
	"vocab: {source: 100, target: 100, share: all}\n"
	"encoder: {layers: 2, ffn_dim: 128, attention_heads: 4}\n"
	"decoder: {layers: 2, ffn_dim: 128, attention_heads: 4}\n";
static const char base_lite[] =
	"family: lite\ntask: translation\nembed_dim: 64\nnorm: post\n"
	"vocab: {source: 100, target: 100, share: all}\n"
	"encoder: {layers: 2, ffn_dim: 64, attention_branch: {dim: 32, heads: 4},\n"
	"  conv_branch: {type: lightweight, dim: 32, heads: 4, glu: false, kernel_size: [3, 7]}}\n"
	"decoder: {layers: 2, ffn_dim: 64, attention_heads: 4,\n"
	"  attention_branch: {dim: 32, heads: 4},\n"
	"  conv_branch: {type: dynamic, dim: 32, heads: 4, glu: true, kernel_size: 7}}\n";
static const char base_lm[] =
	"family: lite\ntask: language_model\nembed_dim: 64\nnorm: pre\n"
	"final_norm: false\nvocab: {target: 1000, share: none}\n"
	"adaptive: {cutoffs: [100, 500], factor: 4, tie_weights: true, tie_proj: true}\n"
	"decoder: {layers: 2, ffn_dim: 64, attention_branch: {dim: 32, heads: 4},\n"
	"  conv_branch: {type: dynamic, dim: 32, heads: 4, glu: true, kernel_size: 7}}\n";

static enum ax_status base(void *ctx, const char *path, struct ax_config *cfg,
			   struct ax_diag *d)
{
	(void)ctx;
	const char *text = strstr(path, "lm") ? base_lm :
			   strstr(path, "lite") ? base_lite : base_transformer;
	return ax_config_load_string(text, strlen(text), path, cfg, d);
}

struct sink {
	FILE *f;
	const struct ax_sweep *sw;
};

static enum ax_status write_point(void *ctx, const struct ax_sweep_point *pt,
				  const struct ax_sweep_stats *st,
				  struct ax_diag *d)
{
	const struct sink *k = ctx;
	(void)st;
	return ax_sweep_point_write_json(k->f, k->sw, pt, d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ax_sweep *sw = calloc(1, sizeof *sw);
	struct ax_diag d = { 0 };

	if (!sw)
		abort();
	static FILE *devnull;
	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	if (ax_sweep_load_string(sw, (const char *)data, size, "fuzz.yaml",
				 base, NULL, &d) != AX_OK) {
		if (d.msg[0] == '\0')
			abort();   /* a failure must say why */
		free(sw);
		return 0;
	}
	/* run small sweeps only: a huge grid is work, not a bug */
	if (sw->n_points <= MAX_RUN_POINTS) {
		struct sink k = { devnull, sw };
		struct ax_sweep_run_opts o = { .shard_k = 0, .shard_n = 1, .jobs = 1,
					       .limit = MAX_RUN_POINTS };
		struct ax_sweep_stats stats;
		if (ax_sweep_run(sw, &o, write_point, &k, &stats, &d) != AX_OK &&
		    d.msg[0] == '\0')
			abort();
	}
	ax_sweep_free(sw);
	free(sw);
	return 0;
}
