/*
 * test_bad_inputs.c - every case of the bad-input corpus (tests/bad/)
 * through the real CLI: `archex count FILE` (or the command the manifest
 * names) must exit with the expected code, print nothing on stdout, and
 * print `FILE:LINE:COL: error: ...` with the expected position and message
 * fragment on stderr - never crash, hang or half-write.
 *
 * tests/bad/MANIFEST has one case per line:
 *     FILE  EXIT  LINE:COL|-  FRAGMENT...
 * FILE is relative to tests/bad/; a FILE starting with "sweep:" is run as
 * `archex sweep FILE --out TMP`. `-` means the position is not checked (an
 * I/O error has none). Lines starting with # are comments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define BAD_DIR AX_SOURCE_DIR "/tests/bad"

/* Runs argv with stdout and stderr captured (truncated to the buffers);
 * returns the exit status, or -1 on a signal (a crash). */
static int run(char *const argv[], char *out, size_t out_n, char *err, size_t err_n)
{
	int po[2], pe[2];
	if (pipe(po) || pipe(pe))
		return -2;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]), close(pe[0]), close(po[1]), close(pe[1]);
		alarm(20);   /* a hang is a failure */
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]), close(pe[1]);
	size_t no = 0, ne = 0;
	for (;;) {
		char buf[4096];
		ssize_t a = read(po[0], buf, sizeof buf);
		if (a > 0 && no + (size_t)a < out_n) {
			memcpy(out + no, buf, (size_t)a);
			no += (size_t)a;
		}
		ssize_t b = read(pe[0], buf, sizeof buf);
		if (b > 0 && ne + (size_t)b < err_n) {
			memcpy(err + ne, buf, (size_t)b);
			ne += (size_t)b;
		}
		if (a <= 0 && b <= 0)
			break;
	}
	out[no] = err[ne] = '\0';
	close(po[0]), close(pe[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_corpus(void **state)
{
	(void)state;
	FILE *m = fopen(BAD_DIR "/MANIFEST", "r");
	assert_non_null(m);
	char line[1024];
	int cases = 0, failures = 0;
	char tmpdir[] = "/tmp/archex-bad-XXXXXX";
	assert_non_null(mkdtemp(tmpdir));
	while (fgets(line, sizeof line, m)) {
		char file[256], pos[32], frag[512] = "";
		int code, used = 0;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%255s %d %31s %n", file, &code, pos, &used) != 3)
			fail_msg("bad MANIFEST line: %s", line);
		snprintf(frag, sizeof frag, "%s", line + used);
		frag[strcspn(frag, "\n")] = '\0';

		bool sweep = !strncmp(file, "sweep:", 6);
		char path[512], outdir[600];
		snprintf(path, sizeof path, "%s/%s", BAD_DIR, sweep ? file + 6 : file);
		snprintf(outdir, sizeof outdir, "%s/out-%d", tmpdir, cases);
		char *argv_count[] = { (char *)AX_CLI, "count", path, NULL };
		char *argv_sweep[] = { (char *)AX_CLI, "sweep", path, "--out", outdir,
				       "--no-plot", NULL };
		static char out[1 << 16], err[1 << 16];
		int rc = run(sweep ? argv_sweep : argv_count, out, sizeof out, err, sizeof err);
		cases++;
		char want[700];
		if (!strcmp(pos, "-"))
			snprintf(want, sizeof want, "%s", path);
		else
			snprintf(want, sizeof want, "%s:%s: error: ", path, pos);
		const char *why = NULL;
		if (rc != code)
			why = "exit code";
		else if (!strstr(err, want))
			why = "position";
		else if (frag[0] && !strstr(err, frag))
			why = "message";
		else if (out[0])
			why = "stdout not empty";
		if (why) {
			failures++;
			print_error("tests/bad/%s: wrong %s: exit %d (want %d), want \"%s\" + \"%s\"; stderr:\n%s\n",
				    file, why, rc, code, want, frag, err);
		}
	}
	fclose(m);
	char cmd[700];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	print_message("%d bad inputs checked\n", cases);
	assert_true(cases >= 50);
	assert_int_equal(failures, 0);
}

/* A file nobody may read; root reads anything, so the case is skipped. */
static void test_unreadable(void **state)
{
	(void)state;
	if (geteuid() == 0) {
		print_message("skipped: running as root, which can read any file\n");
		skip();
	}
	char path[] = "/tmp/archex-unreadable-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "family: lite\n", 13), 13);
	close(fd);
	chmod(path, 0);
	char *argv[] = { (char *)AX_CLI, "count", path, NULL };
	static char out[4096], err[4096];
	int rc = run(argv, out, sizeof out, err, sizeof err);
	unlink(path);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "Permission denied"));
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_unreadable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
