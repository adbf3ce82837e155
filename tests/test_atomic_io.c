/*
 * test_atomic_io.c - atomic replace (commit leaves the file and no
 * temporary; abort leaves no file and an existing target untouched),
 * errors that name the target, not the temporary,
 * JSON Lines appends, recovery after simulated torn writes, and the id
 * reader (libjansson) on ordinary and hostile lines.
 */
#include <dirent.h>
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

#include "atomic_io.h"

#include "test_tmpdir.h"


static int make_dir(void **state)
{
	(void)state;
	return ax_test_tmpdir_make("atomic");
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

/* Number of directory entries other than . and .. */
static int count_entries(void)
{
	DIR *dir = opendir(tmpdir);
	assert_non_null(dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dir)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dir);
	return n;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 16);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_commit(void **state)
{
	(void)state;
	char path[600];
	path_in(path, sizeof path, "out.csv");
	spit(path, "old\n", 4);

	struct ax_atomic a;
	struct ax_diag d = {0};
	FILE *f = ax_atomic_open(&a, path, &d);
	assert_non_null(f);
	char want_tmp[700];
	snprintf(want_tmp, sizeof want_tmp, "%s.tmp.%ld", path, (long)getpid());
	assert_string_equal(a.tmp, want_tmp);
	fputs("new,data\n", f);
	/* Before the commit the target is the old file. */
	size_t len;
	char *s = slurp(path, &len);
	assert_string_equal(s, "old\n");
	free(s);
	assert_int_equal(ax_atomic_commit(&a, &d), AX_OK);
	s = slurp(path, &len);
	assert_string_equal(s, "new,data\n");
	free(s);
	assert_int_equal(count_entries(), 1); /* no temporary left */
	ax_atomic_abort(&a); /* harmless after a commit */
	assert_int_equal(count_entries(), 1);
	unlink(path);
}

static void test_abort(void **state)
{
	(void)state;
	char path[600];
	path_in(path, sizeof path, "new.json");
	struct ax_atomic a;
	struct ax_diag d = {0};
	FILE *f = ax_atomic_open(&a, path, &d);
	assert_non_null(f);
	fputs("partial", f);
	ax_atomic_abort(&a);
	ax_atomic_abort(&a);
	assert_int_equal(count_entries(), 0);

	/* An existing target is untouched by an aborted rewrite. */
	spit(path, "keep me", 7);
	f = ax_atomic_open(&a, path, &d);
	assert_non_null(f);
	fputs("garbage", f);
	ax_atomic_abort(&a);
	size_t len;
	char *s = slurp(path, &len);
	assert_string_equal(s, "keep me");
	free(s);
	assert_int_equal(count_entries(), 1);
	unlink(path);
}

static void test_stale_tmp_and_errors(void **state)
{
	(void)state;
	char path[600], stale[700];
	path_in(path, sizeof path, "r.csv");
	snprintf(stale, sizeof stale, "%s.tmp.%ld", path, (long)getpid());
	spit(stale, "stale", 5);
	struct ax_atomic a;
	struct ax_diag d = {0};
	FILE *f = ax_atomic_open(&a, path, &d);
	assert_non_null(f);
	assert_string_not_equal(a.tmp, stale);
	fputs("x", f);
	assert_int_equal(ax_atomic_commit(&a, &d), AX_OK);
	size_t len;
	char *s = slurp(stale, &len);
	assert_string_equal(s, "stale"); /* never truncated */
	free(s);
	unlink(stale);
	unlink(path);

	ax_atomic_abort(&a);
}

/* Every error names the path the caller gave, never the temporary: a
 * missing directory, a parent that is a file, a target that is a
 * directory (an unwritable target: the rename fails at commit) and, when
 * not root, a read-only directory; ax_atomic_check_dir says the same. */
static void test_errors_name_target(void **state)
{
	(void)state;
	struct ax_atomic a;
	struct ax_diag d = { 0 };
	char bad[700], want[1400];
	snprintf(bad, sizeof bad, "%s/no/such/dir/x.csv", tmpdir);
	assert_null(ax_atomic_open(&a, bad, &d));
	assert_int_equal(d.status, AX_ERR_IO);
	assert_string_equal(d.file, bad);
	snprintf(want, sizeof want, "cannot create a file in directory "
		 "%s/no/such/dir: No such file or directory", tmpdir);
	assert_string_equal(d.msg, want);
	ax_atomic_abort(&a);
	memset(&d, 0, sizeof d);
	assert_int_equal(ax_atomic_check_dir(bad, &d), AX_ERR_IO);
	assert_string_equal(d.file, bad);
	assert_string_equal(d.msg, want);

	char file[600];
	path_in(file, sizeof file, "plain");
	spit(file, "p", 1);
	snprintf(bad, sizeof bad, "%s/x.csv", file);
	assert_null(ax_atomic_open(&a, bad, &d));
	assert_string_equal(d.file, bad);
	snprintf(want, sizeof want, "cannot create a file in directory %s: "
		 "Not a directory", file);
	assert_string_equal(d.msg, want);
	assert_int_equal(ax_atomic_check_dir(bad, &d), AX_ERR_IO);
	assert_string_equal(d.msg, want);
	unlink(file);

	char dir[600];
	path_in(dir, sizeof dir, "a-directory");
	assert_int_equal(mkdir(dir, 0777), 0);
	FILE *f = ax_atomic_open(&a, dir, &d);
	assert_non_null(f);
	fputs("x", f);
	assert_int_equal(ax_atomic_commit(&a, &d), AX_ERR_IO);
	assert_string_equal(d.file, dir);
	assert_string_equal(d.msg, "cannot replace it: Is a directory");
	assert_int_equal(count_entries(), 1);   /* no temporary left */
	assert_int_equal(ax_atomic_check_dir(dir, &d), AX_OK);

	if (geteuid() != 0) {   /* root writes into read-only directories */
		assert_int_equal(chmod(dir, 0555), 0);
		snprintf(bad, sizeof bad, "%s/x.csv", dir);
		assert_null(ax_atomic_open(&a, bad, &d));
		assert_string_equal(d.file, bad);
		snprintf(want, sizeof want, "cannot create a file in directory "
			 "%s: Permission denied", dir);
		assert_string_equal(d.msg, want);
		assert_int_equal(ax_atomic_check_dir(bad, &d), AX_ERR_IO);
		assert_string_equal(d.msg, want);
		assert_int_equal(chmod(dir, 0755), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* Temporaries of dead processes (a sweep killed while writing best.csv)
 * are removed by the next open of the same target; those of live
 * processes, other targets and odd names stay. */
static void test_dead_tmps_removed(void **state)
{
	(void)state;
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);   /* now dead */
	char path[600], dead[700], dead_k[700], live[700], other[700], odd[700];
	path_in(path, sizeof path, "best.csv");
	snprintf(dead, sizeof dead, "%s.tmp.%ld", path, (long)child);
	snprintf(dead_k, sizeof dead_k, "%s.tmp.%ld.3", path, (long)child);
	snprintf(live, sizeof live, "%s.tmp.%ld", path, (long)getppid());
	path_in(other, sizeof other, "pareto.csv.tmp.1");
	snprintf(odd, sizeof odd, "%s.tmp.%ldx", path, (long)child);
	spit(dead, "d", 1);
	spit(dead_k, "d", 1);
	spit(live, "l", 1);
	spit(other, "o", 1);
	spit(odd, "x", 1);
	struct ax_atomic a;
	struct ax_diag d = {0};
	FILE *f = ax_atomic_open(&a, path, &d);
	assert_non_null(f);
	fputs("new", f);
	assert_int_equal(ax_atomic_commit(&a, &d), AX_OK);
	assert_int_equal(access(dead, F_OK), -1);
	assert_int_equal(access(dead_k, F_OK), -1);
	assert_int_equal(access(live, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);
	assert_int_equal(access(odd, F_OK), 0);
	unlink(live);
	unlink(other);
	unlink(odd);
	unlink(path);
}

static void test_jsonl_append(void **state)
{
	(void)state;
	char path[600];
	path_in(path, sizeof path, "points.jsonl");
	struct ax_jsonl j;
	struct ax_diag d = {0};
	assert_int_equal(ax_jsonl_open(&j, path, &d), AX_OK);
	assert_int_equal(ax_jsonl_append(&j, "{\"id\":\"a\"}", 10, &d), AX_OK);
	assert_int_equal(ax_jsonl_append(&j, "{\"id\":\"b\"}\n", 11, &d), AX_OK);
	assert_int_equal(ax_jsonl_append(&j, "{\"id\":\n\"c\"}", 11, &d),
			 AX_ERR_INPUT);
	assert_int_equal(ax_jsonl_append(&j, "\n", 1, &d), AX_ERR_INPUT);
	assert_int_equal(ax_jsonl_close(&j, &d), AX_OK);
	/* Reopening appends after what is there. */
	assert_int_equal(ax_jsonl_open(&j, path, &d), AX_OK);
	assert_int_equal(ax_jsonl_append(&j, "{\"id\":\"c\"}", 10, &d), AX_OK);
	assert_int_equal(ax_jsonl_close(&j, &d), AX_OK);
	size_t len;
	char *s = slurp(path, &len);
	assert_string_equal(s, "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\"}\n");
	free(s);

	/* A torn tail blocks appends until recovered. */
	FILE *f = fopen(path, "ab");
	fputs("{\"id\":\"d\",\"mac", f);
	fclose(f);
	assert_int_equal(ax_jsonl_open(&j, path, &d), AX_ERR_FORMAT);
	assert_non_null(strstr(d.msg, "partial line"));
	int64_t removed = -1;
	assert_int_equal(ax_jsonl_recover(path, &removed, &d), AX_OK);
	assert_int_equal(removed, 14);
	assert_int_equal(ax_jsonl_open(&j, path, &d), AX_OK);
	assert_int_equal(ax_jsonl_append(&j, "{\"id\":\"d\"}", 10, &d), AX_OK);
	assert_int_equal(ax_jsonl_close(&j, &d), AX_OK);
	s = slurp(path, &len);
	assert_string_equal(s, "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\"}\n"
			       "{\"id\":\"d\"}\n");
	free(s);
	unlink(path);
}

/* Simulates a kill after every possible prefix of a file's bytes and
 * checks that recovery keeps exactly the complete lines. */
static void test_recover_torn(void **state)
{
	(void)state;
	char path[600];
	path_in(path, sizeof path, "torn.jsonl");
	/* A long line, so the backward scan crosses its 4096-byte blocks. */
	static char full[3 * 5000];
	size_t n = 0;
	n += (size_t)sprintf(full + n, "{\"id\":\"1\"}\n");
	n += (size_t)sprintf(full + n, "{\"id\":\"2\",\"pad\":\"");
	memset(full + n, 'x', 9000);
	n += 9000;
	n += (size_t)sprintf(full + n, "\"}\n{\"id\":\"3\"}\n");
	size_t nl[3], k = 0;
	for (size_t i = 0; i < n; i++)
		if (full[i] == '\n')
			nl[k++] = i + 1;
	assert_int_equal(k, 3);
	struct ax_diag d = {0};
	for (size_t cut = 0; cut <= n; cut += (cut < 40 || n - cut < 40) ? 1 : 97) {
		spit(path, full, cut);
		size_t want = 0;
		for (size_t i = 0; i < 3; i++)
			if (nl[i] <= cut)
				want = nl[i];
		int64_t removed = -1;
		assert_int_equal(ax_jsonl_recover(path, &removed, &d), AX_OK);
		assert_int_equal(removed, (int64_t)(cut - want));
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, (off_t)want);
	}
	unlink(path);
	/* A missing file has nothing to recover. */
	int64_t removed = -1;
	assert_int_equal(ax_jsonl_recover(path, &removed, &d), AX_OK);
	assert_int_equal(removed, 0);
}

static void scan_expect(const char *line, size_t len, enum ax_jsonl_id want,
			const char *want_id, size_t want_len)
{
	char *out = malloc(len + 1);
	assert_non_null(out);
	size_t out_len = 0;
	enum ax_jsonl_id got = ax_jsonl_scan_id(line, len, out, &out_len);
	if (got != want) {
		free(out);
		fail_msg("line <%.*s>: got %d want %d", (int)len, line, got, want);
	}
	if (want == AX_JSONL_ID_FOUND) {
		assert_int_equal(out_len, want_len);
		assert_memory_equal(out, want_id, want_len);
	}
	free(out);
}

#define SCAN(lit, st, id) scan_expect(lit, sizeof lit - 1, st, id, sizeof id - 1)

static void test_scan_id(void **state)
{
	(void)state;
	const enum ax_jsonl_id F = AX_JSONL_ID_FOUND, A = AX_JSONL_ID_ABSENT,
			       M = AX_JSONL_ID_MALFORMED;
	SCAN("{\"id\":\"3f2a\"}", F, "3f2a");
	SCAN("  { \"id\" :\t\"x y\" , \"macs\": 1}", F, "x y");
	SCAN("{\"name\":\"id\",\"id\":\"real\"}", F, "real");
	SCAN("{\"cfg\":{\"id\":\"nested\"},\"id\":\"top\"}", F, "top");
	SCAN("{\"a\":[\"id\",{\"id\":1}],\"id\":\"top\"}", F, "top");
	SCAN("{\"s\":\"\\\"id\\\":\\\"fake\\\"\",\"id\":\"ok\"}", F, "ok");
	SCAN("{\"id\":\"a\",\"id\":\"b\"}", F, "b");  /* the last wins */
	SCAN("{\"id\":\"q\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\"}", F,
	     "q\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
	SCAN("{\"id\":\"\\u0000z\"}", F, "\0z");
	SCAN("{\"id\":\"\"}", F, "");
	SCAN("{\"macs\":1}", A, "");
	SCAN("{}", A, "");
	SCAN("{\"cfg\":{\"id\":\"nested\"}}", A, "");
	SCAN("{\"id\":42}", A, "");
	SCAN("{\"id\":null}", A, "");
	SCAN("", M, "");
	SCAN("   ", M, "");
	SCAN("[\"id\",\"x\"]", M, "");
	SCAN("\"id\"", M, "");
	SCAN("{\"id\":\"unterminated", M, "");
	SCAN("{\"id\":\"bad\\q\"}", M, "");
	SCAN("{\"id\":\"lone\\ud800\"}", M, "");
	SCAN("{\"id\":\"low\\udc00\"}", M, "");
	SCAN("{\"id\":\"short\\u12\"}", M, "");
	SCAN("{\"id\":\"ends\\", M, "");
	SCAN("{\"id\"", M, "");
	SCAN("{\"id\":", M, "");
	SCAN("{\"i", M, "");
	SCAN("{\"\\", M, "");
	SCAN("{\"id\":\"ctl\x01\"}", M, "");
	SCAN("{\"\\u0069d\":\"escaped key\"}", F, "escaped key");
	SCAN("{\"id\":\"x\"} trailing", M, "");
	SCAN("{\"id\":\"bad utf-8 \xff\"}", M, "");

	/* Random bytes and random cuts of a valid line: never crashes, never
	 * reads outside the line (ASan checks every read). */
	const char good[] = "{\"cfg\":{\"id\":[1,\"}\"]},\"id\":\"ab\\u00e9\\\"c\"}";
	for (size_t cut = 0; cut < sizeof good; cut++) {
		char *copy = malloc(cut ? cut : 1);
		memcpy(copy, good, cut);
		char out[sizeof good];
		size_t out_len;
		ax_jsonl_scan_id(copy, cut, out, &out_len);
		free(copy);
	}
	uint32_t x = 2463534242u;
	const char alphabet[] = "{}[]\":,\\uid0aZ \x80\xff\n";
	for (int t = 0; t < 20000; t++) {
		size_t len = (size_t)(t % 40) + 1;
		char *buf = malloc(len), *out = malloc(len);
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (t & 1) ? (char)(x & 0xff)
					 : alphabet[x % (sizeof alphabet - 1)];
		}
		size_t out_len = 0;
		if (ax_jsonl_scan_id(buf, len, out, &out_len) == AX_JSONL_ID_FOUND)
			assert_true(out_len <= len);
		free(buf);
		free(out);
	}
}

struct ids {
	char text[512];
	int64_t lines[16];
	int n;
};

static enum ax_status collect(void *ctx, const char *id, size_t len,
			      int64_t line, struct ax_diag *d)
{
	struct ids *c = ctx;
	size_t used = strlen(c->text);
	snprintf(c->text + used, sizeof c->text - used, "%.*s;", (int)len, id);
	c->lines[c->n++] = line;
	if (len == 4 && memcmp(id, "stop", 4) == 0)
		return ax_diag_set(d, AX_ERR_INPUT, NULL, 0, 0, "stopped");
	return AX_OK;
}

static void test_read_ids(void **state)
{
	(void)state;
	char path[600];
	path_in(path, sizeof path, "ids.jsonl");
	const char data[] =
		"{\"id\":\"a1\",\"bleu\":35.3}\n"
		"not json at all\n"
		"\n"
		"{\"macs\":1}\n"
		"{\"id\":\"b\\u00e9\"}\r\n"
		"\x00\xff{\"id\":\"x\"}\n"
		"{\"id\":\"c3\"}\n"
		"{\"id\":\"torn";
	spit(path, data, sizeof data - 1);
	struct ids c = {0};
	int64_t skipped = -1;
	struct ax_diag d = {0};
	assert_int_equal(ax_jsonl_read_ids(path, collect, &c, &skipped, &d), AX_OK);
	assert_string_equal(c.text, "a1;b\xc3\xa9;c3;");
	assert_int_equal(c.n, 3);
	assert_int_equal(c.lines[0], 1);
	assert_int_equal(c.lines[1], 5);
	assert_int_equal(c.lines[2], 7);
	assert_int_equal(skipped, 4);

	/* The callback can stop the reading with its own status. */
	spit(path, "{\"id\":\"go\"}\n{\"id\":\"stop\"}\n{\"id\":\"never\"}\n", 42);
	memset(&c, 0, sizeof c);
	assert_int_equal(ax_jsonl_read_ids(path, collect, &c, NULL, &d),
			 AX_ERR_INPUT);
	assert_string_equal(c.text, "go;stop;");
	unlink(path);

	/* A missing file holds no ids. */
	memset(&c, 0, sizeof c);
	assert_int_equal(ax_jsonl_read_ids(path, collect, &c, &skipped, &d), AX_OK);
	assert_int_equal(c.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_stale_tmp_and_errors),
		cmocka_unit_test(test_errors_name_target),
		cmocka_unit_test(test_dead_tmps_removed),
		cmocka_unit_test(test_jsonl_append),
		cmocka_unit_test(test_recover_torn),
		cmocka_unit_test(test_scan_id),
		cmocka_unit_test(test_read_ids),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
