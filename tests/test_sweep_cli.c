/*
 * test_sweep_cli.c - `archex sweep`, `archex merge` and `archex plot` as a
 * user runs them: exit codes 0/1/2, FILE:LINE:COL on stderr for a bad
 * sweep file, resume after a torn last line, shards merged byte-identical
 * to one run, and non-empty PNG/SVG plots (skipped, with a message, when
 * gnuplot is not installed). Sweeps here are small (about 100 points).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "plot.h"

static char dir[512];

/* Runs a shell command line; returns the exit status. */
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
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

static void same(const char *a, const char *b)
{
	char pa[700], pb[700];
	snprintf(pa, sizeof pa, "%s/%s", dir, a);
	snprintf(pb, sizeof pb, "%s/%s", dir, b);
	size_t la, lb;
	char *x = slurp(pa, &la), *y = slurp(pb, &lb);
	if (la != lb || memcmp(x, y, la))
		fail_msg("%s and %s differ", pa, pb);
	free(x);
	free(y);
}

static long size_of(const char *rel)
{
	char p[700];
	struct stat sb;
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return stat(p, &sb) ? -1 : (long)sb.st_size;
}

static void write_sweep(const char *name, const char *body)
{
	char p[700];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(body, f);
	fclose(f);
}

static const char small[] =
	"name: small\n"
	"convention: paper\n"
	"constraints: ['macs <= 100e6']\n"
	"budgets: [50e6, 100e6]\n"
	"families:\n"
	"  - base: " AX_SOURCE_DIR "/configs/paper/wmt-transformer-128.yaml\n"
	"    axes:\n"
	"      embed_dim: [64, 128, 192]\n"
	"      layers: {from: 1, to: 6}\n"
	"      ffn_dim: [256, 512]\n"
	"  - base: " AX_SOURCE_DIR "/configs/paper/wmt-lite-200.yaml\n"
	"    axes:\n"
	"      embed_dim: [128, 160, 200]\n"
	"      decoder.layers: {from: 2, to: 6, step: 2}\n"
	"      conv_branch.kernel_size: [[3, 7, 15, 31, 31, 31], 7]\n"
	"    derived:\n"
	"      attention_branch.dim: embed_dim / 2\n"
	"      conv_branch.dim: embed_dim / 2\n"
	"      ffn_dim: embed_dim\n";

static void test_usage_and_errors(void **state)
{
	(void)state;
	assert_int_equal(sh("%s sweep --help >/dev/null", AX_CLI), 0);
	assert_int_equal(sh("%s merge --help >/dev/null", AX_CLI), 0);
	assert_int_equal(sh("%s plot --help >/dev/null", AX_CLI), 0);
	assert_int_equal(sh("%s sweep --bogus x.yaml 2>/dev/null", AX_CLI), 2);
	assert_int_equal(sh("%s sweep 2>/dev/null", AX_CLI), 2);
	assert_int_equal(sh("%s sweep --shard 3/3 x.yaml 2>/dev/null", AX_CLI), 2);
	assert_int_equal(sh("%s sweep --jobs 0 x.yaml 2>/dev/null", AX_CLI), 2);
	assert_int_equal(sh("%s merge onlyone 2>/dev/null", AX_CLI), 2);
	assert_int_equal(sh("%s plot nonsense 2>/dev/null", AX_CLI), 2);
	/* a bad sweep file: exit 1 and FILE:LINE:COL: error: on stderr */
	write_sweep("bad.yaml", "families:\n  - base: t.yaml\n    axes:\n      embed_dm: [1]\n");
	char out[700];
	snprintf(out, sizeof out, "%s/bad.err", dir);
	assert_int_equal(sh("%s sweep --out %s/bad %s/bad.yaml 2>%s", AX_CLI, dir, dir, out), 1);
	size_t len;
	char *err = slurp(out, &len);
	char want[800];
	snprintf(want, sizeof want, "%s/bad.yaml:2:11: error: base config", dir);
	/* the base is loaded first, so a missing t.yaml is reported at its line */
	bool found = strstr(err, want) != NULL;
	if (!found)
		fprintf(stderr, "stderr was: %s", err);
	free(err);
	assert_true(found);
	write_sweep("bad2.yaml", "families:\n  - base: " AX_SOURCE_DIR
		    "/configs/paper/wmt-transformer-128.yaml\n    axes:\n      embed_dm: [1]\n");
	assert_int_equal(sh("%s sweep --out %s/bad %s/bad2.yaml 2>%s", AX_CLI, dir, dir, out), 1);
	err = slurp(out, &len);
	snprintf(want, sizeof want, "%s/bad2.yaml:4:7: error: unknown config path 'embed_dm'; "
		 "did you mean 'embed_dim'?", dir);
	found = strstr(err, want) != NULL;
	if (!found)
		fprintf(stderr, "stderr was: %s", err);
	free(err);
	assert_true(found);
	/* --check: the same error, nothing written */
	assert_int_equal(sh("cd %s && %s sweep --check bad2.yaml 2>/dev/null", dir, AX_CLI), 1);
}

/* --check loads and validates, prints one JSON line and writes nothing. */
static void test_check(void **state)
{
	(void)state;
	char out[700];
	write_sweep("check.yaml", small);
	snprintf(out, sizeof out, "%s/check.json", dir);
	assert_int_equal(sh("cd %s && %s sweep --check check.yaml >%s", dir, AX_CLI, out), 0);
	size_t len;
	char *j = slurp(out, &len);
	/* 3 x 6 x 2 transformer points, 3 x 3 x 2 lite points */
	const char *want = "{\"name\":\"small\",\"strategy\":\"grid\",\"points\":54,"
			   "\"families\":[{\"label\":\"transformer\",\"points\":36},"
			   "{\"label\":\"lite\",\"points\":18}]}\n";
	if (strcmp(j, want))
		fail_msg("--check printed %s", j);
	free(j);
	assert_int_equal(size_of("results"), -1);   /* no default output dir */
}

static void test_resume_and_merge(void **state)
{
	(void)state;
	write_sweep("small.yaml", small);
	const char *q = "--no-plot --quiet 2>/dev/null";
	assert_int_equal(sh("%s sweep --out %s/full %s/small.yaml %s", AX_CLI, dir, dir, q), 0);
	/* an existing run without --resume: exit 1 */
	assert_int_equal(sh("%s sweep --out %s/full %s/small.yaml %s", AX_CLI, dir, dir, q), 1);
	/* interrupted after 20 points, last line torn, then resumed */
	assert_int_equal(sh("%s sweep --limit 20 --out %s/part %s/small.yaml %s", AX_CLI, dir,
			    dir, q), 0);
	char p[700];
	snprintf(p, sizeof p, "%s/part/points.jsonl", dir);
	long n = size_of("part/points.jsonl");
	assert_true(n > 100);
	assert_int_equal(truncate(p, n - 40), 0);
	assert_int_equal(sh("%s sweep --resume --jobs 2 --out %s/part %s/small.yaml %s", AX_CLI,
			    dir, dir, q), 0);
	same("full/points.jsonl", "part/points.jsonl");
	same("full/pareto.csv", "part/pareto.csv");
	same("full/best.csv", "part/best.csv");
	/* three shards merged equal the unsharded run */
	for (int k = 0; k < 3; k++)
		assert_int_equal(sh("%s sweep --shard %d/3 --out %s/s%d %s/small.yaml %s", AX_CLI,
				    k, dir, k, dir, q), 0);
	assert_int_equal(sh("%s merge --no-plot --quiet %s/merged %s/s2 %s/s0 %s/s1 2>/dev/null",
			    AX_CLI, dir, dir, dir, dir), 0);
	same("full/pareto.csv", "merged/pareto.csv");
	same("full/best.csv", "merged/best.csv");
	same("full/points.jsonl", "merged/points.jsonl");
	/* points.csv: flat, one row per point, equal however it was made */
	same("full/points.csv", "merged/points.csv");
	same("full/points.csv", "part/points.csv");
	size_t clen;
	char pc[700];
	snprintf(pc, sizeof pc, "%s/full/points.csv", dir);
	char *csv = slurp(pc, &clen);
	assert_non_null(strstr(csv, "index,id,family,name,feasible,convention,mode,src_len,tgt_len,"
				    "config.family,"));
	assert_non_null(strstr(csv, ",config.embed_dim,"));
	assert_non_null(strstr(csv, ",nonembedding_params,"));
	assert_non_null(strstr(csv, ",constraint:macs <= 100e6\n"));
	free(csv);
	/* a shard of another sweep is refused */
	write_sweep("other.yaml", "name: small\nconvention: exact\nfamilies:\n  - base: " AX_SOURCE_DIR
		    "/configs/paper/wmt-transformer-128.yaml\n");
	assert_int_equal(sh("%s sweep --out %s/other %s/other.yaml %s", AX_CLI, dir, dir, q), 0);
	assert_int_equal(sh("%s merge --no-plot --quiet %s/bad %s/s0 %s/other 2>/dev/null",
			    AX_CLI, dir, dir, dir), 1);
}

/* Runs a command whose stderr goes to DIR/err and which must exit 1
 * with `want` in its stderr. */
static void refused(const char *want, const char *fmt, ...)
{
	char cmd[3000], out[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(out, sizeof out, "%s/err", dir);
	assert_int_equal(sh("%s 2>%s", cmd, out), 1);
	size_t len;
	char *err = slurp(out, &len);
	if (!strstr(err, want))
		fail_msg("stderr of '%s' lacks '%s': %s", cmd, want, err);
	free(err);
}

/* The bytes of DIR/rel, to check that a refused command changed nothing. */
static char *snap(const char *rel)
{
	char p[700];
	size_t len;
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return slurp(p, &len);
}

static void unchanged(char *before, const char *rel)
{
	char *now = snap(rel);
	if (strcmp(before, now))
		fail_msg("%s changed", rel);
	free(before);
	free(now);
}

/* The four medium findings of the adversarial round: a changed sweep
 * resumed or merged, an incomplete or mixed shard set merged, and
 * --resume into a symlinked or foreign points file; each refused, with
 * every file as it was. */
static void test_sweep_identity(void **state)
{
	(void)state;
	const char *q = "--no-plot --quiet 2>/dev/null";
	const char *nq = "--no-plot --quiet";
	char tight[sizeof small + 16], axes[sizeof small + 16];
	snprintf(tight, sizeof tight, "%s", small);
	memcpy(strstr(tight, "100e6']"), "70e6'] ", 7);
	snprintf(axes, sizeof axes, "%s", small);
	memcpy(strstr(axes, "[64, 128, 192]"), "[64, 128, 256]", 14);
	write_sweep("id.yaml", small);
	write_sweep("tight.yaml", tight);
	write_sweep("axes.yaml", axes);
	assert_int_equal(sh("%s sweep --limit 20 --out %s/ip %s/id.yaml %s", AX_CLI, dir, dir, q), 0);
	char *pts = snap("ip/points.jsonl"), *meta = snap("ip/sweep.json"),
	     *best = snap("ip/best.csv");
	refused("constraint 1 differs: 'macs <= 70e6' in ",
		"%s sweep --resume --out %s/ip %s/tight.yaml %s", AX_CLI, dir, dir, nq);
	refused("family transformer axis embed_dim differs: '64, 128, 256' in ",
		"%s sweep --resume --out %s/ip %s/axes.yaml %s", AX_CLI, dir, dir, nq);
	refused("holds shard 0/1, not 1/2",
		"%s sweep --resume --shard 1/2 --out %s/ip %s/id.yaml %s", AX_CLI, dir, dir, nq);
	unchanged(pts, "ip/points.jsonl");
	unchanged(meta, "ip/sweep.json");
	unchanged(best, "ip/best.csv");
	/* merge: another sweep, an incomplete set, a mixed set, a killed shard */
	assert_int_equal(sh("%s sweep --out %s/it %s/tight.yaml %s", AX_CLI, dir, dir, q), 0);
	assert_int_equal(sh("%s sweep --shard 0/3 --out %s/i0 %s/id.yaml %s", AX_CLI, dir, dir, q), 0);
	assert_int_equal(sh("%s sweep --shard 1/3 --out %s/i1 %s/id.yaml %s", AX_CLI, dir, dir, q), 0);
	assert_int_equal(sh("%s sweep --shard 1/2 --out %s/h1 %s/id.yaml %s", AX_CLI, dir, dir, q), 0);
	assert_int_equal(sh("%s sweep --limit 3 --shard 2/3 --out %s/i2 %s/id.yaml %s", AX_CLI,
			    dir, dir, q), 0);
	refused("constraint 1 differs: 'macs <= 70e6' in ",
		"%s merge %s %s/m %s/i0 %s/it", AX_CLI, nq, dir, dir, dir);
	refused("shard 1/3 is missing", "%s merge %s %s/m %s/i0", AX_CLI, nq, dir, dir);
	refused("is shard 1/2 but", "%s merge %s %s/m %s/i0 %s/h1", AX_CLI, nq, dir, dir, dir);
	refused("shard 2/3 did not finish", "%s merge %s %s/m %s/i0 %s/i1 %s/i2", AX_CLI, nq,
		dir, dir, dir, dir);
	refused("is also a shard directory", "%s merge %s %s/i0 %s/i0 %s/i1", AX_CLI, nq, dir,
		dir, dir);
	assert_int_equal(size_of("m"), -1);
	assert_int_equal(sh("%s merge --partial %s %s/m %s/i0 %s/h1 2>/dev/null", AX_CLI, nq, dir,
			    dir, dir), 0);
	refused("holds a partial merge", "%s merge %s %s/m2 %s/m", AX_CLI, nq, dir, dir);
	/* the killed shard resumed completes the set: equal to one run */
	assert_int_equal(sh("%s sweep --resume --shard 2/3 --out %s/i2 %s/id.yaml %s", AX_CLI,
			    dir, dir, q), 0);
	assert_int_equal(sh("%s merge %s %s/m3 %s/i2 %s/i0 %s/i1 2>/dev/null", AX_CLI, nq, dir,
			    dir, dir, dir), 0);
	assert_int_equal(sh("%s sweep --out %s/ifull %s/id.yaml %s", AX_CLI, dir, dir, q), 0);
	same("ifull/best.csv", "m3/best.csv");
	same("ifull/sweep.json", "m3/sweep.json");
	/* --resume into a symlinked points file, or one of another sweep */
	assert_int_equal(sh("mkdir %s/ln && cp %s/ip/sweep.json %s/ln/ && "
			    "ln -s ../it/points.jsonl %s/ln/points.jsonl", dir, dir, dir, dir), 0);
	pts = snap("it/points.jsonl");
	refused("is a symbolic link", "%s sweep --resume --out %s/ln %s/id.yaml %s", AX_CLI, dir,
		dir, nq);
	unchanged(pts, "it/points.jsonl");
	assert_int_equal(sh("mkdir %s/fo && cp %s/ip/sweep.json %s/fo/ && "
			    "cp %s/it/points.jsonl %s/fo/", dir, dir, dir, dir, dir), 0);
	assert_int_equal(sh("%s sweep --out %s/ax %s/axes.yaml %s", AX_CLI, dir, dir, q), 0);
	assert_int_equal(sh("cp %s/ax/points.jsonl %s/fo/", dir, dir), 0);
	pts = snap("fo/points.jsonl");
	refused("holds points of another sweep", "%s sweep --resume --out %s/fo %s/id.yaml %s",
		AX_CLI, dir, dir, nq);
	unchanged(pts, "fo/points.jsonl");
	/* a family with no valid point: exit 1 with the reasons counted,
	 * unless --allow-empty */
	write_sweep("empty.yaml", "name: emp\nfamilies:\n  - name: t\n    base: " AX_SOURCE_DIR
		    "/configs/paper/wmt-transformer-128.yaml\n    axes:\n      embed_dim: [64]\n"
		    "  - name: bad\n    base: " AX_SOURCE_DIR "/configs/paper/wmt-transformer-128.yaml\n"
		    "    axes:\n      embed_dim: [65, 130]\n      attention_heads: [4, 8]\n");
	refused("family bad has no valid point: all 4 of its points are invalid:\n"
		"         4 x encoder.attention_heads[N] = N does not divide embed_dim = N",
		"%s sweep --out %s/emp %s/empty.yaml %s", AX_CLI, dir, dir, nq);
	assert_int_equal(sh("%s sweep --allow-empty --out %s/emp2 %s/empty.yaml %s", AX_CLI, dir,
			    dir, q), 0);
	/* empty output paths */
	assert_int_equal(sh("%s sweep --out '' %s/id.yaml %s", AX_CLI, dir, q), 2);
	assert_int_equal(sh("%s merge '' %s/i0 %s", AX_CLI, dir, q), 2);
}

static void test_plots(void **state)
{
	(void)state;
	if (!ax_plot_available(NULL, 0)) {
		fprintf(stderr, "test_plots: gnuplot not on PATH; the plot checks are skipped "
			"(install gnuplot-nox)\n");
		skip();
	}
	write_sweep("small.yaml", small);
	assert_int_equal(sh("%s sweep --quiet --out %s/plotted %s/small.yaml 2>/dev/null",
			    AX_CLI, dir, dir), 0);
	assert_true(size_of("plotted/plots/pareto.png") > 1000);
	assert_true(size_of("plotted/plots/pareto.svg") > 1000);
	const char *cfgs = AX_SOURCE_DIR "/configs/paper/wmt-lite-200.yaml "
			   AX_SOURCE_DIR "/configs/paper/wmt-transformer-128.yaml";
	assert_int_equal(sh("%s plot breakdown --out %s/p %s 2>/dev/null", AX_CLI, dir, cfgs), 0);
	assert_int_equal(sh("%s plot breakdown --per-layer --out %s/p %s 2>/dev/null", AX_CLI, dir,
			    cfgs), 0);
	assert_int_equal(sh("%s plot seqlen --lengths 10,30,100 --out %s/p %s 2>/dev/null", AX_CLI,
			    dir, cfgs), 0);
	assert_int_equal(sh("cd %s && %s plot tradeoff --convention paper --out %s/p 2>/dev/null", AX_SOURCE_DIR,
			    AX_CLI, dir), 0);
	assert_int_equal(sh("%s plot pareto --out %s/p %s/plotted 2>/dev/null", AX_CLI, dir, dir), 0);
	static const char *const files[] = {
		"p/breakdown-kinds", "p/breakdown-layers-wmt-lite-200", "p/seqlen",
		"p/tradeoff-wmt14-en-de-bleu", "p/tradeoff-wmt14-en-fr-bleu", "p/pareto-small",
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char f[128];
		snprintf(f, sizeof f, "%s.png", files[i]);
		if (size_of(f) <= 1000)
			fail_msg("%s/%s missing or empty", dir, f);
		snprintf(f, sizeof f, "%s.svg", files[i]);
		if (size_of(f) <= 1000)
			fail_msg("%s/%s missing or empty", dir, f);
	}
	/* the trade-off data holds archex's MACs, not published ones:
	 * wmt-lite-200 is 90.2M under paper at 30/30 (docs/models.md §9) */
	size_t len;
	char p[700];
	snprintf(p, sizeof p, "%s/p/tradeoff-wmt14-en-de-bleu.csv", dir);
	char *csv = slurp(p, &len);
	bool found = strstr(csv, "\n90.216,22.5,wmt-lite-200,0\n") != NULL;
	free(csv);
	assert_true(found);
	/* values read off a figure ("approx." in their source) are marked */
	snprintf(p, sizeof p, "%s/p/tradeoff-wmt14-en-fr-bleu.csv", dir);
	csv = slurp(p, &len);
	found = strstr(csv, ",33.6,wmt-transformer-128,1\n") != NULL;
	free(csv);
	assert_true(found);
	/* from any working directory, by default the exact convention */
	assert_int_equal(sh("cd / && %s plot tradeoff --out %s/q 2>/dev/null", AX_CLI, dir), 0);
	snprintf(p, sizeof p, "%s/q/tradeoff-wmt14-en-de-bleu.csv", dir);
	csv = slurp(p, &len);
	found = strstr(csv, ",wmt-lite-200,0\n") && !strstr(csv, "\n90.216,22.5,wmt-lite-200,0\n");
	free(csv);
	assert_true(found);
}

/* accuracy joined from results/published by config identity: the grid
 * points that equal a paper config get its BLEU; the others have none and
 * stay off a front that maximises accuracy. */
static void test_accuracy_join(void **state)
{
	(void)state;
	write_sweep("acc.yaml",
		"name: acc\n"
		"convention: paper\n"
		"accuracy: {published: " AX_SOURCE_DIR "/results/published/translation.csv,\n"
		"           dataset: wmt14-en-de, metric: bleu, configs: " AX_SOURCE_DIR "/configs/paper}\n"
		"objectives: [{minimize: macs}, {maximize: accuracy}]\n"
		"best: {maximize: accuracy}\n"
		"families:\n"
		"  - base: " AX_SOURCE_DIR "/configs/paper/wmt-lite-200.yaml\n"
		"    axes:\n"
		"      embed_dim: [200, 304, 408]\n"
		"      layers: [5, 6]\n"
		"    derived:\n"
		"      attention_branch.dim: embed_dim / 2\n"
		"      conv_branch.dim: embed_dim / 2\n"
		"      ffn_dim: embed_dim\n");
	assert_int_equal(sh("%s sweep --no-plot --quiet --out %s/acc %s/acc.yaml 2>/dev/null",
			    AX_CLI, dir, dir), 0);
	char p[700];
	size_t len;
	snprintf(p, sizeof p, "%s/acc/pareto.csv", dir);
	char *csv = slurp(p, &len);
	static const char want[] =
		"family,index,id,name,macs,accuracy,params,nonembedding_params\n"
		"lite,1,";
	bool ok = !strncmp(csv, want, sizeof want - 1) &&
		  strstr(csv, ",lite-d200-L6,90216000,22.5,") &&
		  strstr(csv, ",lite-d408-L6,359709120,25.6,") && !strstr(csv, "d304");
	if (!ok)
		fprintf(stderr, "pareto.csv was:\n%s", csv);
	free(csv);
	assert_true(ok);
	/* accuracy without the join is an error at its line and column */
	write_sweep("acc2.yaml", "objectives: [{maximize: accuracy}]\nfamilies: []\n");
	assert_int_equal(sh("%s sweep --out %s/acc2 %s/acc2.yaml 2>/dev/null", AX_CLI, dir, dir), 1);
}

/* The input dropouts are recipe axes like any train row: two points that
 * differ only in train.input_dropout share the model hash, not the id. */
static void test_train_input_dropout_axis(void **state)
{
	(void)state;
	write_sweep("idr.yaml",
		"name: idr\n"
		"families:\n"
		"  - base: " AX_SOURCE_DIR "/configs/paper/iwslt14-lightconv.yaml\n"
		"    axes:\n"
		"      train.input_dropout: [0, 0.1]\n"
		"      train.adaptive_softmax_dropout: [0.2]\n");
	assert_int_equal(sh("%s sweep --no-plot --quiet --out %s/idr %s/idr.yaml 2>/dev/null",
			    AX_CLI, dir, dir), 0);
	char p[700], ids[2][17], hash[2][17];
	size_t len;
	snprintf(p, sizeof p, "%s/idr/points.jsonl", dir);
	char *pts = slurp(p, &len);
	const char *line = pts;
	for (int n = 0; n < 2; n++) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl);
		char want[120];
		snprintf(want, sizeof want, "\"train.input_dropout\":%s,"
			 "\"train.adaptive_softmax_dropout\":0.2,", n ? "0.1" : "0.0");
		const char *at = strstr(line, want);
		if (!at || at > nl)
			fail_msg("point %d lacks %s", n, want);
		assert_true(sscanf(line, "{\"id\":\"%16[0-9a-f]\"", ids[n]) == 1);
		at = strstr(line, "\"config_hash\":\"");
		assert_true(at && at < nl);
		assert_true(sscanf(at, "\"config_hash\":\"%16[0-9a-f]\"", hash[n]) == 1);
		line = nl + 1;
	}
	free(pts);
	assert_string_not_equal(ids[0], ids[1]);
	assert_string_equal(hash[0], hash[1]);
}

/* A float axis of the training recipe: points differ in train.lr (and a
 * derived float field follows it), ids differ, names show the value, the
 * model hash does not move; bad float values are errors at line:col. */
static void test_train_lr_axis(void **state)
{
	(void)state;
	write_sweep("lr.yaml",
		"name: lr\n"
		"families:\n"
		"  - base: " AX_SOURCE_DIR "/configs/paper/wmt-transformer-128.yaml\n"
		"    axes:\n"
		"      embed_dim: [128, 256]\n"
		"      train.lr: [1e-4, 5e-4, 0.001]\n"
		"    derived:\n"
		"      train.warmup_init_lr: train.lr / 10\n");
	assert_int_equal(sh("%s sweep --no-plot --quiet --out %s/lr %s/lr.yaml 2>/dev/null",
			    AX_CLI, dir, dir), 0);
	char p[700];
	size_t len;
	snprintf(p, sizeof p, "%s/lr/points.jsonl", dir);
	char *pts = slurp(p, &len);
	static const char *const lr[] = { "0.0001", "0.0005", "0.001" };
	static const char *const wil[] = { "1e-05", "5e-05", "0.0001" };
	char ids[6][17], hash[6][17];
	int n = 0;
	for (const char *line = pts; *line && n < 6; n++) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl);
		char want[160];
		/* grid order: the last axis fastest */
		snprintf(want, sizeof want, "\"name\":\"transformer-d%d-lr%s\"",
			 n < 3 ? 128 : 256, lr[n % 3]);
		const char *at = strstr(line, want);
		assert_true(at && at < nl);
		snprintf(want, sizeof want, "\"train.lr\":%s,\"train.warmup\":4000,"
			 "\"train.warmup_init_lr\":%s,", lr[n % 3], wil[n % 3]);
		at = strstr(line, want);
		if (!at || at > nl)
			fail_msg("point %d lacks %s", n, want);
		assert_true(sscanf(line, "{\"id\":\"%16[0-9a-f]\"", ids[n]) == 1);
		at = strstr(line, "\"config_hash\":\"");
		assert_true(at && at < nl);
		assert_true(sscanf(at, "\"config_hash\":\"%16[0-9a-f]\"", hash[n]) == 1);
		line = nl + 1;
	}
	assert_int_equal(n, 6);
	free(pts);
	for (int i = 0; i < 6; i++)
		for (int k = 0; k < i; k++) {
			assert_string_not_equal(ids[i], ids[k]);
			/* the recipe is not the model */
			if (i / 3 == k / 3)
				assert_string_equal(hash[i], hash[k]);
			else
				assert_string_not_equal(hash[i], hash[k]);
		}

	/* out of range, not finite, a range over a float: FILE:LINE:COL */
	static const struct { const char *axis, *msg; } bad[] = {
		{ "train.lr: [1e-4, 20]", "lrbad.yaml:4:24: error: value 20 of train.lr is outside 0..10" },
		{ "train.lr: [1e-4, .nan]", "lrbad.yaml:4:24: error: bad value for train.lr: .nan" },
		{ "train.lr: {from: 1, to: 3}", "lrbad.yaml:4:17: error: a range needs an integer field" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char body[512], out[700], want[800];
		snprintf(body, sizeof body, "families:\n  - base: " AX_SOURCE_DIR
			 "/configs/paper/wmt-transformer-128.yaml\n    axes:\n      %s\n",
			 bad[i].axis);
		write_sweep("lrbad.yaml", body);
		snprintf(out, sizeof out, "%s/lrbad.err", dir);
		assert_int_equal(sh("%s sweep --out %s/lrbad %s/lrbad.yaml 2>%s", AX_CLI,
				    dir, dir, out), 1);
		char *err = slurp(out, &len);
		snprintf(want, sizeof want, "%s/%s", dir, bad[i].msg);
		if (!strstr(err, want))
			fail_msg("stderr was: %s\nwanted: %s", err, want);
		free(err);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "%s/test_sweep_cli.%d", AX_BINARY_DIR, (int)getpid());
	return mkdir(dir, 0777);
}

static int teardown(void **state)
{
	(void)state;
	return sh("rm -rf '%s'", dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_and_errors),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_resume_and_merge),
		cmocka_unit_test(test_sweep_identity),
		cmocka_unit_test(test_accuracy_join),
		cmocka_unit_test(test_train_lr_axis),
		cmocka_unit_test(test_train_input_dropout_axis),
		cmocka_unit_test(test_plots),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
