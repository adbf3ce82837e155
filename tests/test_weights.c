/*
 * test_weights.c - the weights file: round trip, atomic save (also with
 * stale temporaries and two concurrent writers), and one test
 * per corruption class (bad magic, version, header CRC, flipped data byte,
 * truncation at every offset, wrong name, wrong shape, missing and extra
 * tensors, missing file), each asserting the status and a fragment of the
 * message; plus the deterministic initialiser.
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

#include "weights.h"

static char dir[64];
static char path[128];

/* three tensors: a matrix, a vector, a single row */
#define NT 3
static const char *names[NT] = {"enc.0.fc1.weight", "enc.0.fc1.bias", "embed.row"};
static const int64_t shapes[NT][2] = {{3, 5}, {5, 1}, {1, 7}};
static float src[NT][16], dst[NT][16];

static void entries(struct ax_weights_entry *e, float (*data)[16])
{
	for (int k = 0; k < NT; k++)
		e[k] = (struct ax_weights_entry){ .name = names[k], .rows = shapes[k][0],
						  .cols = shapes[k][1], .data = data[k] };
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ax_weights_XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/w.axwt", dir);
	for (int k = 0; k < NT; k++)
		ax_weights_init_uniform(src[k], 16, 0.5f, 42, (uint64_t)k);
	struct ax_weights_entry e[NT];
	entries(e, src);
	struct ax_diag d = {0};
	return ax_weights_save(path, e, NT, &d) == AX_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static unsigned char *slurp(const char *p, long *size)
{
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*size = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)*size + 1);
	assert_int_equal(fread(b, 1, (size_t)*size, f), (size_t)*size);
	fclose(f);
	return b;
}

static void spit(const char *p, const unsigned char *b, long size)
{
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, (size_t)size, f), (size_t)size);
	fclose(f);
}

/* Loads `p` against the standard entries, expecting status `want` and a
 * message containing `frag`. */
static void expect_load(const char *p, enum ax_status want, const char *frag)
{
	struct ax_weights_entry e[NT];
	entries(e, dst);
	struct ax_diag d = {0};
	enum ax_status st = ax_weights_load(p, e, NT, &d);
	if (st != want || !strstr(d.msg, frag) || strcmp(d.file, p) != 0) {
		print_error("load %s: status %d (want %d), msg '%s' (want '%s'), "
			    "file '%s'\n", p, st, want, d.msg, frag, d.file);
		fail();
	}
}

static void test_round_trip(void **state)
{
	(void)state;
	memset(dst, 0, sizeof dst);
	struct ax_weights_entry e[NT];
	entries(e, dst);
	struct ax_diag d = {0};
	assert_int_equal(ax_weights_load(path, e, NT, &d), AX_OK);
	for (int k = 0; k < NT; k++)
		assert_memory_equal(dst[k], src[k],
				    (size_t)(shapes[k][0] * shapes[k][1]) * sizeof(float));
	/* untouched past each tensor's size */
	assert_true(dst[0][15] == 0.0f);
	/* no temporary left behind; data 64-byte aligned; a load in another
	 * order of entries also works */
	char tmp[200];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(access(tmp, F_OK), -1);
	long size;
	unsigned char *b = slurp(path, &size);
	assert_memory_equal(b, "AXWT", 4);
	assert_int_equal(size % 4, 0);
	free(b);
	struct ax_weights_entry r[NT] = {e[2], e[0], e[1]};
	memset(dst, 0, sizeof dst);
	assert_int_equal(ax_weights_load(path, r, NT, &d), AX_OK);
	assert_memory_equal(dst[2], src[2], 7 * sizeof(float));
}

static void test_save_atomic(void **state)
{
	(void)state;
	long before, after;
	unsigned char *b0 = slurp(path, &before);
	/* a failing save (no data) leaves the old file as it was */
	struct ax_weights_entry bad[1] = {{ .name = "x", .rows = 2, .cols = 2 }};
	struct ax_diag d = {0};
	assert_int_equal(ax_weights_save(path, bad, 1, &d), AX_ERR_INPUT);
	unsigned char *b1 = slurp(path, &after);
	assert_int_equal(before, after);
	assert_memory_equal(b0, b1, (size_t)before);
	free(b0), free(b1);
	/* duplicate names are refused */
	float x[1] = {1};
	struct ax_weights_entry dup[2] = {{ .name = "a", .rows = 1, .cols = 1, .data = x },
					  { .name = "a", .rows = 1, .cols = 1, .data = x }};
	assert_int_equal(ax_weights_save(path, dup, 2, &d), AX_ERR_INPUT);
	assert_non_null(strstr(d.msg, "named twice"));
	/* an unwritable directory: I/O error naming the path given */
	char p[160];
	snprintf(p, sizeof p, "%s/no/such/dir/w.axwt", dir);
	struct ax_weights_entry one[1] = {{ .name = "a", .rows = 1, .cols = 1, .data = x }};
	assert_int_equal(ax_weights_save(p, one, 1, &d), AX_ERR_IO);
	assert_string_equal(d.file, p);
	assert_string_equal(d.msg, "cannot open for writing: No such file or directory");
	/* pre-existing temporaries (the fixed PATH.tmp older versions used,
	 * this process's own PATH.tmp.<pid>) are neither used nor truncated:
	 * the save picks a fresh name and leaves a valid file */
	char tmp[160], mine[200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	snprintf(mine, sizeof mine, "%s.tmp.%ld", path, (long)getpid());
	spit(tmp, (const unsigned char *)"junk", 4);
	spit(mine, (const unsigned char *)"mine", 4);
	struct ax_weights_entry e[NT];
	entries(e, src);
	assert_int_equal(ax_weights_save(path, e, NT, &d), AX_OK);
	struct ax_weights_entry got[NT];
	entries(got, dst);
	assert_int_equal(ax_weights_load(path, got, NT, &d), AX_OK);
	long n;
	unsigned char *b = slurp(tmp, &n);
	assert_int_equal(n, 4);
	free(b);
	b = slurp(mine, &n);
	assert_int_equal(n, 4);
	assert_memory_equal(b, "mine", 4);
	free(b);
	unlink(tmp);
	unlink(mine);
}

/* Two processes saving different weights to one path at once, many
 * times: every save succeeds and the file is always one complete
 * version (a shared fixed temporary would interleave their bytes). */
static void test_concurrent_saves(void **state)
{
	(void)state;
	enum { ROUNDS = 40 };
	pid_t kids[2];
	for (int w = 0; w < 2; w++) {
		kids[w] = fork();
		assert_true(kids[w] >= 0);
		if (kids[w] == 0) {
			float mine[NT][16];
			for (int k = 0; k < NT; k++)
				for (int j = 0; j < 16; j++)
					mine[k][j] = (float)(w + 1);
			struct ax_weights_entry e[NT];
			entries(e, mine);
			struct ax_diag d = {0};
			for (int r = 0; r < ROUNDS; r++)
				if (ax_weights_save(path, e, NT, &d) != AX_OK)
					_exit(1);
			_exit(0);
		}
	}
	for (int w = 0; w < 2; w++) {
		int status;
		assert_int_equal(waitpid(kids[w], &status, 0), kids[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	struct ax_weights_entry e[NT];
	entries(e, dst);
	struct ax_diag d = {0};
	assert_int_equal(ax_weights_load(path, e, NT, &d), AX_OK);
	for (int k = 0; k < NT; k++)
		for (int j = 0; j < shapes[k][0] * shapes[k][1]; j++)
			assert_true(dst[k][j] == dst[0][0] &&
				    (dst[0][0] == 1.0f || dst[0][0] == 2.0f));
	/* no temporary is left behind */
	char cmd[300];
	snprintf(cmd, sizeof cmd, "ls '%s' | grep -q 'w.axwt.tmp'", dir);
	assert_int_not_equal(system(cmd), 0);
	/* restore the standard file for the other tests */
	entries(e, src);
	assert_int_equal(ax_weights_save(path, e, NT, &d), AX_OK);
}

static void test_missing_file(void **state)
{
	(void)state;
	char p[160];
	snprintf(p, sizeof p, "%s/absent.axwt", dir);
	expect_load(p, AX_ERR_IO, "cannot open");
}

/* Writes a mutated copy of the good file to `out`. */
static void mutate(const char *out, long at, unsigned char xor_mask, long keep)
{
	long size;
	unsigned char *b = slurp(path, &size);
	if (at >= 0)
		b[at] ^= xor_mask;
	spit(out, b, keep >= 0 ? keep : size);
	free(b);
}

static void test_corruptions(void **state)
{
	(void)state;
	char p[160];
	snprintf(p, sizeof p, "%s/bad.axwt", dir);
	mutate(p, 0, 0x01, -1);
	expect_load(p, AX_ERR_FORMAT, "bad magic");
	mutate(p, 4, 0x03, -1);   /* version 1 -> 2 */
	expect_load(p, AX_ERR_FORMAT, "version 2");
	mutate(p, 14, 0x20, -1);  /* a letter of the first name */
	expect_load(p, AX_ERR_FORMAT, "header CRC");
	long size;
	free(slurp(path, &size));
	mutate(p, size - 1, 0x80, -1);   /* last data byte: embed.row */
	expect_load(p, AX_ERR_FORMAT, "tensor 'embed.row': data CRC");
	/* count field larger than the file could hold */
	mutate(p, 8, 0x70, -1);
	expect_load(p, AX_ERR_FORMAT, "truncated");
}

static void test_truncation(void **state)
{
	(void)state;
	char p[160];
	snprintf(p, sizeof p, "%s/short.axwt", dir);
	long size;
	free(slurp(path, &size));
	/* every proper prefix fails cleanly, as "truncated" */
	for (long keep = 0; keep < size; keep++) {
		mutate(p, -1, 0, keep);
		expect_load(p, AX_ERR_FORMAT, "truncated");
	}
}

/* Every single-byte corruption either fails, or hit unchecked padding
 * and loads the original data; none crashes (ASan build). */
static void test_every_byte(void **state)
{
	(void)state;
	char p[160];
	snprintf(p, sizeof p, "%s/flip.axwt", dir);
	long size;
	free(slurp(path, &size));
	for (long at = 0; at < size; at++) {
		mutate(p, at, 0xFF, -1);
		struct ax_weights_entry e[NT];
		entries(e, dst);
		struct ax_diag d = {0};
		memset(dst, 0, sizeof dst);
		if (ax_weights_load(p, e, NT, &d) == AX_OK) {
			for (int k = 0; k < NT; k++)
				assert_memory_equal(dst[k], src[k],
						    (size_t)(shapes[k][0] * shapes[k][1]) *
						    sizeof(float));
		} else {
			assert_true(d.msg[0] != '\0');
		}
	}
}

static void test_table_mismatch(void **state)
{
	(void)state;
	struct ax_weights_entry e[NT];
	struct ax_diag d = {0};
	char p[160];
	snprintf(p, sizeof p, "%s/other.axwt", dir);

	/* wrong name at the same position */
	entries(e, src);
	e[1].name = "enc.0.fc2.bias";
	assert_int_equal(ax_weights_save(p, e, NT, &d), AX_OK);
	expect_load(p, AX_ERR_FORMAT,
		    "tensor #1 is 'enc.0.fc2.bias' in the file but the model "
		    "expects 'enc.0.fc1.bias'");
	/* wrong shape: (5, 3) for (3, 5) */
	entries(e, src);
	e[0].rows = 5, e[0].cols = 3;
	assert_int_equal(ax_weights_save(p, e, NT, &d), AX_OK);
	expect_load(p, AX_ERR_FORMAT,
		    "tensor 'enc.0.fc1.weight' has shape (5, 3) in the file but "
		    "the model expects (3, 5)");
	/* a vector stored as a row: (1, 5) for (5, 1) */
	entries(e, src);
	e[1].rows = 1, e[1].cols = 5;
	assert_int_equal(ax_weights_save(p, e, NT, &d), AX_OK);
	expect_load(p, AX_ERR_FORMAT, "(1, 5) in the file but the model expects (5, 1)");
	/* a tensor missing */
	entries(e, src);
	assert_int_equal(ax_weights_save(p, e, NT - 1, &d), AX_OK);
	expect_load(p, AX_ERR_FORMAT, "tensor 'embed.row' is missing from the file");
	/* an extra tensor */
	struct ax_weights_entry more[NT + 1];
	entries(more, src);
	more[NT] = (struct ax_weights_entry){ .name = "extra", .rows = 1, .cols = 1,
					     .data = src[0] };
	assert_int_equal(ax_weights_save(p, more, NT + 1, &d), AX_OK);
	expect_load(p, AX_ERR_FORMAT, "tensor 'extra', which the model does not");
}

static void test_init_uniform(void **state)
{
	(void)state;
	float a[100], b[100], c[100];
	ax_weights_init_uniform(a, 100, 0.25f, 7, 3);
	ax_weights_init_uniform(b, 40, 0.25f, 7, 3);     /* a prefix */
	ax_weights_init_uniform(c, 100, 0.25f, 7, 4);    /* another stream */
	assert_memory_equal(a, b, 40 * sizeof(float));
	int same = 0;
	double mean = 0;
	for (int k = 0; k < 100; k++) {
		assert_true(a[k] >= -0.25f && a[k] < 0.25f);
		same += a[k] == c[k];
		mean += a[k];
	}
	assert_true(same < 5);
	assert_true(mean / 100 > -0.08 && mean / 100 < 0.08);
	ax_weights_init_uniform(c, 100, 0.25f, 8, 3);    /* another seed */
	assert_true(memcmp(a, c, sizeof a) != 0);
	/* CRC-32 check value */
	assert_int_equal(ax_crc32(0, "123456789", 9), 0xCBF43926u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_save_atomic),
		cmocka_unit_test(test_concurrent_saves),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_corruptions),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_table_mismatch),
		cmocka_unit_test(test_init_uniform),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
