/*
 * test_dataset.c - token files and dataset manifests (src/data/dataset.h):
 * a write/read round trip, every class of corrupt file refused with its
 * message, ids checked against the vocabulary, and manifests whose sizes
 * or checksums do not match their files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dataset.h"
#include "test_tmpdir.h"

static int make_dir(void **state)
{
	(void)state;
	return ax_test_tmpdir_make("dataset");
}

static int remove_dir(void **state)
{
	(void)state;
	return ax_test_tmpdir_remove();
}

/* three sentences: [5 6 7], [], [8 9] */
static const uint64_t off3[] = { 0, 3, 3, 5 };
static const uint32_t id3[] = { 5, 6, 7, 8, 9 };

static void path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static size_t read_bytes(const char *path, unsigned char *p, size_t cap)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(p, 1, cap, f);
	fclose(f);
	return n;
}

static void test_round_trip(void **state)
{
	(void)state;
	char path[512];
	struct ax_diag d = { 0 };
	struct ax_tokens t;
	path_of(path, sizeof path, "rt.bin");
	assert_int_equal(ax_tokens_write(path, 3, off3, id3, &d), AX_OK);
	assert_int_equal(ax_tokens_read(path, 10, &t, &d), AX_OK);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.n_tokens, 5);
	int64_t len;
	const uint32_t *s = ax_tokens_sentence(&t, 0, &len);
	assert_int_equal(len, 3);
	assert_int_equal(s[2], 7);
	ax_tokens_sentence(&t, 1, &len);
	assert_int_equal(len, 0);
	s = ax_tokens_sentence(&t, 2, &len);
	assert_int_equal(len, 2);
	assert_int_equal(s[0], 8);
	ax_tokens_free(&t);
	/* 32 header bytes + 4 offsets + 5 ids, little-endian */
	unsigned char b[256];
	assert_int_equal(read_bytes(path, b, sizeof b), 32 + 4 * 8 + 5 * 4);
	assert_memory_equal(b, "AXTOKEN1\x01\0\0\0\0\0\0\0\x03", 17);
	assert_int_equal(b[32 + 4 * 8], 5);
}

static void expect_read_error(const char *path, int64_t vocab,
			      enum ax_status st, const char *msg)
{
	struct ax_diag d = { 0 };
	struct ax_tokens t;
	assert_int_equal(ax_tokens_read(path, vocab, &t, &d), st);
	if (!strstr(d.msg, msg))
		fail_msg("'%s' does not say '%s'", d.msg, msg);
	assert_null(t.off);
}

static void test_corrupt_files(void **state)
{
	(void)state;
	char good[512], bad[512];
	struct ax_diag d = { 0 };
	unsigned char b[256];
	path_of(good, sizeof good, "good.bin");
	path_of(bad, sizeof bad, "bad.bin");
	assert_int_equal(ax_tokens_write(good, 3, off3, id3, &d), AX_OK);
	size_t n = read_bytes(good, b, sizeof b);

	expect_read_error(good, 9, AX_ERR_INPUT,
			  "sentence 3, token 2: id 9 is outside the vocabulary (9 ids)");
	write_bytes(bad, b, n - 1);
	expect_read_error(bad, 0, AX_ERR_FORMAT, "do not fill");
	write_bytes(bad, b, 20);
	expect_read_error(bad, 0, AX_ERR_FORMAT, "truncated token file");
	b[0] = 'X';
	write_bytes(bad, b, n);
	expect_read_error(bad, 0, AX_ERR_FORMAT, "bad magic");
	b[0] = 'A';
	b[8] = 2;
	write_bytes(bad, b, n);
	expect_read_error(bad, 0, AX_ERR_FORMAT, "version 2");
	b[8] = 1;
	b[32 + 8] = 4;   /* off[1] = 4 > off[2] = 3 */
	write_bytes(bad, b, n);
	expect_read_error(bad, 0, AX_ERR_FORMAT, "offsets decrease at sentence 2");
	b[32 + 8] = 3;
	b[16] = 0xff;    /* a huge sentence count must not be allocated */
	b[23] = 0x7f;
	write_bytes(bad, b, n);
	expect_read_error(bad, 0, AX_ERR_FORMAT, "do not fill");
	path_of(bad, sizeof bad, "missing.bin");
	expect_read_error(bad, 0, AX_ERR_IO, "cannot open");
}

/* A translation dataset: train/valid/test of one sentence pair each. */
static void write_dataset(const char *sub, const char *sha_override)
{
	char dir[512], path[600];
	struct ax_diag d = { 0 };
	snprintf(dir, sizeof dir, "%s/%s", tmpdir, sub);
	assert_int_equal(mkdir(dir, 0777), 0);
	static const uint64_t off[] = { 0, 2 };
	static const uint32_t id[] = { 4, 5 };
	FILE *m;
	char hex[65];
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	m = fopen(path, "w");
	assert_non_null(m);
	fprintf(m, "{\"format\": \"archex-dataset\", \"version\": 1, \"name\": \"t\","
		" \"task\": \"translation\", \"vocab\": {\"source\": 6, \"target\": 6},"
		" \"splits\": {");
	for (int s = 0; s < AX_SPLIT_COUNT; s++)
		fprintf(m, "%s\"%s\": {\"sentences\": 1, \"source_tokens\": 2,"
			" \"target_tokens\": 2}", s ? ", " : "", ax_data_split_names[s]);
	fprintf(m, "}, \"files\": {");
	for (int s = 0; s < AX_SPLIT_COUNT; s++)
		for (int side = 0; side < 2; side++) {
			snprintf(path, sizeof path, "%s/%s.%s.bin", dir,
				 ax_data_split_names[s], side ? "tgt" : "src");
			assert_int_equal(ax_tokens_write(path, 1, off, id, &d), AX_OK);
			assert_int_equal(ax_sha256_file(path, hex, &d), AX_OK);
			fprintf(m, "%s\"%s.%s.bin\": {\"bytes\": 56, \"sha256\": \"%s\"}",
				s || side ? ", " : "", ax_data_split_names[s],
				side ? "tgt" : "src",
				sha_override && s == 2 && side ? sha_override : hex);
		}
	fprintf(m, "}}\n");
	fclose(m);
}

static void test_manifest(void **state)
{
	(void)state;
	char dir[512];
	struct ax_diag d = { 0 };
	struct ax_dataset ds;
	struct ax_tokens src, tgt;
	write_dataset("ok", NULL);
	snprintf(dir, sizeof dir, "%s/ok", tmpdir);
	assert_int_equal(ax_dataset_open(dir, true, &ds, &d), AX_OK);
	assert_int_equal(ds.task, AX_DATA_TRANSLATION);
	assert_int_equal(ds.vocab_target, 6);
	assert_int_equal(ds.n_files, 6);
	assert_int_equal(ax_dataset_load(&ds, AX_SPLIT_VALID, &src, &tgt, &d), AX_OK);
	assert_int_equal(src.n, 1);
	assert_int_equal(tgt.n_tokens, 2);
	ax_tokens_free(&src);
	ax_tokens_free(&tgt);

	write_dataset("badsum", "00000000000000000000000000000000"
				"00000000000000000000000000000000");
	snprintf(dir, sizeof dir, "%s/badsum", tmpdir);
	assert_int_equal(ax_dataset_open(dir, false, &ds, &d), AX_OK);
	assert_int_equal(ax_dataset_open(dir, true, &ds, &d), AX_ERR_FORMAT);
	assert_non_null(strstr(d.msg, "does not match manifest.json"));
	assert_non_null(strstr(d.file, "test.tgt.bin"));

	snprintf(dir, sizeof dir, "%s/none", tmpdir);
	assert_int_equal(ax_dataset_open(dir, false, &ds, &d), AX_ERR_IO);
	assert_non_null(strstr(d.file, "manifest.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_corrupt_files),
		cmocka_unit_test(test_manifest),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
