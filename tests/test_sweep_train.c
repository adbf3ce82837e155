/*
 * test_sweep_train.c - sweeps with a `train:` section (src/trainsweep,
 * docs/sweeps.md "Trained sweeps"), through `archex sweep` on a tiny
 * reverse-task dataset written here and four tiny Transformer designs
 * trained for a few steps on two seeds:
 *   - every point carries valid_loss (mean over seeds), its std and the
 *     per-seed values; best.csv ranks by it; plots/trained.csv has it;
 *   - a trained point's run/config.yaml loads (its recipe hash is the
 *     point's) and `archex run RUN` runs it with run/weights;
 *   - the same sweep run again gives the same metrics; another budget is
 *     another sweep (--resume refuses it);
 *   - SIGKILL at random moments and --resume each time end with the same
 *     points, metrics and fronts as an uninterrupted run;
 *   - a point whose model cannot train records its reason and the sweep
 *     goes on; --resume tries such a point again (a foreign checkpoint
 *     in its way, then removed, and it trains);
 *   - the summary ranks the trained points in a table (failed ones last);
 *   - the dataset path joins the identity as the sweep file writes it:
 *     a sweep resumed from another working directory is the same sweep;
 *   - evolution ranks its members by their measured valid loss;
 *   - bleu: true: per-seed BLEU and chrF of the valid split's decode;
 *   - 4 shards through scripts/sweep-parallel.sh merge to the same
 *     points and metrics (when GNU parallel is installed);
 *   - load-time errors with file:line:col: a missing dataset, a dataset
 *     whose vocabulary exceeds the model's, valid_loss in a constraint or
 *     an objective without a train: section, a train: without a budget,
 *     a decode length cap of 0 tokens.
 */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_run.h"
#include "dataset.h"
#include "model.h"
#include "test_tmpdir.h"
#include "test_reverse_data.h"

#define CFG AX_SOURCE_DIR "/tests/configs/train/tiny-transformer.yaml"
#define CFG_LITE AX_SOURCE_DIR "/tests/configs/oracle/lite-lightweight.yaml"

/* Appends file dir/name to the manifest's "files" text. */
static void add_file(const char *dir, const char *name, char *files, size_t fsize)
{
	char path[700], hex[65];
	struct ax_diag d = { 0 };
	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(ax_sha256_file(path, hex, &d), AX_OK);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	size_t l = strlen(files);
	snprintf(files + l, fsize - l, ", \"%s\": {\"bytes\": %lld, \"sha256\": \"%s\"}",
		 name, (long long)st.st_size, hex);
}

/* For BLEU: a character sentencepiece model over 11 letters (pieces 4..15
 * after the 4 specials, so every id of a 16-id dataset detokenizes) and
 * the valid split's reference text (24 lines). */
static void add_spm(const char *dir, char *files, size_t fsize)
{
	char path[700], cmd[2048];
	snprintf(path, sizeof path, "%s/spm-input.txt", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 40; i++)
		fprintf(f, "abc defg hijk %c%c\n", 'a' + i % 11, 'a' + (i * 7) % 11);
	fclose(f);
	snprintf(cmd, sizeof cmd, "cd %s && spm_train --input=%s --model_prefix=spm "
		 "--vocab_size=16 --model_type=char --character_coverage=1.0 "
		 "--bos_id=0 --pad_id=1 --eos_id=2 --unk_id=3 --hard_vocab_limit=false "
		 ">/dev/null 2>&1", dir, path);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/valid.tgt.txt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 24; i++)
		fprintf(f, "abc %c%c\n", 'a' + i % 11, 'b' + i % 10);
	fclose(f);
	add_file(dir, "spm.model", files, fsize);
	add_file(dir, "valid.tgt.txt", files, fsize);
}

/* A reverse-task translation dataset tmpdir/name with ids below vocab;
 * spm: with a sentencepiece model and references for BLEU. */
static void write_dataset_spm(const char *name, int64_t vocab, bool spm)
{
	char dir[600], files[4096] = "";
	snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
	assert_int_equal(mkdir(dir, 0777), 0);
	const char *splits[3] = { "train", "valid", "test" };
	int64_t n[3] = { 200, 24, 8 }, toks[3];
	for (int s = 0; s < 3; s++)
		write_split(dir, splits[s], n[s], vocab, &toks[s], files, sizeof files);
	if (spm)
		add_spm(dir, files, sizeof files);
	write_manifest(dir, vocab, n, toks, files);
}

static void write_dataset(const char *name, int64_t vocab)
{
	write_dataset_spm(name, vocab, false);
}

/* tmpdir/name.yaml: a sweep of four tiny Transformers (ffn_dim x lr);
 * train is the text of its train: line ("" for none), extra lines go
 * after the constraints. */
/* write_sweep's search: line */
static const char *search_line = "search: {strategy: grid}";

static void write_sweep(const char *name, const char *train, const char *constraint,
			const char *extra_family)
{
	char path[700];
	snprintf(path, sizeof path, "%s/%s.yaml", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "name: %s\n"
		"%s\n"
		"%s\n"
		"constraints:\n"
		"  - %s\n"
		"budgets: [1e9]\n"
		"families:\n"
		"  - name: t\n"
		"    base: %s\n"
		"    axes:\n"
		"      ffn_dim: [32, 64]\n"
		"      train.lr: [1e-3, 3e-3]\n"
		"      train.warmup: [2]\n"
		"      train.max_tokens: [48]\n"
		"      train.dropout: [0.1]\n%s",
		name, search_line, train, constraint, CFG, extra_family);
	fclose(f);
}

#define TRAIN "train: {data: data, max_steps: 6, seeds: [1, 2], save_every: 2}"

static char out_buf[1 << 16], err_buf[1 << 16];

/* archex sweep tmpdir/NAME.yaml --out tmpdir/OUT --no-plot [ARG] */
static int sweep(const char *name, const char *out, const char *arg)
{
	char spath[700], opath[700];
	snprintf(spath, sizeof spath, "%s/%s.yaml", tmpdir, name);
	snprintf(opath, sizeof opath, "%s/%s", tmpdir, out);
	char *argv[] = { (char *)AX_CLI, "sweep", spath, "--out", opath, "--no-plot",
			 "--quiet", (char *)arg, NULL };
	return ax_test_run(argv, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
}

static size_t slurp(const char *out, const char *file, char *buf, size_t n)
{
	char path[700];
	snprintf(path, sizeof path, "%s/%s/%s", tmpdir, out, file);
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t got = fread(buf, 1, n - 1, f);
	buf[got] = '\0';
	fclose(f);
	return got;
}

/* What must match between runs: per line of points.jsonl, in order, the
 * id, feasibility and the valid_loss mean, std and per-seed values (not
 * train_seconds, a wall time); written into sig. */
static void signature(const char *out, char *sig, size_t n)
{
	static char buf[1 << 20];
	assert_true(slurp(out, "points.jsonl", buf, sizeof buf) > 0);
	size_t k = 0;
	sig[0] = '\0';
	for (char *line = buf; *line; ) {
		char *end = strchr(line, '\n');
		assert_non_null(end);
		*end = '\0';
		const char *id = strstr(line, "\"id\":");
		const char *fe = strstr(line, "\"feasible\":");
		const char *vl = strstr(line, "\"valid_loss\":");
		const char *sd = strstr(line, "\"valid_loss_std\":");
		const char *tr = strstr(line, "\"trained\":");
		assert_true(id && fe && vl && sd && tr);
		const char *per = strstr(tr, "\"valid_loss\":");
		assert_non_null(per);
		k += (size_t)snprintf(sig + k, n - k, "%.24s %.16s %.30s %.40s %.60s\n",
				      id, fe, vl, sd, per);
		assert_true(k < n);
		line = end + 1;
	}
}

static int n_lines(const char *out, const char *file)
{
	static char buf[1 << 20];
	slurp(out, file, buf, sizeof buf);
	int n = 0;
	for (char *p = buf; (p = strchr(p, '\n')); p++)
		n++;
	return n;
}

static void test_trained(void **state)
{
	(void)state;
	write_dataset("data", 16);
	write_sweep("tiny", TRAIN, "valid_loss < 100", "");
	assert_int_equal(sweep("tiny", "a", NULL), 0);
	assert_int_equal(n_lines("a", "points.jsonl"), 4);
	static char sig_a[1 << 14], sig_b[1 << 14], buf[1 << 16];
	signature("a", sig_a, sizeof sig_a);
	printf("%s", sig_a);
	/* every point trained on both seeds: a number, not null */
	assert_null(strstr(sig_a, "\"valid_loss\":null"));
	assert_null(strstr(sig_a, "\"feasible\":false"));
	slurp("a", "points.jsonl", buf, sizeof buf);
	const char *p = buf;
	int per_seed = 0;
	while ((p = strstr(p, "\"train_seconds\":[")))
		per_seed += p[17] != ']', p++;
	assert_int_equal(per_seed, 4);
	/* best.csv and the objectives rank by valid_loss */
	slurp("a", "best.csv", buf, sizeof buf);
	assert_non_null(strstr(buf, "valid_loss"));
	/* accuracy.gp's data: the family block, a row per trained point */
	assert_int_equal(n_lines("a", "plots/trained.csv"), 5);
	slurp("a", "plots/trained.csv", buf, sizeof buf);
	assert_non_null(strstr(buf, ",valid_loss,std,config\n"));
	/* same seeds, same metrics */
	assert_int_equal(sweep("tiny", "b", NULL), 0);
	signature("b", sig_b, sizeof sig_b);
	assert_string_equal(sig_a, sig_b);
}

/* Runs of DIR/trained/ cut short: a checkpoint but no result.json. */
static int cut_runs(const char *out)
{
	char path[700];
	snprintf(path, sizeof path, "%s/%s/trained", tmpdir, out);
	DIR *dir = opendir(path);
	int n = 0;
	for (struct dirent *e; dir && (e = readdir(dir));) {
		char ck[1200], res[1200];
		if (e->d_name[0] == '.')
			continue;
		snprintf(ck, sizeof ck, "%s/%s/run/checkpoint", path, e->d_name);
		snprintf(res, sizeof res, "%s/%s/result.json", path, e->d_name);
		n += access(ck, F_OK) == 0 && access(res, F_OK) != 0;
	}
	if (dir)
		closedir(dir);
	return n;
}

/* A longer run (40 steps a seed, a checkpoint every 3), killed at
 * random moments and resumed, against the same run uninterrupted. Kills
 * go on (later and later) until one has cut a run between checkpoints,
 * so that resuming within a point is exercised too. */
static void test_kill_resume(void **state)
{
	(void)state;
	char spath[700], opath[700];
	write_sweep("long", "train: {data: data, max_steps: 40, seeds: [1, 2], "
		    "save_every: 3}", "valid_loss < 100", "");
	assert_int_equal(sweep("long", "a-long", NULL), 0);
	snprintf(spath, sizeof spath, "%s/long.yaml", tmpdir);
	snprintf(opath, sizeof opath, "%s/killed", tmpdir);
	int kills = 0, cut = 0, rc = -1;
	srand((unsigned)time(NULL));
	for (int round = 0; round < 40 && rc != 0; round++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1), dup2(fd, 2);
			execl(AX_CLI, AX_CLI, "sweep", spath, "--out", opath, "--no-plot",
			      "--quiet", round ? "--resume" : (char *)NULL, (char *)NULL);
			_exit(127);
		}
		bool killing = round < 8 || (!cut && round < 30);
		if (killing) {
			long ms = 5 + rand() % 60 + 20 * (round >= 8 ? round - 7 : 0);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
			if (kill(pid, SIGKILL) == 0)
				kills++;
		}
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (killing && WIFSIGNALED(status))
			cut += cut_runs("killed") > 0;
	}
	assert_int_equal(rc, 0);
	assert_true(kills > 0);
	assert_true(cut > 0);
	static char sig_a[1 << 14], sig_k[1 << 14], fa[1 << 16], fk[1 << 16];
	signature("a-long", sig_a, sizeof sig_a);
	signature("killed", sig_k, sizeof sig_k);
	assert_string_equal(sig_a, sig_k);
	slurp("a-long", "pareto.csv", fa, sizeof fa);
	slurp("killed", "pareto.csv", fk, sizeof fk);
	assert_string_equal(fa, fk);
	printf("kill/resume: %d SIGKILLs, %d within a point's run; same points, "
	       "metrics and fronts\n", kills, cut);
}

/* Points that cannot train carry the reason and the sweep goes on: a
 * family whose vocabulary axis leaves the dataset's ids out (its base
 * fits, so the load-time check passes), and a Lite family (whose conv
 * kinds train once the engine has them). */
static void test_untrainable(void **state)
{
	(void)state;
	char fam[1024];
	snprintf(fam, sizeof fam, "  - name: lite\n    base: %s\n"
		 "  - name: small\n    base: %s\n    axes:\n"
		 "      vocab.source: [12]\n      vocab.target: [12]\n", CFG_LITE, CFG);
	write_sweep("mixed", TRAIN, "valid_loss < 100", fam);
	assert_int_equal(sweep("mixed", "mixed", "--allow-empty"), 0);
	static char buf[1 << 20];
	slurp("mixed", "points.jsonl", buf, sizeof buf);
	char *lite = strstr(buf, "\"family\":\"lite\"");
	assert_non_null(lite);
	char *lite_end = strchr(lite, '\n');
	assert_non_null(lite_end);
	*lite_end = '\0';   /* the lite line alone */
	/* either it trained (the conv kinds landed) or it says why not */
	const char *err = strstr(lite, "\"error\":");
	assert_non_null(err);
	if (strncmp(err, "\"error\":null", 12))
		printf("lite point: %.160s\n", err);
	else
		assert_null(strstr(lite, "\"valid_loss\":null"));
	const char *small = strstr(lite_end + 1, "\"family\":\"small\"");
	assert_non_null(small);
	err = strstr(small, "\"error\":\"seed 1: ");
	assert_non_null(err);
	assert_non_null(strstr(err, "token ids out of the model's vocabulary"));
	printf("small point: %.200s\n", err);
	/* its trained metrics are null, so it is infeasible here */
	assert_non_null(strstr(small, "\"feasible\":false"));
}

static void expect_error(const char *name, const char *want)
{
	assert_int_equal(sweep(name, "bad", NULL), 1);
	printf("%s", err_buf);
	assert_non_null(strstr(err_buf, want));
	char path[700];
	snprintf(path, sizeof path, "%s/bad/points.jsonl", tmpdir);
	assert_int_not_equal(access(path, F_OK), 0);   /* nothing trained */
}

static void test_bad_inputs(void **state)
{
	(void)state;
	write_sweep("nodata", "train: {data: nowhere, max_steps: 2}", "macs > 0", "");
	expect_error("nodata", "nodata.yaml:3:15: error: train.data: no dataset directory");
	write_dataset("wide", 40);
	write_sweep("wide", "train: {data: wide, max_steps: 2}", "macs > 0", "");
	expect_error("wide", "wide.yaml:3:15: error: train.data does not fit family t");
	write_sweep("untrained", "", "valid_loss < 3", "");
	expect_error("untrained", "untrained.yaml:5:5: error: constraint names valid_loss, "
		     "which only training measures");
	write_sweep("nobudget", "train: {data: data}", "macs > 0", "");
	expect_error("nobudget", "nobudget.yaml:3:8: error: train needs one budget");
	write_sweep("nolen", "train: {data: data, max_steps: 2, bleu: true, max_len_a: 0, "
		    "max_len_b: 0}", "macs > 0", "");
	expect_error("nolen", "nolen.yaml:3:72: error: max_len_a and max_len_b are both 0");
	write_sweep("obj", "objectives: [{minimize: macs}, {minimize: valid_ppl}]",
		    "macs > 0", "");
	expect_error("obj", "obj.yaml:3:43: error: an objective valid_ppl is measured by "
		     "training");
}


/* "<id>-<recipe>" of line n (0-based) of OUT/points.jsonl */
static void point_key(const char *out, int n, char *key, size_t size)
{
	static char buf[1 << 20];
	assert_true(slurp(out, "points.jsonl", buf, sizeof buf) > 0);
	char *line = buf;
	for (int i = 0; i < n; i++) {
		line = strchr(line, '\n');
		assert_non_null(line);
		line++;
	}
	const char *id = strstr(line, "\"id\":\"");
	const char *rc = strstr(line, "\"recipe_hash\":\"");
	assert_true(id && rc);
	snprintf(key, size, "%.16s-%.16s", id + 6, rc + 15);
}

/* A trained point's run/ holds config.yaml: the point's config with its
 * recipe (the seed's), which `archex run RUN` loads with run/weights. */
static void test_run_config(void **state)
{
	(void)state;
	char k0[64], run[900], cpath[1000];
	point_key("a", 0, k0, sizeof k0);
	snprintf(run, sizeof run, "%s/a/trained/%s-s1/run", tmpdir, k0);
	snprintf(cpath, sizeof cpath, "%s/config.yaml", run);
	static struct ax_config cfg;
	struct ax_diag d = { 0 };
	assert_int_equal(ax_config_load(cpath, &cfg, &d), AX_OK);
	char recipe[17];
	snprintf(recipe, sizeof recipe, "%016" PRIx64, ax_config_recipe_hash(&cfg));
	assert_memory_equal(recipe, k0 + 17, 16);
	char *argv[] = { (char *)AX_CLI, "run", run, "--src", "5 6 7", NULL };
	assert_int_equal(ax_test_run(argv, out_buf, sizeof out_buf, err_buf,
				     sizeof err_buf), 0);
	assert_non_null(strstr(out_buf, "# score "));
}

/* archex sweep tmpdir/NAME.yaml --out tmpdir/OUT --no-plot [ARG], with
 * its summary on stdout (out_buf) */
static int sweep_loud(const char *name, const char *out, const char *arg)
{
	char spath[700], opath[700];
	snprintf(spath, sizeof spath, "%s/%s.yaml", tmpdir, name);
	snprintf(opath, sizeof opath, "%s/%s", tmpdir, out);
	char *argv[] = { (char *)AX_CLI, "sweep", spath, "--out", opath, "--no-plot",
			 (char *)arg, NULL };
	return ax_test_run(argv, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
}

/* A point whose training failed is tried again by --resume: point 1's
 * run directory holds point 0's checkpoint (another config), so its
 * training fails and it records why; the summary's table ranks the
 * other three and lists it as failed. With the checkpoint removed,
 * --resume trains it, and the tables equal test_trained's run. */
static void test_retry(void **state)
{
	(void)state;
	char k0[64], k1[64], cmd[2400];
	write_sweep("tiny", TRAIN, "valid_loss < 100", "");
	point_key("a", 0, k0, sizeof k0);
	point_key("a", 1, k1, sizeof k1);
	snprintf(cmd, sizeof cmd, "mkdir -p %s/retry/trained/%s-s1/run && cp %s/a/trained/%s-s1/"
		 "run/checkpoint %s/retry/trained/%s-s1/run/", tmpdir, k1, tmpdir, k0, tmpdir, k1);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sweep_loud("tiny", "retry", NULL), 0);
	printf("%s", out_buf);
	assert_non_null(strstr(out_buf, "trained points, by min valid_loss:\n"));
	assert_non_null(strstr(out_buf, "\n     3  t "));
	assert_null(strstr(out_buf, "\n     4  t "));
	assert_non_null(strstr(out_buf, " training failed: seed 1: "));
	assert_non_null(strstr(out_buf, "checkpoint"));
	static char buf[1 << 20], fa[1 << 16], fr[1 << 16];
	slurp("retry", "points.jsonl", buf, sizeof buf);
	assert_non_null(strstr(buf, "\"error\":\"seed 1: "));
	/* the same failure again: still failed, still one line for it */
	assert_int_equal(sweep("tiny", "retry", "--resume"), 0);
	assert_non_null(strstr(err_buf, "tried 1 point again"));
	assert_int_equal(n_lines("retry", "points.jsonl"), 4);
	slurp("retry", "points.jsonl", buf, sizeof buf);
	assert_non_null(strstr(buf, "\"error\":\"seed 1: "));
	/* the obstacle removed: it trains */
	snprintf(cmd, sizeof cmd, "rm -r %s/retry/trained/%s-s1", tmpdir, k1);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sweep_loud("tiny", "retry", "--resume"), 0);
	printf("%s", out_buf);
	assert_non_null(strstr(out_buf, "\n     4  t "));
	assert_null(strstr(out_buf, "training failed"));
	/* the summary names the axes that vary; points.jsonl keeps whole names */
	const char *table = strstr(out_buf, "trained points, by");
	assert_non_null(table);
	assert_non_null(strstr(table, " t-f32-lr0.001 "));
	assert_null(strstr(out_buf, "-wu2"));
	slurp("retry", "plots/trained.csv", fr, sizeof fr);
	assert_non_null(strstr(fr, ",t-f64-lr0.003\n"));
	slurp("retry", "points.jsonl", buf, sizeof buf);
	assert_non_null(strstr(buf, "\"name\":\"t-f32-lr0.001-wu2-mt48-dr0.1\""));
	assert_int_equal(n_lines("retry", "points.jsonl"), 4);
	slurp("retry", "points.jsonl", buf, sizeof buf);
	assert_null(strstr(buf, "\"error\":\"seed"));
	assert_null(strstr(buf, "\"valid_loss\":null"));
	const char *tables[] = { "pareto.csv", "best.csv", "plots/trained.csv" };
	for (int t = 0; t < 3; t++) {
		slurp("a", tables[t], fa, sizeof fa);
		slurp("retry", tables[t], fr, sizeof fr);
		assert_string_equal(fa, fr);
	}
}

/* The dataset path in the identity is the sweep file's text: a sweep
 * started by its absolute path and resumed from its own directory by a
 * relative one (the dataset path then resolves differently) is the same
 * sweep, and ends as the run in one go. */
static void test_cwd(void **state)
{
	(void)state;
	write_sweep("tiny", TRAIN, "valid_loss < 100", "");
	assert_int_equal(sweep("tiny", "cwd", "--limit=1"), 0);
	assert_int_equal(n_lines("cwd", "points.jsonl"), 1);
	char cmd[1400];
	snprintf(cmd, sizeof cmd, "cd '%s' && exec '%s' sweep tiny.yaml --out cwd --no-plot "
		 "--quiet --resume", tmpdir, AX_CLI);
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	int rc = ax_test_run(argv, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
	if (rc)
		printf("%s", err_buf);
	assert_int_equal(rc, 0);
	static char sig_a[1 << 14], sig_c[1 << 14];
	signature("a", sig_a, sizeof sig_a);
	signature("cwd", sig_c, sizeof sig_c);
	assert_string_equal(sig_a, sig_c);
}

static int setup(void **state)
{
	(void)state;
	return ax_test_tmpdir_make("test_sweep_train");
}

static int teardown(void **state)
{
	(void)state;
	return ax_test_tmpdir_remove();
}

/* Evolution ranks members by their measured valid loss: every member is
 * trained, and a member seen before reuses its results. */
static void test_evolution(void **state)
{
	(void)state;
	search_line = "search: {strategy: evolution, population: 4, generations: 2, "
		      "parents: 2, seed: 3}";
	write_sweep("evo", TRAIN, "valid_loss < 100", "");
	search_line = "search: {strategy: grid}";
	assert_int_equal(sweep("evo", "evo", NULL), 0);
	static char sig[1 << 14];
	signature("evo", sig, sizeof sig);
	assert_null(strstr(sig, "\"valid_loss\":null"));
	assert_true(n_lines("evo", "points.jsonl") >= 2);
}

/* The train: section is part of the sweep's identity: resuming test_trained's
 * directory with another budget is refused, naming the part. */
static void test_identity(void **state)
{
	(void)state;
	write_sweep("tiny", "train: {data: data, max_steps: 7, seeds: [1, 2], save_every: 2}",
		    "valid_loss < 100", "");
	assert_int_equal(sweep("tiny", "a", "--resume"), 1);
	printf("%s", err_buf);
	assert_non_null(strstr(err_buf, "written by a different sweep: train budget differs: "
				     "'max_steps=7' in "));
}

/* scripts/sweep-parallel.sh: 4 shards of a trained sweep through GNU
 * parallel merge to the unsharded run (skipped without GNU parallel). */
static void test_parallel(void **state)
{
	(void)state;
	if (system("command -v parallel >/dev/null 2>&1") != 0)
		skip();
	write_sweep("par", TRAIN, "valid_loss < 100", "");
	assert_int_equal(sweep("par", "par-ref", NULL), 0);
	char spath[700], opath[700];
	snprintf(spath, sizeof spath, "%s/par.yaml", tmpdir);
	snprintf(opath, sizeof opath, "%s/par-4", tmpdir);
	char *argv[] = { "/bin/bash", AX_SOURCE_DIR "/scripts/sweep-parallel.sh", "-a",
			 (char *)AX_CLI, "-n", "4", "-o", opath, spath, "--", "--no-plot",
			 NULL };
	int rc = ax_test_run(argv, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
	if (rc)
		printf("%s", err_buf);
	assert_int_equal(rc, 0);
	static char sig_a[1 << 14], sig_b[1 << 14], fa[1 << 16], fb[1 << 16];
	signature("par-ref", sig_a, sizeof sig_a);
	signature("par-4", sig_b, sizeof sig_b);
	/* the merge orders by index, as the unsharded run writes */
	assert_string_equal(sig_a, sig_b);
	slurp("par-ref", "plots/trained.csv", fa, sizeof fa);
	slurp("par-4", "plots/trained.csv", fb, sizeof fb);
	assert_string_equal(fa, fb);
}

/* bleu: true decodes the valid split after training: per-seed BLEU and
 * chrF, their means in the metrics; bleu in a constraint without it is
 * refused (skipped without spm_train). */
static void test_bleu(void **state)
{
	(void)state;
	if (system("command -v spm_train >/dev/null 2>&1") != 0)
		skip();
	write_dataset_spm("data-spm", 16, true);
	write_sweep("bleu", "train: {data: data-spm, max_steps: 4, seeds: [1, 2], "
		    "bleu: true, beam: 2}", "bleu >= 0", "");
	int rc = sweep("bleu", "bleu", NULL);
	if (rc)
		printf("%s", err_buf);
	assert_int_equal(rc, 0);
	static char buf[1 << 20];
	slurp("bleu", "points.jsonl", buf, sizeof buf);
	assert_null(strstr(buf, "\"bleu\":null"));
	assert_null(strstr(buf, "\"chrf\":null"));
	const char *tr = strstr(buf, "\"trained\":");
	assert_non_null(tr);
	printf("%.400s\n", tr);
	assert_non_null(strstr(buf, "\"bleu\":["));
	assert_null(strstr(buf, "\"feasible\":false"));
	/* a bounded decode: its own identity, the same kind of result */
	write_sweep("bleu-len", "train: {data: data-spm, max_steps: 4, seeds: [1], "
		    "bleu: true, beam: 1, max_len_a: 0.5, max_len_b: 3}", "bleu >= 0", "");
	assert_int_equal(sweep("bleu-len", "bleu-len", NULL), 0);
	slurp("bleu-len", "sweep.json", buf, sizeof buf);
	assert_non_null(strstr(buf, "max_len=0.5*(S+1)+3"));
	write_sweep("bleu-neg", "train: {data: data-spm, max_steps: 4, bleu: true, "
		    "max_len_a: -1}", "", "");
	expect_error("bleu-neg", "max_len_a");
	/* the decode's length cap joins the identity when set */
	write_sweep("bleu", "train: {data: data-spm, max_steps: 4, seeds: [1, 2], "
		    "bleu: true, beam: 2, max_len_b: 5}", "bleu >= 0", "");
	assert_int_equal(sweep("bleu", "bleu", "--resume"), 1);
	assert_non_null(strstr(err_buf, "train bleu differs: 'split=valid beam=2 "
				     "max_len=0*(S+1)+5' in "));
	write_sweep("nobleu", TRAIN, "chrf > 1", "");
	expect_error("nobleu", "nobleu.yaml:5:5: error: constraint names chrf, which needs "
		     "bleu: true");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trained),
		cmocka_unit_test(test_run_config),
		cmocka_unit_test(test_kill_resume),
		cmocka_unit_test(test_untrainable),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_cwd),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_evolution),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_bleu),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
