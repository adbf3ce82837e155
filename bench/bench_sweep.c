/*
 * bench_sweep.c - the analytic evaluation rate of sweep design points,
 * points per second on one core: change the config (apply the genome and
 * the derived fields), validate, cost it with the sweep's fast evaluator
 * (src/fastcost.h: each distinct layer built and costed once per thread),
 * evaluate the constraints. The grid is revisited round-robin, so the
 * layer cache is warm; the cold line clears it before every point (only
 * repeats inside one model are reused). Baselines in the same run:
 *   reference    the whole op list built and costed by ax_cost_graph()
 *                (the path every count is checked against);
 *   fresh-ws     a new workspace (malloc, cold cache) for every point;
 *   yaml-reload  a YAML config written out and loaded again per point,
 *                then validate + cost (what scripting `archex count` per
 *                point would pay in process, without exec);
 * and the split of the reference path into resolve / build / cost. No
 * count calls BLAS, so no figure depends on OpenBLAS or its core type.
 * Target: 10^6 points/s/core. Figures are this machine's; quote ratios.
 * Pass a number of seconds per measurement as argv[1] (default 0.5); a
 * second argument `hot` measures the hot path alone (for perf record), and
 * `count N` evaluates exactly N hot-path points and no baseline, for
 * instruction counts that do not depend on timing: run it twice under
 * `valgrind --tool=callgrind` with two N and divide the difference in Ir
 * by the difference in N to get instructions per point.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/model_fixtures.h"
#include "sweep.h"
#include "model.h"

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

enum stage { ALL, COLD, REFERENCE, RESOLVE, BUILD, FRESH_GRAPH, YAML,
	     STAGE_COUNT };

/* Evaluates points round-robin over the sweep for `secs`, or exactly
 * `max_points` points when that is > 0; returns pts/s. *ops_per_point
 * gets the ops built and costed per point, *hit_rate the layer cache's. */
static double measure(const struct ax_sweep *sw, enum stage stage, double secs,
		      int64_t max_points, double *ops_per_point, double *hit_rate)
{
	struct ax_sweep_point *pt = malloc(sizeof *pt);
	struct ax_sweep_ws ws;
	ax_sweep_ws_init(&ws);
	ws.reference = stage == REFERENCE || stage == BUILD;
	int32_t genes[AX_SWEEP_MAX_GENES];
	int64_t n = 0, ops = 0;
	volatile double sink = 0;
	double t0 = now(), t = t0;
	char yaml[8192];
	while (max_points > 0 ? n < max_points : t - t0 < secs) {
		for (int k = 0; k < 256 && (max_points <= 0 || n < max_points); k++, n++) {
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
			if (stage == COLD)
				ax_fastcost_clear(&ws.fc);
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
			ops += ws.reference ? ws.g.n_ops : ws.fc.g.n_ops;
			sink += pt->metrics[AX_METRIC_MACS];
		}
		t = now();
	}
	(void)sink;
	if (hit_rate)
		*hit_rate = (double)ws.fc.hits / (double)(ws.fc.hits + ws.fc.misses);
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
	       "1..6 layers), paper convention, S=T=30, one thread, %.1fs each;\n"
	       "  analytic counts only (no BLAS call: independent of OpenBLAS and "
	       "its core type)\n", sw->n_points, secs);
	double opp, hits;
	if (argc > 3 && !strcmp(argv[2], "count")) {
		int64_t n = atoll(argv[3]);
		double r = measure(sw, ALL, 0, n, &opp, NULL);
		printf("  hot path: %" PRId64 " points, %.0f points/s\n", n, r);
		ax_sweep_free(sw);
		free(sw);
		return 0;
	}
	double all = measure(sw, ALL, secs, 0, &opp, &hits);
	if (argc > 2 && !strcmp(argv[2], "hot")) {
		printf("  hot path: %.0f points/s\n", all);
		ax_sweep_free(sw);
		free(sw);
		return 0;
	}
	double cold_opp, cold_hits, ref_opp;
	double cold = measure(sw, COLD, secs, 0, &cold_opp, &cold_hits);
	double ref = measure(sw, REFERENCE, secs, 0, &ref_opp, NULL);
	double res = measure(sw, RESOLVE, secs, 0, NULL, NULL);
	double bld = measure(sw, BUILD, secs, 0, NULL, NULL);
	double fresh = measure(sw, FRESH_GRAPH, secs, 0, NULL, NULL);
	double yaml = measure(sw, YAML, secs, 0, NULL, NULL);
	printf("  %-46s %10.0f points/s  (%.2f us; %.0f ops costed per point, "
	       "layer cache hits %.1f%%)\n", "hot path: resolve+validate+fast cost",
	       all, 1e6 / all, opp, 100 * hits);
	printf("  %-46s %10.0f points/s  (%.2fx slower; %.0f ops, hits %.1f%%)\n",
	       "  cold layer cache (cleared every point)", cold, all / cold,
	       cold_opp, 100 * cold_hits);
	printf("  %-46s %10.0f points/s  (%.2f us)\n", "  of which resolve+validate+id alone",
	       res, 1e6 / res);
	printf("  %-46s %10.0f points/s  (%.2fx slower; %.0f ops per point)\n",
	       "baseline: reference (whole op list, ax_cost_graph)", ref, all / ref, ref_opp);
	printf("  %-46s %10.0f points/s  (build %.2f us, so cost %.2f us)\n",
	       "  of which resolve+validate+build", bld, 1e6 / bld - 1e6 / res,
	       1e6 / ref - 1e6 / bld);
	printf("  %-46s %10.0f points/s  (%.2fx slower)\n",
	       "baseline: fresh workspace (malloc) per point", fresh, all / fresh);
	if (yaml > 0)
		printf("  %-46s %10.0f points/s  (%.2fx slower)\n",
		       "baseline: YAML write + reload per point", yaml, all / yaml);
	else
		printf("  %-46s %10s\n", "baseline: YAML write + reload per point",
		       "(loader not in this build)");
	printf("  target 1e6 points/s/core: %s (%.2fx of target; cold cache %.2fx)\n",
	       all >= 1e6 ? "met" : "not met", all / 1e6, cold / 1e6);
	ax_sweep_free(sw);
	free(sw);
	return 0;
}
