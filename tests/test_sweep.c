/*
 * test_sweep.c - sweep files and search: grid counts, seeded ranges and
 * random axes, derived fields, constraints, the Pareto front against a
 * brute-force check, resume after a torn write, hostile points.jsonl and
 * sweep.json lines, shards merged equal to one run, and exact FILE:LINE:COL for bad sweep files. Base configs come
 * from the code fixtures, so nothing depends on the YAML config loader.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "model_fixtures.h"
#include "sweep.h"
#include "sweep_out.h"

/* base: "t.yaml" Transformer d=256; "l.yaml" Lite d=256 */
static enum ax_status fixture_base(void *ctx, const char *path,
				   struct ax_config *cfg, struct ax_diag *d)
{
	(void)ctx;
	size_t n = strlen(path);
	if (n >= 6 && !strcmp(path + n - 6, "t.yaml")) {
		*cfg = fx_transformer(256, 1024, 4, 6, 32768, 32768, AX_SHARE_ALL);
		return AX_OK;
	}
	if (n >= 6 && !strcmp(path + n - 6, "l.yaml")) {
		*cfg = fx_lite(256, AX_CONV_DYNAMIC, true, 8, 32768, 32768, AX_SHARE_ALL);
		return AX_OK;
	}
	return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "no such fixture");
}

static struct ax_sweep *load(const char *text, struct ax_diag *d)
{
	struct ax_sweep *sw = calloc(1, sizeof *sw);
	assert_non_null(sw);
	if (ax_sweep_load_string(sw, text, strlen(text), "sweeps/test.yaml",
				 fixture_base, NULL, d) != AX_OK) {
		free(sw);
		return NULL;
	}
	return sw;
}

static struct ax_sweep *load_ok(const char *text)
{
	struct ax_diag d = { 0 };
	struct ax_sweep *sw = load(text, &d);
	if (!sw)
		fail_msg("load failed: %s:%d:%d: %s", d.file, d.line, d.col, d.msg);
	return sw;
}

static void drop(struct ax_sweep *sw)
{
	ax_sweep_free(sw);
	free(sw);
}

/* Collected points. */
struct bag {
	int64_t n;
	uint64_t id[4096];
	int64_t index[4096];
	int family[4096];
	bool feasible[4096];
	double macs[4096], nonemb[4096];
	int64_t ffn[4096], dim[4096], att[4096];
};

static enum ax_status collect(void *ctx, const struct ax_sweep_point *pt,
			      const struct ax_sweep_stats *st, struct ax_diag *d)
{
	struct bag *b = ctx;
	(void)st;
	(void)d;
	assert_true(b->n < 4096);
	b->id[b->n] = pt->id;
	b->index[b->n] = pt->index;
	b->family[b->n] = pt->family;
	b->feasible[b->n] = pt->feasible;
	b->macs[b->n] = pt->metrics[AX_METRIC_MACS];
	b->nonemb[b->n] = pt->metrics[AX_METRIC_NONEMBEDDING_PARAMS];
	b->ffn[b->n] = pt->cfg.decoder.layer[0].ffn_dim;
	b->dim[b->n] = pt->cfg.embed_dim;
	b->att[b->n] = pt->cfg.encoder.layer[0].attention_dim;
	b->n++;
	return AX_OK;
}

static struct bag *run(const struct ax_sweep *sw, int k, int n, struct ax_sweep_stats *st)
{
	struct bag *b = calloc(1, sizeof *b);
	struct ax_diag d = { 0 };
	struct ax_sweep_run_opts o = { .shard_k = k, .shard_n = n, .jobs = 1 };
	assert_int_equal(ax_sweep_run(sw, &o, collect, b, st, &d), AX_OK);
	return b;
}

static const char grid_text[] =
	"name: g\n"
	"convention: paper\n"
	"families:\n"
	"  - base: t.yaml\n"
	"    axes:\n"
	"      embed_dim: [128, 256]\n"
	"      decoder.layers: {from: 1, to: 3}\n"
	"      attention_heads: {choice: [2, 4, 3]}\n"
	"      encoder.ffn_dim: {uniform: [256, 1024], step: 256}\n";

static void test_grid_counts(void **state)
{
	(void)state;
	struct ax_sweep *sw = load_ok(grid_text);
	/* 2 * 3 * 3 * 4 = 72; heads 3 divides neither 128 nor 256 */
	assert_int_equal(sw->n_points, 72);
	assert_int_equal(sw->family[0].axes[3].n_values, 4);
	struct ax_sweep_stats st;
	struct bag *b = run(sw, 0, 1, &st);
	assert_int_equal(st.total, 72);
	assert_int_equal(st.invalid, 24);
	assert_int_equal(st.duplicate, 0);
	assert_int_equal(st.emitted, 48);
	assert_int_equal(b->n, 48);
	/* index order, last axis fastest: point 0 is d=128, 1 layer, 2 heads, f=256 */
	assert_int_equal(b->index[0], 0);
	assert_int_equal(b->dim[0], 128);
	for (int64_t i = 1; i < b->n; i++)
		assert_true(b->index[i] > b->index[i - 1]);
	/* sharding partitions the emitted points */
	struct ax_sweep_stats s0, s1, s2;
	struct bag *b0 = run(sw, 0, 3, &s0), *b1 = run(sw, 1, 3, &s1), *b2 = run(sw, 2, 3, &s2);
	assert_int_equal(b0->n + b1->n + b2->n, b->n);
	for (int64_t i = 0; i < b1->n; i++)
		assert_int_equal(b1->index[i] % 3, 1);
	free(b0);
	free(b1);
	free(b2);
	free(b);
	drop(sw);
}

static const char random_text[] =
	"name: r\n"
	"search: {strategy: random, n: 200, seed: SEED}\n"
	"families:\n"
	"  - base: t.yaml\n"
	"    axes:\n"
	"      embed_dim: {uniform: [128, 512], step: 64}\n"
	"      layers: [2, 3, 4, 5, 6]\n"
	"      attention_heads: [2, 4, 8]\n"
	"    derived:\n"
	"      ffn_dim: 4 * embed_dim\n";

static struct ax_sweep *random_sweep(int seed)
{
	char text[sizeof random_text + 16], *p;
	snprintf(text, sizeof text, "%s", random_text);
	p = strstr(text, "SEED");
	char tail[512];
	snprintf(tail, sizeof tail, "%s", p + 4);
	snprintf(p, sizeof text - (size_t)(p - text), "%d%s", seed, tail);
	return load_ok(text);
}

static void test_random_deterministic(void **state)
{
	(void)state;
	struct ax_sweep *a = random_sweep(7), *b = random_sweep(7), *c = random_sweep(8);
	assert_int_equal(a->n_points, 200);
	struct ax_sweep_stats sa, sb, sc;
	struct bag *x = run(a, 0, 1, &sa), *y = run(b, 0, 1, &sb), *z = run(c, 0, 1, &sc);
	assert_int_equal(sa.emitted, sb.emitted);
	assert_true(sa.duplicate > 0);   /* 7 * 5 * 3 = 105 configs < 200 draws */
	assert_memory_equal(x->id, y->id, (size_t)x->n * sizeof x->id[0]);
	assert_memory_equal(x->index, y->index, (size_t)x->n * sizeof x->index[0]);
	assert_true(x->n != z->n || memcmp(x->id, z->id, (size_t)x->n * sizeof x->id[0]));
	/* derived ffn_dim = 4 d, and every drawn d is on the 64-grid */
	for (int64_t i = 0; i < x->n; i++) {
		assert_int_equal(x->ffn[i], 4 * x->dim[i]);
		assert_int_equal(x->dim[i] % 64, 0);
		assert_true(x->dim[i] >= 128 && x->dim[i] <= 512);
	}
	/* a point's genome depends only on (seed, family, index) */
	int32_t g1[AX_SWEEP_MAX_GENES], g2[AX_SWEEP_MAX_GENES];
	ax_sweep_genome(a, 0, 123, g1);
	ax_sweep_genome(b, 0, 123, g2);
	assert_memory_equal(g1, g2, 3 * sizeof g1[0]);
	free(x);
	free(y);
	free(z);
	drop(a);
	drop(b);
	drop(c);
}

static void test_derived_lite(void **state)
{
	(void)state;
	struct ax_sweep *sw = load_ok(
		"families:\n"
		"  - base: l.yaml\n"
		"    axes:\n"
		"      embed_dim: [128, 200, 256]\n"
		"      decoder.conv_branch.kernel_size: [[3, 7, 15, 31, 31, 31], 7]\n"
		"    derived:\n"
		"      attention_branch.dim: embed_dim / 2\n"
		"      conv_branch.dim: embed_dim - attention_branch.dim\n"
		"      ffn_dim: max(embed_dim, 2 * (embed_dim / 64) * 32)\n");
	struct ax_sweep_stats st;
	struct bag *b = run(sw, 0, 1, &st);
	assert_int_equal(st.emitted, 6);
	assert_int_equal(st.invalid, 0);
	for (int64_t i = 0; i < b->n; i++) {
		assert_int_equal(b->att[i], b->dim[i] / 2);
		assert_int_equal(b->ffn[i], b->dim[i] == 200 ? 200 : b->dim[i]);
	}
	free(b);
	drop(sw);
}

/* An integer derived value outside int64 (a huge constant, an overflowing
 * product, INT64_MIN / -1) makes its points invalid, never UB. */
static void test_derived_outside_int64(void **state)
{
	(void)state;
	static const char *const exprs[] = {
		"44444444444444444444444442 * embed_dim",
		"embed_dim * 4000000000000000000",
		"(0 - 9223372036854775807 - 1) / (0 - 1)",
	};
	for (int k = 0; k < 3; k++) {
		char text[400];
		snprintf(text, sizeof text,
			 "families:\n  - base: t.yaml\n    axes:\n"
			 "      embed_dim: [128, 256]\n    derived:\n      ffn_dim: %s\n",
			 exprs[k]);
		struct ax_sweep *sw = load_ok(text);
		struct ax_sweep_stats st;
		struct bag *b = run(sw, 0, 1, &st);
		assert_int_equal(st.emitted, 0);
		assert_int_equal(st.invalid, 2);
		free(b);
		drop(sw);
	}
}

static void test_constraints(void **state)
{
	(void)state;
	struct ax_sweep *sw = load_ok(
		"convention: paper\n"
		"constraints: ['macs <= 60e6', 'nonembedding_params >= 1e6', 'decoder.layers != 2']\n"
		"families:\n"
		"  - base: t.yaml\n"
		"    axes:\n"
		"      embed_dim: [128, 192, 256]\n"
		"      layers: {from: 1, to: 6}\n");
	struct ax_sweep_stats st;
	struct bag *b = run(sw, 0, 1, &st);
	assert_int_equal(b->n, 18);
	int64_t feasible = 0;
	for (int64_t i = 0; i < b->n; i++) {
		int layers = (int)(b->index[i] % 6) + 1;
		bool want = b->macs[i] <= 60e6 && b->nonemb[i] >= 1e6 && layers != 2;
		assert_int_equal(b->feasible[i], want);
		feasible += want;
	}
	assert_int_equal(st.feasible, feasible);
	assert_true(feasible > 0 && feasible < 18);
	free(b);
	drop(sw);
	/* a family's own constraints add to the sweep's, for it alone */
	sw = load_ok(
		"constraints: ['macs <= 1e9']\n"
		"families:\n"
		"  - base: t.yaml\n"
		"    axes: {embed_dim: [128, 192, 256]}\n"
		"    constraints: ['embed_dim >= 192', 'ffn_dim <= 8 * embed_dim']\n"
		"  - name: other\n"
		"    base: t.yaml\n"
		"    axes: {embed_dim: [128, 192, 256, 64]}\n");
	int n;
	const struct ax_sweep_constraint *c = ax_sweep_constraints(sw, 0, &n);
	assert_int_equal(n, 3);
	assert_string_equal(c[2].text, "ffn_dim <= 8 * embed_dim");
	ax_sweep_constraints(sw, 1, &n);
	assert_int_equal(n, 1);
	/* a design reached from two families is written once, under the
	 * first: only d = 64 is new in the second */
	b = run(sw, 0, 1, &st);
	assert_int_equal(b->n, 4);
	assert_int_equal(st.duplicate, 3);
	for (int64_t i = 0; i < 4; i++)
		assert_int_equal(b->feasible[i], b->family[i] == 1 || b->dim[i] >= 192);
	assert_int_equal(b->family[3], 1);
	free(b);
	drop(sw);
}

/* --- directories ---------------------------------------------------------- */

static char tmp_root[256];

static void path_of(char *buf, size_t size, const char *a, const char *b)
{
	snprintf(buf, size, "%s/%s%s%s", tmp_root, a, b ? "/" : "", b ? b : "");
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void assert_same_file(const char *a, const char *b)
{
	size_t la, lb;
	char *x = slurp(a, &la), *y = slurp(b, &lb);
	if (la != lb || memcmp(x, y, la))
		fail_msg("%s and %s differ", a, b);
	free(x);
	free(y);
}

static const char two_family_text[] =
	"name: two\n"
	"convention: paper\n"
	"constraints: ['macs <= 400e6']\n"
	"budgets: [100e6, 300e6]\n"
	"families:\n"
	"  - base: t.yaml\n"
	"    axes:\n"
	"      embed_dim: [128, 192, 256, 320]\n"
	"      layers: {from: 1, to: 6}\n"
	"      ffn_dim: [256, 512, 1024]\n"
	"  - base: l.yaml\n"
	"    axes:\n"
	"      embed_dim: [128, 192, 256]\n"
	"      layers: {from: 2, to: 6, step: 2}\n"
	"      conv_branch.kernel_size: [3, 7, 31]\n"
	"    derived:\n"
	"      attention_branch.dim: embed_dim / 2\n"
	"      conv_branch.dim: embed_dim / 2\n"
	"      ffn_dim: embed_dim\n";

static void run_dir(const struct ax_sweep *sw, const char *dir, int k, int n,
		    bool resume, int64_t limit)
{
	struct ax_sweep_dir_opts o = { .run = { .shard_k = k, .shard_n = n, .jobs = 2,
						.limit = limit },
				       .resume = resume };
	struct ax_sweep_dir_stats st;
	struct ax_diag d = { 0 };
	if (ax_sweep_run_dir(sw, dir, &o, &st, NULL, &d))
		fail_msg("run_dir %s: %s:%d:%d: %s", dir, d.file, d.line, d.col, d.msg);
}

static void test_pareto_brute_force(void **state)
{
	(void)state;
	struct ax_sweep *sw = load_ok(two_family_text);
	char dir[512], path[600];
	path_of(dir, sizeof dir, "full", NULL);
	run_dir(sw, dir, 0, 1, false, 0);
	struct ax_sweep_stats st;
	struct bag *b = run(sw, 0, 1, &st);
	/* brute force: min macs, max nonembedding params, per family, feasible */
	char expect[8192] = "";
	for (int fam = 0; fam < 2; fam++)
		for (int64_t i = 0; i < b->n; i++) {
			if (b->family[i] != fam || !b->feasible[i])
				continue;
			bool dominated = false;
			for (int64_t j = 0; j < b->n && !dominated; j++)
				if (b->family[j] == fam && b->feasible[j] &&
				    b->macs[j] <= b->macs[i] && b->nonemb[j] >= b->nonemb[i] &&
				    (b->macs[j] < b->macs[i] || b->nonemb[j] > b->nonemb[i]))
					dominated = true;
			if (!dominated) {
				char id[24];
				snprintf(id, sizeof id, "%016llx\n", (unsigned long long)b->id[i]);
				strcat(expect, id);
			}
		}
	/* the ids in pareto.csv, column 3 */
	path_of(path, sizeof path, "full", "pareto.csv");
	size_t len;
	char *csv = slurp(path, &len), got[8192] = "";
	char *save = NULL;
	int row = 0;
	for (char *line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (row++ == 0) {
			assert_string_equal(line, "family,index,id,name,macs,nonembedding_params,params");
			continue;
		}
		char *c1 = strchr(line, ','), *c2 = strchr(c1 + 1, ',');
		strncat(got, c2 + 1, 16);
		strcat(got, "\n");
	}
	assert_string_equal(got, expect);
	assert_true(row > 3);
	free(csv);
	/* best.csv: the max nonembedding params under each budget */
	path_of(path, sizeof path, "full", "best.csv");
	csv = slurp(path, &len);
	for (int fam = 0; fam < 2; fam++)
		for (int k = 0; k < 2; k++) {
			double budget = k ? 300e6 : 100e6, bv = -1;
			int64_t bi = -1;
			for (int64_t i = 0; i < b->n; i++)
				if (b->family[i] == fam && b->feasible[i] && b->macs[i] <= budget &&
				    b->nonemb[i] > bv) {
					bv = b->nonemb[i];
					bi = i;
				}
			assert_true(bi >= 0);
			char id[24];
			snprintf(id, sizeof id, ",%016llx,", (unsigned long long)b->id[bi]);
			assert_non_null(strstr(csv, id));
		}
	free(csv);
	free(b);
	drop(sw);
}

static void test_resume_after_torn_write(void **state)
{
	(void)state;
	struct ax_sweep *sw = load_ok(two_family_text);
	char full[512], part[512], a[600], b[600];
	path_of(full, sizeof full, "ref", NULL);
	path_of(part, sizeof part, "part", NULL);
	run_dir(sw, full, 0, 1, false, 0);
	/* interrupted: 40 points, then the last line torn mid-way */
	run_dir(sw, part, 0, 1, false, 40);
	path_of(a, sizeof a, "part", "points.jsonl");
	size_t len;
	char *text = slurp(a, &len);
	assert_int_equal(truncate(a, (off_t)(len - 57)), 0);
	free(text);
	/* without --resume the directory is refused */
	struct ax_sweep_dir_opts o = { .run = { .shard_n = 1, .jobs = 1 } };
	struct ax_sweep_dir_stats st;
	struct ax_diag d = { 0 };
	assert_int_equal(ax_sweep_run_dir(sw, part, &o, &st, NULL, &d), AX_ERR_INPUT);
	o.resume = true;
	assert_int_equal(ax_sweep_run_dir(sw, part, &o, &st, NULL, &d), AX_OK);
	assert_true(st.torn_bytes > 0);
	assert_int_equal(st.already, 39);
	static const char *const files[] = { "points.jsonl", "pareto.csv", "best.csv",
					     "sweep.json", "plots/fronts.csv" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		path_of(a, sizeof a, "ref", files[i]);
		path_of(b, sizeof b, "part", files[i]);
		assert_same_file(a, b);
	}
	drop(sw);
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* points.jsonl and sweep.json are untrusted: numbers are range-checked
 * before they become int64 (1e300 is an error, not undefined behaviour),
 * and every line is one JSON object with the members a point has. */
static void test_hostile_lines(void **state)
{
	(void)state;
	struct ax_sweep_meta m = { .n_families = 1, .family = { "t" } };
	snprintf(m.name, sizeof m.name, "s");
	char path[512];
	path_of(path, sizeof path, "hostile.jsonl", NULL);
	static const char *const bad[] = {
		"{\"id\":\"a\",\"index\":1e300,\"family\":\"t\"}\n",
		"{\"id\":\"a\",\"index\":-1,\"family\":\"t\"}\n",
		"{\"id\":\"a\",\"index\":1.5,\"family\":\"t\"}\n",
		"{\"id\":\"a\",\"index\":9223372036854775808,\"family\":\"t\"}\n",
		"{\"id\":\"a\",\"index\":null,\"family\":\"t\"}\n",
		"{\"id\":\"a\",\"index\":\"1\",\"family\":\"t\"}\n",
		"{\"id\":\"a\",\"index\":1,\"family\":\"other\"}\n",
		"{\"id\":\"a\",\"index\":1}\n",
		"{\"id\":\"a\",\"index\":1,\"family\":\"t\",\"metrics\":{\"macs\":\"x\"}}\n",
		"{\"id\":\"a\",\"index\":1,\"family\":\"t\"} trailing\n",
		"[1,2]\n",
		"{\"id\":\"a\",\"index\":1,\"family\":\"t\"\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		put_file(path, bad[i]);
		struct ax_sweep_recs rs = { 0 };
		struct ax_diag d = { 0 };
		assert_int_equal(ax_sweep_recs_read(&rs, &m, path, &d), AX_ERR_FORMAT);
		assert_non_null(strstr(d.msg, "not a point of sweep 's'"));
		assert_int_equal(d.line, 1);
		ax_sweep_recs_free(&rs);
	}
	put_file(path, "{\"id\":\"a\",\"index\":9007199254740992,\"family\":\"t\","
		       "\"metrics\":{\"macs\":1e300,\"params\":null,\"nope\":[]},"
		       "\"x\":123456789012345678901234567890}\n{\"id\":\"torn");
	struct ax_sweep_recs rs = { 0 };
	struct ax_diag d = { 0 };
	assert_int_equal(ax_sweep_recs_read(&rs, &m, path, &d), AX_OK);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].index, 9007199254740992LL);
	assert_true(rs.r[0].metrics[AX_METRIC_MACS] == 1e300);
	assert_true(isnan(rs.r[0].metrics[AX_METRIC_PARAMS]));
	ax_sweep_recs_free(&rs);

	put_file(path, "{\"name\":\"s\",\"src_len\":1e300,\"families\":[{\"name\":\"t\"}],"
		       "\"objectives\":[\"min:macs\"]}\n");
	struct ax_sweep_meta got;
	assert_int_equal(ax_sweep_meta_read(&got, path, &d), AX_ERR_FORMAT);
	assert_non_null(strstr(d.msg, "not an archex sweep.json"));
	put_file(path, "{\"name\":\"s\",\"src_len\":30,\"families\":[{\"name\":\"t\"}],"
		       "\"objectives\":[\"min:macs\"]}\n");
	assert_int_equal(ax_sweep_meta_read(&got, path, &d), AX_OK);
	assert_int_equal(got.src_len, 30);
	unlink(path);

	/* --resume over a foreign line: refused by line number before the
	 * run adds anything */
	struct ax_sweep *sw = load_ok(two_family_text);
	char dir[512], pts[600];
	path_of(dir, sizeof dir, "foreign", NULL);
	run_dir(sw, dir, 0, 1, false, 5);
	path_of(pts, sizeof pts, "foreign", "points.jsonl");
	FILE *f = fopen(pts, "ab");
	assert_non_null(f);
	fputs("{\"foreign\":1}\n", f);
	fclose(f);
	struct ax_sweep_dir_opts o = { .run = { .shard_n = 1, .jobs = 1 }, .resume = true };
	struct ax_sweep_dir_stats st;
	size_t before, after;
	free(slurp(pts, &before));
	assert_int_equal(ax_sweep_run_dir(sw, dir, &o, &st, NULL, &d), AX_ERR_FORMAT);
	free(slurp(pts, &after));
	assert_int_equal(after, before);
	assert_int_equal(st.written, 0);
	assert_int_equal(d.line, 6);
	assert_non_null(strstr(d.msg, "a foreign or corrupt line"));
	drop(sw);
}

static void test_merge_equals_unsharded(void **state)
{
	(void)state;
	struct ax_sweep *sw = load_ok(two_family_text);
	char ref[512], s[3][512], out[512], a[600], b[600];
	path_of(ref, sizeof ref, "mref", NULL);
	run_dir(sw, ref, 0, 1, false, 0);
	const char *dirs[3];
	for (int k = 0; k < 3; k++) {
		char name[16];
		snprintf(name, sizeof name, "shard%d", k);
		path_of(s[k], sizeof s[k], name, NULL);
		run_dir(sw, s[k], k, 3, false, 0);
		dirs[k] = s[k];
	}
	path_of(out, sizeof out, "merged", NULL);
	struct ax_sweep_meta m;
	struct ax_diag d = { 0 };
	int64_t lines;
	/* shards listed twice: duplicates are dropped */
	const char *twice[6] = { dirs[2], dirs[0], dirs[1], dirs[0], dirs[1], dirs[2] };
	assert_int_equal(ax_sweep_merge_dirs(out, twice, 6, false, &m, NULL, &lines, &d), AX_OK);
	static const char *const files[] = { "points.jsonl", "pareto.csv", "best.csv", "sweep.json" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		path_of(a, sizeof a, "mref", files[i]);
		path_of(b, sizeof b, "merged", files[i]);
		assert_same_file(a, b);
	}
	drop(sw);
}

static void test_evolution_shards(void **state)
{
	(void)state;
	struct ax_sweep *sw = load_ok(
		"name: evo\n"
		"convention: paper\n"
		"constraints: ['macs <= 150e6']\n"
		"search: {strategy: evolution, population: 24, generations: 5, parents: 6,\n"
		"         mutation_prob: 0.3, crossover_prob: 0.5, seed: 3}\n"
		"families:\n"
		"  - base: t.yaml\n"
		"    axes:\n"
		"      embed_dim: [128, 192, 256, 320, 384]\n"
		"      encoder.layers: {from: 1, to: 6}\n"
		"      decoder.layers: {from: 1, to: 6}\n"
		"      decoder.ffn_dim: {choice: [256, 512, 1024, 2048], per_layer: true}\n");
	assert_int_equal(sw->n_points, 24 + 5 * 18);
	struct ax_sweep_stats st;
	struct bag *b = run(sw, 0, 1, &st);
	assert_int_equal(st.total, sw->n_points);
	assert_int_equal(st.emitted + st.duplicate + st.invalid, sw->n_points);
	/* evolution improves or keeps the best feasible fitness */
	double first = -1, best = -1;
	for (int64_t i = 0; i < b->n; i++)
		if (b->feasible[i]) {
			if (b->index[i] < 24 && b->nonemb[i] > first)
				first = b->nonemb[i];
			if (b->nonemb[i] > best)
				best = b->nonemb[i];
		}
	assert_true(first > 0 && best >= first);
	char ref[512], s0[512], s1[512], out[512], a[600], c[600];
	path_of(ref, sizeof ref, "eref", NULL);
	path_of(s0, sizeof s0, "e0", NULL);
	path_of(s1, sizeof s1, "e1", NULL);
	path_of(out, sizeof out, "emerged", NULL);
	run_dir(sw, ref, 0, 1, false, 0);
	run_dir(sw, s0, 0, 2, false, 0);
	run_dir(sw, s1, 1, 2, false, 0);
	const char *dirs[2] = { s0, s1 };
	struct ax_sweep_meta m;
	struct ax_diag d = { 0 };
	assert_int_equal(ax_sweep_merge_dirs(out, dirs, 2, false, &m, NULL, NULL, &d), AX_OK);
	path_of(a, sizeof a, "eref", "pareto.csv");
	path_of(c, sizeof c, "emerged", "pareto.csv");
	assert_same_file(a, c);
	path_of(a, sizeof a, "eref", "best.csv");
	path_of(c, sizeof c, "emerged", "best.csv");
	assert_same_file(a, c);
	free(b);
	drop(sw);
}

/* --- errors ------------------------------------------------------------- */

static void expect_error(const char *text, int line, int col, const char *needle)
{
	struct ax_diag d = { 0 };
	struct ax_sweep *sw = load(text, &d);
	if (sw) {
		drop(sw);
		fail_msg("expected an error containing '%s'", needle);
	}
	if (d.line != line || d.col != col || !strstr(d.msg, needle))
		fail_msg("got %s:%d:%d: %s; want %d:%d '%s'", d.file, d.line, d.col, d.msg,
			 line, col, needle);
	assert_string_equal(d.file, "sweeps/test.yaml");
	assert_int_equal(d.status, AX_ERR_INPUT);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("familes: []\n", 1, 1, "did you mean 'families'");
	expect_error("families:\n  - base: t.yaml\n    axes:\n      embed_dm: [1]\n",
		     4, 7, "did you mean 'embed_dim'");
	expect_error("families:\n  - base: t.yaml\n    axes:\n      decoder.vocab.share: [1]\n",
		     4, 7, "unknown config path");
	expect_error("families:\n  - base: t.yaml\n    axes:\n      embed_dim: [128, x]\n",
		     4, 24, "bad value for embed_dim");
	expect_error("families:\n  - base: t.yaml\n    axes:\n      embed_dim: {from: 1, to: 9, stp: 2}\n",
		     4, 35, "did you mean 'step'");
	expect_error("families:\n  - base: t.yaml\n    derived:\n      ffn_dim: 4 * embed_dim +\n",
		     4, 31, "expression ends early");
	expect_error("families:\n  - base: t.yaml\n    derived:\n      ffn_dim: 4 * embd_dim\n",
		     4, 20, "unknown name 'embd_dim'");
	expect_error("constraints:\n  - macs <= 100e6\n  - 'parms < 5e6'\nfamilies: []\n",
		     3, 6, "unknown name 'parms'");
	expect_error("objectives:\n  - {minimize: macs}\n  - {maximize: nonembeding_params}\n",
		     3, 16, "did you mean 'nonembedding_params'");
	expect_error("objectives:\n  - {minimize: accuracy_of_dreams}\n", 2, 16, "unknown objective");
	expect_error("search: {strategy: anneal}\n", 1, 20, "strategy must be");
	expect_error("src_len: thirty\n", 1, 10, "must be an integer");
	expect_error("families:\n  - base: t.yaml\n    axes:\n      encoder.ffn_dim: {choice: [1, 2], per_layer: true}\n",
		     4, 7, "per_layer axis encoder.ffn_dim needs strategy random");
	expect_error("families:\n  - base: t.yaml\n  - base: t.yaml\n", 3, 5, "two families are called");
	expect_error("families:\n  - base: t.yaml\n    axes: [1]\n", 3, 11, "axes must be a mapping");
	expect_error("families:\n  - base: t.yaml\n    axes:\n      embed_dim: [1\n", 5, 1, "YAML");
	/* a base config that does not load: the config's own diagnostic */
	struct ax_diag d = { 0 };
	struct ax_sweep *sw = load("families:\n  - base: nope.yaml\n", &d);
	assert_null(sw);
	assert_int_equal(d.line, 2);
	assert_int_equal(d.col, 11);
	assert_non_null(strstr(d.msg, "sweeps/nope.yaml"));
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp_root, sizeof tmp_root, "%s/test_sweep.%d", AX_BINARY_DIR, (int)getpid());
	return mkdir(tmp_root, 0777);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
	return system(cmd) == 0 ? 0 : -1;
}

/* Display names keep the parts that vary within a family: a part with a
 * negative exponent stays whole, a label with '-' is not split, a family
 * whose names have different part counts (or do not start with its
 * label) keeps them whole, and a family with nothing varying shows its
 * label. */
static void test_display_names(void **state)
{
	(void)state;
	struct ax_sweep_meta m = { .n_families = 4 };
	strcpy(m.family[0], "t");
	strcpy(m.family[1], "lite-big");
	strcpy(m.family[2], "odd");
	strcpy(m.family[3], "one");
	static const struct { int fam; const char *name, *want; } c[] = {
		{ 0, "t-d96-L3-wil1e-08-mt512", "t-d96-wil1e-08" },
		{ 0, "t-d128-L3-wil1e-07-mt512", "t-d128-wil1e-07" },
		{ 1, "lite-big-d160-eL2-k3.7", "lite-big-eL2-k3.7" },
		{ 0, "t-d96-L3-wil1e-07-mt512", "t-d96-wil1e-07" },
		{ 1, "lite-big-d160-eL3-k3.3", "lite-big-eL3-k3.3" },
		{ 2, "odd-d1-L2", "odd-d1-L2" },
		{ 2, "odd-d1", "odd-d1" },
		{ 3, "one-vs8000-lr0.001", "one" },
	};
	enum { N = sizeof c / sizeof c[0] };
	struct ax_sweep_rec r[N];
	memset(r, 0, sizeof r);
	for (int i = 0; i < N; i++) {
		r[i].family = c[i].fam;
		strcpy(r[i].name, c[i].name);
	}
	struct ax_sweep_recs rs = { .r = r, .n = N, .cap = N };
	ax_sweep_name *names = ax_sweep_display_names(&m, &rs);
	assert_non_null(names);
	for (int i = 0; i < N; i++)
		assert_string_equal(names[i], c[i].want);
	free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grid_counts),
		cmocka_unit_test(test_random_deterministic),
		cmocka_unit_test(test_derived_lite),
		cmocka_unit_test(test_derived_outside_int64),
		cmocka_unit_test(test_constraints),
		cmocka_unit_test(test_pareto_brute_force),
		cmocka_unit_test(test_resume_after_torn_write),
		cmocka_unit_test(test_hostile_lines),
		cmocka_unit_test(test_merge_equals_unsharded),
		cmocka_unit_test(test_evolution_shards),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_display_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
