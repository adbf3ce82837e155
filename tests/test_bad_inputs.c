/*
 * test_bad_inputs.c - every case of the bad-input corpus (tests/bad/)
 * through the real CLI: `archex count FILE` (or the command the manifest
 * names) must exit with the expected code, print nothing on stdout, and
 * print `FILE:LINE:COL: error: ...` with the expected position and message
 * fragment on stderr - never crash, hang or half-write. Cases that cannot
 * be committed (a huge file, a FIFO, an unreadable file, a missing file)
 * are made here.
 *
 * tests/bad/MANIFEST has one case per line:
 *     FILE  EXIT  LINE:COL|-  FRAGMENT...
 * FILE is relative to tests/bad/; a FILE starting with "sweep:" is run as
 * `archex sweep FILE --out TMP`, which must leave no points.jsonl. `-` means the diagnostic has no position
 * (an I/O error or a file-level limit): then stderr must hold
 * `FILE: error: `. Lines starting with # are comments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_run.h"
#include "test_tmpdir.h"

#define BAD_DIR AX_SOURCE_DIR "/tests/bad"
#define MIN_CASES 60

static char out[1 << 16], err[1 << 16];

static int make_dir(void **state)
{
	(void)state;
	return ax_test_tmpdir_make("bad");
}

static int remove_dir(void **state)
{
	(void)state;
	return ax_test_tmpdir_remove();
}

/* Checks one run against the expectation; prints and returns false on a
 * mismatch. pos is "LINE:COL" or "-". */
static bool check_case(const char *label, const char *path, int rc, int code,
		       const char *pos, const char *frag)
{
	char want[700];
	const char *why = NULL;

	if (!strcmp(pos, "-"))
		snprintf(want, sizeof want, "%s: error: ", path);
	else
		snprintf(want, sizeof want, "%s:%s: error: ", path, pos);
	if (rc == -1)
		why = "exit (a crash, sanitizer abort or timeout)";
	else if (rc != code)
		why = "exit code";
	else if (!strstr(err, want))
		why = "position";
	else if (frag[0] && !strstr(err, frag))
		why = "message";
	else if (out[0])
		why = "stdout (not empty)";
	if (why)
		print_error("%s: wrong %s: exit %d (want %d), want \"%s\" + \"%s\"; "
			    "stderr:\n%s\n", label, why, rc, code, want, frag, err);
	return why == NULL;
}

static void test_corpus(void **state)
{
	(void)state;
	FILE *m = fopen(BAD_DIR "/MANIFEST", "r");
	assert_non_null(m);
	char line[1024];
	int cases = 0, failures = 0;
	while (fgets(line, sizeof line, m)) {
		char file[256], pos[32], frag[512] = "";
		int code, used = 0;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%255s %d %31s %n", file, &code, pos, &used) != 3 ||
		    used == 0)
			fail_msg("bad MANIFEST line: %s", line);
		snprintf(frag, sizeof frag, "%s", line + used);
		frag[strcspn(frag, "\n")] = '\0';

		bool sweep = !strncmp(file, "sweep:", 6);
		char path[512], outdir[600];
		snprintf(path, sizeof path, "%s/%s", BAD_DIR, sweep ? file + 6 : file);
		snprintf(outdir, sizeof outdir, "%s/out-%d", tmpdir, cases);
		char *argv_count[] = { (char *)AX_CLI, "count", path, NULL };
		char *argv_sweep[] = { (char *)AX_CLI, "sweep", path, "--out",
				       outdir, NULL };
		int rc = ax_test_run(sweep ? argv_sweep : argv_count, out, sizeof out,
				     err, sizeof err);
		cases++;
		if (!check_case(file, path, rc, code, pos, frag))
			failures++;
		/* a refused sweep leaves no points behind */
		char points[700];
		snprintf(points, sizeof points, "%s/points.jsonl", outdir);
		if (sweep && access(points, F_OK) == 0) {
			print_error("%s: wrote %s\n", file, points);
			failures++;
		}
	}
	fclose(m);
	print_message("%d bad inputs checked, %d failed\n", cases, failures);
	assert_true(cases >= MIN_CASES);
	assert_int_equal(failures, 0);
}

/* Every committed file is in the MANIFEST, so no case is silently
 * dropped. */
static void test_manifest_complete(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && for f in * sweep/*; do "
		 "[ \"$f\" = MANIFEST ] || [ \"$f\" = sweep ] && continue; "
		 "grep -qE \"^(sweep:)?$f \" MANIFEST || { echo \"$f\"; exit 1; }; "
		 "done", BAD_DIR);
	assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Over 1 MiB: refused by size before parsing; just under it (a valid
 * config padded with comments) loads, and quickly (the alarm). */
static void test_huge_file(void **state)
{
	(void)state;
	size_t n = (2u << 20) + 7;
	char *text = malloc(n);
	assert_non_null(text);
	memset(text, '#', n);
	for (size_t i = 79; i < n; i += 80)
		text[i] = '\n';
	char path[400];
	snprintf(path, sizeof path, "%s/huge.yaml", tmpdir);
	write_file(path, text, n);
	char *argv[] = { (char *)AX_CLI, "count", path, NULL };
	int rc = ax_test_run(argv, out, sizeof out, err, sizeof err);
	assert_true(check_case("huge.yaml", path, rc, 1, "-",
			       "larger than 1048576 bytes"));

	/* a real config after ~1 MiB of comments */
	FILE *cfg = fopen(AX_SOURCE_DIR "/configs/paper/wmt-transformer-128.yaml", "rb");
	assert_non_null(cfg);
	size_t pad = (1u << 20) - 4096;
	size_t got = fread(text + pad, 1, 4000, cfg);
	fclose(cfg);
	assert_true(got > 100 && got < 4000);
	text[pad - 1] = '\n';
	snprintf(path, sizeof path, "%s/padded.yaml", tmpdir);
	write_file(path, text, pad + got);
	free(text);
	rc = ax_test_run(argv, out, sizeof out, err, sizeof err);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "params 6.97M (6,971,392)"));
}

/* /dev/zero never ends: the size limit stops it. */
static void test_endless_device(void **state)
{
	(void)state;
	char *argv[] = { (char *)AX_CLI, "count", "/dev/zero", NULL };
	int rc = ax_test_run(argv, out, sizeof out, err, sizeof err);
	assert_true(check_case("/dev/zero", "/dev/zero", rc, 1, "-",
			       "larger than 1048576 bytes"));
}

/* A FIFO nobody writes to must not hang the loader: it reads as empty. */
static void test_fifo(void **state)
{
	(void)state;
	char path[400];
	snprintf(path, sizeof path, "%s/fifo.yaml", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	char *argv[] = { (char *)AX_CLI, "count", path, NULL };
	int rc = ax_test_run(argv, out, sizeof out, err, sizeof err);
	assert_true(check_case("fifo", path, rc, 1, "1:1", "the config is empty"));
}

static void test_missing_file(void **state)
{
	(void)state;
	char path[400];
	snprintf(path, sizeof path, "%s/no-such-file.yaml", tmpdir);
	char *argv[] = { (char *)AX_CLI, "count", path, NULL };
	int rc = ax_test_run(argv, out, sizeof out, err, sizeof err);
	assert_true(check_case("missing", path, rc, 1, "-",
			       "cannot open for reading: No such file or directory"));
}

/* One bad config among good ones: exit 1, every error reported, and
 * nothing at all on stdout (no half-written JSON array). */
static void test_one_bad_among_good(void **state)
{
	(void)state;
	char *argv[] = { (char *)AX_CLI, "count", "--format", "json",
			 AX_SOURCE_DIR "/configs/paper/wmt-lite-200.yaml",
			 BAD_DIR "/range-layers-1e9.yaml",
			 AX_SOURCE_DIR "/configs/paper/wmt-transformer-128.yaml",
			 BAD_DIR "/tab-indent.yaml", NULL };
	int rc = ax_test_run(argv, out, sizeof out, err, sizeof err);
	assert_int_equal(rc, 1);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "range-layers-1e9.yaml:11:11: error: "));
	assert_non_null(strstr(err, "tab-indent.yaml:4:1: error: "));
	assert_non_null(strstr(err, "2 of 4 configs failed; nothing written"));
}

/* A file nobody may read; root reads anything, so the case is skipped. */
static void test_unreadable(void **state)
{
	(void)state;
	if (geteuid() == 0) {
		print_message("skipped: running as root, which can read any file\n");
		skip();
	}
	char path[400];
	snprintf(path, sizeof path, "%s/unreadable.yaml", tmpdir);
	write_file(path, "family: lite\n", 13);
	assert_int_equal(chmod(path, 0), 0);
	char *argv[] = { (char *)AX_CLI, "count", path, NULL };
	int rc = ax_test_run(argv, out, sizeof out, err, sizeof err);
	assert_true(check_case("unreadable", path, rc, 1, "-", "Permission denied"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_manifest_complete),
		cmocka_unit_test(test_huge_file),
		cmocka_unit_test(test_endless_device),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_one_bad_among_good),
		cmocka_unit_test(test_unreadable),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
