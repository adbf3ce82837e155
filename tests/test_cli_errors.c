/*
 * test_cli_errors.c - the CLI's error paths outside config files:
 *   - flag errors of every subcommand (unknown flag, missing value, bad
 *     number, bad enum) exit 2 with "archex CMD: error: ..." and print
 *     nothing on stdout;
 *   - `archex run --weights` refuses missing, foreign, truncated, corrupt
 *     and mismatching weights files with exit 1 and a diagnostic naming
 *     the file;
 *   - `archex init` replaces its output atomically (a new inode through
 *     rename, no temporary left) and leaves nothing on failure;
 *   - `archex run` refuses a model that cannot fit in memory before
 *     allocating it;
 *   - `archex run`'s inputs: --tgt length limit, out-of-range ids named
 *     by argument and position, LM --dump-logits larger than a block,
 *     --dump-logits onto an input, a FIFO as --weights, stdout errors.
 *   - every subcommand's --help (count through eval) exits 0.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_run.h"

#include "test_tmpdir.h"

#define GOOD AX_SOURCE_DIR "/configs/paper/iwslt14-lite-160.yaml"

static char out[1 << 16], err[1 << 16];

static const char tiny_yaml[] =
	"family: transformer\ntask: translation\nembed_dim: 32\nnorm: post\n"
	"vocab: {source: 50, target: 50, share: all}\n"
	"encoder: {layers: 1, ffn_dim: 64, attention_heads: 4}\n"
	"decoder: {layers: 1, ffn_dim: 64, attention_heads: 4}\n";
/* the same shapes but two layers: its weights do not fit tiny */
static const char tiny2_yaml[] =
	"family: transformer\ntask: translation\nembed_dim: 32\nnorm: post\n"
	"vocab: {source: 50, target: 50, share: all}\n"
	"encoder: {layers: 2, ffn_dim: 64, attention_heads: 4}\n"
	"decoder: {layers: 1, ffn_dim: 64, attention_heads: 4}\n";

static int make_dir(void **state)
{
	(void)state;
	return ax_test_tmpdir_make("clierr");
}

static int remove_dir(void **state)
{
	(void)state;
	return ax_test_tmpdir_remove();
}

static void path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* ---- flag errors ------------------------------------------------------ */

struct usage_case {
	const char *args[8];
	const char *fragment;
};

static void test_flag_errors(void **state)
{
	(void)state;
	static const struct usage_case cases[] = {
		/* count */
		{ { "count", "--bogus", GOOD }, "archex count: error: unknown option '--bogus'" },
		{ { "count", "-xq", GOOD }, "archex count: error: unknown option '-x'" },
		{ { "count", GOOD, "--format" }, "archex count: error: option '--format' needs a value" },
		{ { "count", "--src-len", "12abc", GOOD }, "--src-len wants integers in 1..1048576" },
		{ { "count", "--src-len", "0", GOOD }, "--src-len wants integers" },
		{ { "count", "--tgt-len", "99999999999999999999", GOOD }, "--tgt-len wants integers" },
		{ { "count", "--tgt-len", "1,,2", GOOD }, "--tgt-len wants integers" },
		{ { "count", "--tgt-len", "1,", GOOD }, "--tgt-len wants integers" },
		{ { "count", "--src-len", ",3", GOOD }, "--src-len wants integers" },
		{ { "count", "--format", "xml", GOOD }, "--format must be table, csv or json, not 'xml'" },
		{ { "count", "--convention", "fast", GOOD }, "--convention must be exact or paper, not 'fast'" },
		{ { "count", "--mode", "batch", GOOD }, "--mode must be sequence or incremental, not 'batch'" },
		{ { "count" }, "archex count: error: no CONFIG given" },
		{ { "count", "--src-len", "1,2,3", "--tgt-len", "1,2", GOOD },
		  "--src-len has 3 values and --tgt-len 2" },
		/* graph */
		{ { "graph", "--bogus", GOOD }, "archex graph: error: unknown option '--bogus'" },
		{ { "graph", GOOD, "--mode" }, "archex graph: error: option '--mode' needs a value" },
		{ { "graph", "--src-len", "-5", GOOD }, "--src-len wants integers" },
		{ { "graph", "--convention", "EXACT", GOOD }, "--convention must be exact or paper" },
		{ { "graph", GOOD, GOOD }, "archex graph: error: expected exactly one CONFIG" },
		/* run */
		{ { "run", "--bogus", GOOD }, "archex run: error: unknown option '--bogus'" },
		{ { "run", GOOD, "--src" }, "archex run: error: option '--src' needs a value" },
		{ { "run", "--beam", "0", "--src", "5", GOOD }, "--beam wants 1..64, not '0'" },
		{ { "run", "--beam", "2x", "--src", "5", GOOD }, "--beam wants 1..64, not '2x'" },
		{ { "run", "--max-len", "100000", "--src", "5", GOOD }, "--max-len wants 0..4095" },
		{ { "run", "--max-len-b", "-1", "--src", "5", GOOD }, "--max-len-b wants 0..4095" },
		{ { "run", "--max-len-a", "x", "--src", "5", GOOD }, "--max-len-a wants a number" },
		{ { "run", "--min-len", "9", "--max-len", "8", "--src", "5", GOOD },
		  "--min-len 9 exceeds the max length 8" },
		{ { "run", "--src", "5", "--tgt", "", GOOD }, "--tgt needs --src and at least one token id" },
		{ { "run", "--threads", "-1", "--src", "5", GOOD }, "--threads wants 1..256" },
		{ { "run", "--lenpen", "nan", "--src", "5", GOOD }, "--lenpen wants a number, not 'nan'" },
		{ { "run", "--seed", "-3", "--src", "5", GOOD }, "--seed wants a non-negative integer" },
		{ { "run", "--format", "yaml", "--src", "5", GOOD }, "--format must be text or json, not 'yaml'" },
		{ { "run", "--precision", "fp16", "--src", "5", GOOD }, "--precision must be fp32, bf16 or int8, not 'fp16'" },
		{ { "run", "--activations", "int4", "--src", "5", GOOD }, "--activations must be fp32, int16 or int8, not 'int4'" },
		{ { "run", "--activations", "int8", "--precision", "bf16", "--src", "5", GOOD }, "--activations int8 needs --precision int8" },
		{ { "run", "--activations", "int16", "--src", "5", GOOD }, "--activations int16 needs --precision int8" },
		{ { "run", "--activations", "default", "--src", "5", GOOD }, "--activations must be fp32, int16 or int8, not 'default'" },
		{ { "run", GOOD }, "archex run: error: " },
		/* import */
		{ { "import", "fairseq", "x.pt" }, "archex import: error: fairseq needs --out DIR" },
		{ { "import", "lite-yaml", "x.yml" }, "archex import: error: lite-yaml needs --vocab" },
		{ { "import", "onnx", "x", "--out", "d" }, "unknown source 'onnx' (fairseq or lite-yaml)" },
		{ { "import", "fairseq", "x.pt", "--out", "" }, "fairseq needs --out DIR" },
		{ { "import", "fairseq" }, "expected fairseq CHECKPOINT or lite-yaml FILE" },
		/* init */
		{ { "init", "--bogus", GOOD }, "archex init: error: unknown option '--bogus'" },
		{ { "init", GOOD, "--out" }, "archex init: error: option '--out' needs a value" },
		{ { "init", "--seed", "one", "--out", "/nonexistent/w", GOOD }, "--seed wants a non-negative integer, not 'one'" },
		{ { "init", GOOD }, "archex init: error: expected CONFIG and --out FILE" },
		/* eval */
		{ { "eval", "--bogus", GOOD }, "archex eval: error: unknown option '--bogus'" },
		{ { "eval", GOOD, "--seed", "1", "--split", "valid" }, "archex eval: error: --data DIR is required" },
		{ { "eval", GOOD, "--seed", "1", "--data", "d" }, "archex eval: error: --split valid|test is required" },
		{ { "eval", GOOD, "--seed=1", "--data=d", "--split=test", "--activations=int8" }, "--activations int8 needs --precision int8" },
		{ { "eval", GOOD, "--seed", "1", "--data", "d", "--split", "train" }, "--split must be valid or test, not 'train'" },
		{ { "eval", GOOD, "--data", "d", "--split", "test" }, "give exactly one of --weights and --seed" },
		{ { "eval", GOOD, "--seed", "1", "--beam", "0" }, "--beam wants 1..64, not '0'" },
		{ { "eval", GOOD, "--seed", "1", "--max-len-a", "-1" }, "--max-len-a wants a non-negative number" },
		{ { "eval", GOOD, "--seed", "1", "--lenpen", "x" }, "--lenpen wants a number, not 'x'" },
		{ { "eval", "--seed", "1", "--data", "d", "--split", "test" }, "archex eval: error: expected exactly one CONFIG" },
		/* sweep, and the top level */
		{ { "sweep", "--jobs", "0", "x.yaml" }, "archex sweep: error: --jobs wants an integer in 1..64" },
		{ { "sweep", "--shard", "3/2", "x.yaml" }, "archex sweep: error: --shard wants K/N" },
		{ { "frobnicate" }, "archex: error: unknown command 'frobnicate'" },
		/* did you mean */
		{ { "swep", "x.yaml" }, "unknown command 'swep'; did you mean 'sweep'?" },
		{ { "count", "--covention", "paper", GOOD }, "unknown option '--covention'; did you mean '--convention'?" },
		{ { "sweep", "--ot=d", "x.yaml" }, "unknown option '--ot=d'; did you mean '--out'?" },
		{ { "merge", "--partal", "a", "b" }, "did you mean '--partial'?" },
		{ { "plot", "seqlen", "--convension", "exact", GOOD }, "did you mean '--convention'?" },
		/* empty paths */
		{ { "sweep", "--out", "", "x.yaml" }, "--out wants a directory, not an empty string" },
		{ { "init", GOOD, "--out", "" }, "--out wants a file name, not an empty string" },
	};
	int failures = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *argv[10] = { (char *)AX_CLI };
		for (int k = 0; k < 8 && cases[i].args[k]; k++)
			argv[k + 1] = (char *)cases[i].args[k];
		int rc = ax_test_run(argv, out, sizeof out, err, sizeof err);
		if (rc != 2 || out[0] || !strstr(err, cases[i].fragment)) {
			print_error("case %zu (%s %s): exit %d (want 2), stdout %s, "
				    "want \"%s\"; stderr:\n%s\n", i, cases[i].args[0],
				    cases[i].args[1] ? cases[i].args[1] : "", rc,
				    out[0] ? "not empty" : "empty", cases[i].fragment, err);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* --help is not an error: exit 0, text on stdout, nothing on stderr. */
static void test_help(void **state)
{
	(void)state;
	static const char *const cmds[] = { "count", "graph", "run", "init",
					    "sweep", "merge", "import", "data",
					    "bleu", "eval" };
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char *argv[] = { (char *)AX_CLI, (char *)cmds[i], "--help", NULL };
		assert_int_equal(ax_test_run(argv, out, sizeof out, err, sizeof err), 0);
		assert_non_null(strstr(out, "usage: archex"));
		assert_string_equal(err, "");
	}
}

/* ---- weights files through `archex run --weights` ---------------------- */

static void init_weights(const char *cfg, const char *w)
{
	char *argv[] = { (char *)AX_CLI, "init", (char *)cfg, "--out", (char *)w,
			 "--seed", "7", NULL };
	assert_int_equal(ax_test_run(argv, out, sizeof out, err, sizeof err), 0);
}

/* run --weights w: exit code, and the fragment after "w: error: ". */
static void expect_run(const char *cfg, const char *w, int code,
		       const char *fragment)
{
	char *argv[] = { (char *)AX_CLI, "run", (char *)cfg, "--weights",
			 (char *)w, "--src", "4 5 6", "--max-len", "4", NULL };
	int rc = ax_test_run(argv, out, sizeof out, err, sizeof err);
	if (code == 0) {
		if (rc != 0)
			fail_msg("run --weights %s: exit %d; stderr:\n%s", w, rc, err);
		return;
	}
	char want[600];
	snprintf(want, sizeof want, "%s: error: ", w);
	if (rc != code || out[0] || !strstr(err, want) || !strstr(err, fragment))
		fail_msg("run --weights %s: exit %d (want %d), stdout %s, want \"%s\" "
			 "and \"%s\"; stderr:\n%s", w, rc, code,
			 out[0] ? "not empty" : "empty", want, fragment, err);
}

static void test_run_bad_weights(void **state)
{
	(void)state;
	char cfg[400], cfg2[400], w[400], w2[400], bad[400];
	path_in(cfg, sizeof cfg, "tiny.yaml");
	path_in(cfg2, sizeof cfg2, "tiny2.yaml");
	path_in(w, sizeof w, "tiny.axw");
	path_in(w2, sizeof w2, "tiny2.axw");
	path_in(bad, sizeof bad, "bad.axw");
	write_file(cfg, tiny_yaml, strlen(tiny_yaml));
	write_file(cfg2, tiny2_yaml, strlen(tiny2_yaml));
	init_weights(cfg, w);
	init_weights(cfg2, w2);
	expect_run(cfg, w, 0, NULL);

	static char buf[1 << 20];
	size_t n = read_file(w, buf, sizeof buf);
	assert_true(n > 1000 && n < sizeof buf);

	/* truncated: at the fixed header, inside the table, inside data */
	size_t cuts[] = { 0, 7, 40, n / 2, n - 1 };
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		write_file(bad, buf, cuts[i]);
		expect_run(cfg, bad, 1, "truncated");
	}
	/* a flipped bit in the data: its tensor's CRC */
	buf[n - 5] ^= 0x10;
	write_file(bad, buf, n);
	expect_run(cfg, bad, 1, "CRC");
	buf[n - 5] ^= 0x10;
	/* a flipped bit in a tensor name: the header CRC */
	buf[20] ^= 0x01;
	write_file(bad, buf, n);
	expect_run(cfg, bad, 1, "header CRC mismatch");
	buf[20] ^= 0x01;
	/* another version, another magic */
	buf[4] = 9;
	write_file(bad, buf, n);
	expect_run(cfg, bad, 1, "weights format version 9");
	buf[4] = 1;
	write_file(bad, "family: transformer\n", 20);
	expect_run(cfg, bad, 1, "not an archex weights file");
	/* trailing garbage after a valid file is not an error by the format,
	 * but the file must still load the same */
	/* a valid file of another model */
	expect_run(cfg, w2, 1, "the file has tensor");
	/* not a file at all */
	expect_run(cfg, tmpdir, 1, "not a regular file");
	path_in(bad, sizeof bad, "missing.axw");
	expect_run(cfg, bad, 1, "cannot open weights file: No such file or directory");
}

/* ---- init: atomic replace --------------------------------------------- */

static void test_init_atomic(void **state)
{
	(void)state;
	char cfg[400], w[400], link_path[400], tmp[420];
	path_in(cfg, sizeof cfg, "tiny.yaml");
	path_in(w, sizeof w, "atomic.axw");
	path_in(link_path, sizeof link_path, "atomic.old");
	snprintf(tmp, sizeof tmp, "%s.tmp", w);
	write_file(cfg, tiny_yaml, strlen(tiny_yaml));

	/* an old file with a second name: rewriting in place would change
	 * both names; tmp + rename leaves the old inode alone */
	write_file(w, "OLD CONTENT", 11);
	assert_int_equal(link(w, link_path), 0);
	struct stat before, after;
	assert_int_equal(stat(w, &before), 0);
	init_weights(cfg, w);
	assert_int_equal(stat(w, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	char old[32];
	assert_int_equal(read_file(link_path, old, sizeof old), 11);
	assert_memory_equal(old, "OLD CONTENT", 11);
	assert_int_equal(access(tmp, F_OK), -1);
	expect_run(cfg, w, 0, NULL);

	/* a failed init (no such directory) creates nothing */
	char nodir[450];
	snprintf(nodir, sizeof nodir, "%s/no-such-dir/w.axw", tmpdir);
	char *argv[] = { (char *)AX_CLI, "init", cfg, "--out", nodir, NULL };
	assert_int_equal(ax_test_run(argv, out, sizeof out, err, sizeof err), 1);
	assert_string_equal(out, "");
	char want[1200];
	snprintf(want, sizeof want, "%s: error: cannot open for writing: No "
		 "such file or directory\n", nodir);
	assert_string_equal(err, want);   /* the path given, not a temporary */
	/* --out a directory: the rename fails, the temporary is removed */
	char *argv2[] = { (char *)AX_CLI, "init", cfg, "--out", tmpdir, NULL };
	assert_int_equal(ax_test_run(argv2, out, sizeof out, err, sizeof err), 1);
	snprintf(want, sizeof want, "%s: error: cannot replace it: Is a "
		 "directory\n", tmpdir);
	assert_string_equal(err, want);
	/* calibrate checks its --out directory before measuring */
	char *argv3[] = { (char *)AX_CLI, "calibrate", "--out", nodir, NULL };
	assert_int_equal(ax_test_run(argv3, out, sizeof out, err, sizeof err), 1);
	snprintf(want, sizeof want, "%s: error: cannot create a file in "
		 "directory %s/no-such-dir: No such file or directory\n", nodir,
		 tmpdir);
	assert_string_equal(err, want);
	char tmp2[420];
	snprintf(tmp2, sizeof tmp2, "%s.tmp", tmpdir);
	assert_int_equal(access(tmp2, F_OK), -1);
}

/* ---- run: memory limit -------------------------------------------------- */

/* 2^38 shared embedding parameters (1 TiB of fp32): valid for counting,
 * refused by run and init before any allocation. */
/* init onto its own CONFIG, a FIFO as the sweep file, stdout on a full
 * disk: each an error with a message, the input intact, no hang. */
static void test_io_hazards(void **state)
{
	(void)state;
	char cfg[512], copy[512], fifo[512];
	path_in(cfg, sizeof cfg, "self.yaml");
	write_file(cfg, tiny_yaml, sizeof tiny_yaml - 1);
	char *init[] = { (char *)AX_CLI, "init", cfg, "--out", cfg, NULL };
	assert_int_equal(ax_test_run(init, out, sizeof out, err, sizeof err), 2);
	assert_non_null(strstr(err, "is the CONFIG file; it would be overwritten"));
	assert_int_equal(read_file(cfg, copy, sizeof copy), sizeof tiny_yaml - 1);
	assert_memory_equal(copy, tiny_yaml, sizeof tiny_yaml - 1);
	path_in(fifo, sizeof fifo, "fifo.yaml");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	char *sweep[] = { (char *)AX_CLI, "sweep", "--out", fifo, fifo, NULL };
	assert_int_equal(ax_test_run(sweep, out, sizeof out, err, sizeof err), 1);
	assert_non_null(strstr(err, "not a regular file (a FIFO or device)"));
	/* a later input failing: no half-written JSON array, exit 1 */
	char *count[] = { (char *)AX_CLI, "count", "--format", "json", cfg, "/nonexistent.yaml", NULL };
	assert_int_equal(ax_test_run(count, out, sizeof out, err, sizeof err), 1);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "1 of 2 configs failed; nothing written"));
	static const char *const cmds[][2] = { { "count", NULL }, { "graph", NULL } };
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char cmd[1200];
		snprintf(cmd, sizeof cmd, "%s %s %s >/dev/full 2>%s.err", AX_CLI, cmds[i][0], cfg, cfg);
		int st = system(cmd);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
		char e[4096], name[600];
		snprintf(name, sizeof name, "%s.err", cfg);
		size_t n = read_file(name, e, sizeof e - 1);
		e[n] = '\0';
		assert_non_null(strstr(e, "error: cannot write the output: No space left on device"));
	}
}

static void test_run_too_big(void **state)
{
	(void)state;
	static const char big[] =
		"family: transformer\ntask: translation\nembed_dim: 16384\nnorm: post\n"
		"vocab: {source: 16777216, target: 16777216, share: all}\n"
		"encoder: {layers: 1, ffn_dim: 64, attention_heads: 4}\n"
		"decoder: {layers: 1, ffn_dim: 64, attention_heads: 4}\n";
	char cfg[400], w[400];
	path_in(cfg, sizeof cfg, "big.yaml");
	path_in(w, sizeof w, "big.axw");
	write_file(cfg, big, strlen(big));
	char *count[] = { (char *)AX_CLI, "count", "--summary", cfg, NULL };
	assert_int_equal(ax_test_run(count, out, sizeof out, err, sizeof err), 0);
	char *run[] = { (char *)AX_CLI, "run", cfg, "--src", "4 5", NULL };
	assert_int_equal(ax_test_run(run, out, sizeof out, err, sizeof err), 1);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "error: executor: this run needs 1.0"));
	char *init[] = { (char *)AX_CLI, "init", cfg, "--out", w, NULL };
	assert_int_equal(ax_test_run(init, out, sizeof out, err, sizeof err), 1);
	assert_non_null(strstr(err, "executor: this run needs"));
	assert_int_equal(access(w, F_OK), -1);
}

/* Runs argv with stdout on /dev/full and stderr into err: the exit code. */
static int run_to_full(char *const argv[])
{
	int pe[2];
	assert_int_equal(pipe(pe), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/full", O_WRONLY);
		dup2(fd, 1);
		dup2(pe[1], 2);
		close(pe[0]);
		alarm(AX_TEST_TIMEOUT);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pe[1]);
	ssize_t n, len = 0;
	while ((n = read(pe[0], err + len, sizeof err - 1 - (size_t)len)) > 0)
		len += n;
	err[len] = 0;
	close(pe[0]);
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* run with argv (NULL-terminated, after "archex run"): exit code and a
 * stderr fragment. */
static void expect(int code, const char *fragment, char *const args[])
{
	char *argv[24] = { (char *)AX_CLI, "run" };
	for (int k = 0; args[k]; k++)
		argv[k + 2] = args[k];
	int rc = ax_test_run(argv, out, sizeof out, err, sizeof err);
	if (rc != code || !strstr(err, fragment))
		fail_msg("run %s %s ...: exit %d (want %d), want \"%s\"; stderr:\n%s",
			 args[0], args[1], rc, code, fragment, err);
}

static void test_run_inputs(void **state)
{
	(void)state;
	char cfg[400], w[400], dump[400], fifo[400];
	static char buf[1 << 20], buf2[1 << 20];
	path_in(cfg, sizeof cfg, "tiny.yaml");
	path_in(w, sizeof w, "inputs.axw");
	path_in(dump, sizeof dump, "inputs.logits");
	path_in(fifo, sizeof fifo, "inputs.fifo");
	write_file(cfg, tiny_yaml, strlen(tiny_yaml));
	init_weights(cfg, w);

	/* --tgt has a length limit */
	static char longtgt[5 * 4200];
	for (int i = 0; i < 4097; i++)
		memcpy(longtgt + 3 * i, "44 ", 4);
	expect(1, "--tgt: error: 4097 tokens; at most 4096", (char *[]){ cfg, "--src", "5",
	       "--tgt", longtgt, NULL });
	/* out-of-range ids name the argument and the token's position */
	expect(1, "--src:1: error: token 3 is id 50, out of the vocabulary 0..49",
	       (char *[]){ cfg, "--src", "5 6 50", NULL });
	expect(1, "--tgt:1: error: token 2 is id 77", (char *[]){ cfg, "--src", "5",
	       "--tgt", "4 77", NULL });
	expect(1, "--tgt:1:3: error: expected a token id", (char *[]){ cfg, "--src", "5",
	       "--tgt", "4 x", NULL });
	/* LM: --dump-logits of more tokens than a block is an error */
	expect(1, "--dump-logits needs the input in one block",
	       (char *[]){ AX_SOURCE_DIR "/tests/configs/oracle/lite-lm.yaml", "--src",
			   "4 5 6", "--tokens-per-sample", "2", "--dump-logits", dump, NULL });
	expect(1, "--tokens-per-sample applies to language models only",
	       (char *[]){ cfg, "--src", "5", "--tokens-per-sample", "9", NULL });
	expect(1, "--max-len applies to translation",
	       (char *[]){ AX_SOURCE_DIR "/tests/configs/oracle/lite-lm.yaml", "--src",
			   "4 5 6", "--max-len", "2", NULL });
	/* --dump-logits onto --weights: refused, the weights unchanged */
	size_t n = read_file(w, buf, sizeof buf);
	expect(1, "--dump-logits would overwrite an input", (char *[]){ cfg, "--weights", w,
	       "--src", "5", "--tgt", "4 2", "--dump-logits", w, NULL });
	assert_int_equal(read_file(w, buf2, sizeof buf2), n);
	assert_memory_equal(buf, buf2, n);
	/* a FIFO as --weights is refused, not waited on */
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	expect(1, "not a regular file", (char *[]){ cfg, "--weights", fifo, "--src", "5", NULL });
	unlink(fifo);
	/* stdout write errors: a message and exit 1 */
	char *full[] = { (char *)AX_CLI, "run", cfg, "--src", "5 6", NULL };
	assert_int_equal(run_to_full(full), 1);
	assert_non_null(strstr(err, "cannot write to stdout"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flag_errors),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_run_bad_weights),
		cmocka_unit_test(test_init_atomic),
		cmocka_unit_test(test_run_too_big),
		cmocka_unit_test(test_run_inputs),
		cmocka_unit_test(test_io_hazards),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
