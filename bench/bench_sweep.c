/*
 * bench_sweep.c - the analytic evaluation rate of sweep design points,
 * points per second on one core: change the config (apply the genome and
 * the derived fields), validate, build the op list, cost it, evaluate the
 * constraints. Baselines in the same run:
 *   fresh-graph  the same, with a new graph (malloc) for every point;
 *   yaml-reload  a YAML config written out and loaded again per point,
 *                then validate + build + cost (what scripting `archex
 *                count` per point would pay in process, without exec);
 * and the split of the hot path into resolve / build / cost. Target:
 * 10^6 points/s/core. Figures are this machine's; quote the ratios.
 * Pass a number of seconds per measurement as argv[1] (default 0.5); a
 * second argument `hot` measures the hot path alone (for perf record).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/model_fixtures.h"
#include "sweep.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static enum ax_status base(void *ctx, const char *path, struct ax_config *cfg,
			   struct ax_diag *d)
{
	(void)ctx;
	(void)d;
	if (strstr(path, "lite"))
		*cfg = fx_lite(256, AX_CONV_DYNAMIC, true, 8, 32768, 32768, AX_SHARE_ALL);
	else
		*cfg = fx_transformer(256, 1024, 4, 6, 32768, 32768, AX_SHARE_ALL);
	return AX_OK;
}

static const char sweep_text[] =
	"name: bench\n"
	"convention: paper\n"
	"constraints: ['macs <= 500e6', 'params <= 50e6']\n"
	"families:\n"
	"  - base: transformer.yaml\n"
	"    axes:\n"
	"      embed_dim: [128, 192, 256, 320, 384, 512]\n"
	"      encoder.layers: {from: 1, to: 6}\n"
	"      decoder.layers: {from: 1, to: 6}\n"
	"      attention_heads: [2, 4, 8]\n"
	"    derived:\n"
	"      ffn_dim: 4 * embed_dim\n"
	"  - base: lite.yaml\n"
	"    axes:\n"
	"      embed_dim: [128, 192, 256, 320, 384, 512]\n"
	"      layers: {from: 1, to: 6}\n"
	"      conv_branch.kernel_size: [3, 7, 15, 31]\n"
	"      attention_branch.heads: [2, 4, 8]\n"
	"    derived:\n"
	"      attention_branch.dim: embed_dim / 2\n"
	"      conv_branch.dim: embed_dim / 2\n"
	"      ffn_dim: embed_dim\n";

enum stage { ALL, RESOLVE, BUILD, FRESH_GRAPH, YAML, STAGE_COUNT };

/* Evaluates points round-robin over the sweep for `secs`; returns pts/s. */
static double measure(const struct ax_sweep *sw, enum stage stage, double secs,
		      double *ops_per_point)
{
	struct ax_sweep_point *pt = malloc(sizeof *pt);
	struct ax_sweep_ws ws;
	ax_sweep_ws_init(&ws);
	int32_t genes[AX_SWEEP_MAX_GENES];
	int64_t n = 0, ops = 0;
	volatile double sink = 0;
	double t0 = now(), t = t0;
	char yaml[8192];
	while (t - t0 < secs) {
		for (int k = 0; k < 256; k++, n++) {
			int64_t i = n % sw->n_points;
			int f = i >= sw->family[1].first_index;
			struct ax_diag d = { 0 };
			ax_sweep_genome(sw, f, i - sw->family[f].first_index, genes);
			if (ax_sweep_resolve(sw, f, genes, pt, &d))
				continue;
			if (stage == RESOLVE) {
				sink += (double)pt->id;
				continue;
			}
			if (stage == FRESH_GRAPH) {
				ax_sweep_ws_free(&ws);
				ax_sweep_ws_init(&ws);
			}
			if (stage == YAML) {
				/* write the resolved config as YAML and load it back */
				const struct ax_config *c = &pt->cfg;
				int len = snprintf(yaml, sizeof yaml,
					"name: p\nfamily: %s\ntask: translation\nembed_dim: %" PRId64 "\n"
					"vocab: {source: %" PRId64 ", target: %" PRId64 ", share: all}\n"
					"encoder:\n  layers: %" PRId64 "\n  ffn_dim: %" PRId64 "\n"
					"decoder:\n  layers: %" PRId64 "\n  ffn_dim: %" PRId64 "\n",
					ax_family_names[c->family], c->embed_dim, c->vocab_source,
					c->vocab_target, c->encoder.layers, c->encoder.layer[0].ffn_dim,
					c->decoder.layers, c->decoder.layer[0].ffn_dim);
				struct ax_config *back = malloc(sizeof *back);
				enum ax_status s = ax_config_load_string(yaml, (size_t)len, "p.yaml", back, &d);
				free(back);
				if (s == AX_ERR_INTERNAL) {
					ax_sweep_ws_free(&ws);
					free(pt);
					return -1;   /* loader not built in */
				}
			}
			if (stage == BUILD) {
				if (ax_model_build(&pt->cfg, &ws.g, &d) == AX_OK)
					sink += ws.g.n_ops;
				continue;
			}
			if (ax_sweep_measure(sw, &ws, pt, &d))
				continue;
			ops += ws.g.n_ops;
			sink += pt->metrics[AX_METRIC_MACS];
		}
		t = now();
	}
	(void)sink;
	ax_sweep_ws_free(&ws);
	free(pt);
	if (ops_per_point)
		*ops_per_point = (double)ops / (double)n;
	return (double)n / (t - t0);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	struct ax_sweep *sw = calloc(1, sizeof *sw);
	struct ax_diag d = { 0 };
	if (!sw || ax_sweep_load_string(sw, sweep_text, sizeof sweep_text - 1,
					"bench.yaml", base, NULL, &d)) {
		fprintf(stderr, "bench_sweep: %s\n", d.msg);
		return 1;
	}
	printf("bench_sweep: %" PRId64 " grid points (Transformer and Lite, d 128..512, "
	       "1..6 layers), paper convention, S=T=30, one thread, %.1fs each\n",
	       sw->n_points, secs);
	double opp;
	double all = measure(sw, ALL, secs, &opp);
	if (argc > 2 && !strcmp(argv[2], "hot")) {
		printf("  hot path: %.0f points/s\n", all);
		ax_sweep_free(sw);
		free(sw);
		return 0;
	}
	double res = measure(sw, RESOLVE, secs, NULL);
	double bld = measure(sw, BUILD, secs, NULL);
	double fresh = measure(sw, FRESH_GRAPH, secs, NULL);
	double yaml = measure(sw, YAML, secs, NULL);
	printf("  %-44s %12.0f points/s  (%.0f ops per point, %.0f ns per op)\n",
	       "hot path: resolve+validate+build+cost", all, opp, 1e9 / all / opp);
	printf("  %-44s %12.0f points/s  (%.2f us)\n", "  of which resolve+validate+id alone", res,
	       1e6 / res);
	printf("  %-44s %12.0f points/s  (build %.2f us, so cost %.2f us)\n",
	       "  of which resolve+validate+build", bld, 1e6 / bld - 1e6 / res,
	       1e6 / all - 1e6 / bld);
	printf("  %-44s %12.0f points/s  (%.2fx slower)\n", "baseline: fresh graph (malloc) per point",
	       fresh, all / fresh);
	if (yaml > 0)
		printf("  %-44s %12.0f points/s  (%.2fx slower)\n",
		       "baseline: YAML write + reload per point", yaml, all / yaml);
	else
		printf("  %-44s %12s\n", "baseline: YAML write + reload per point",
		       "(loader not in this build)");
	printf("  target 1e6 points/s/core: %s (%.2fx of target)\n",
	       all >= 1e6 ? "met" : "not met", all / 1e6);
	ax_sweep_free(sw);
	free(sw);
	return 0;
}
