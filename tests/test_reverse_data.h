/*
 * test_reverse_data.h - the reverse task as a dataset for the training
 * tests: random sentences of 3..6 ids and their reversal, written as
 * token files (src/data/dataset.h) with the manifest's "files" entries,
 * and the manifest itself.
 * Needs cmocka, dataset.h and <sys/stat.h> included before it.
 */
#ifndef AX_TEST_REVERSE_DATA_H
#define AX_TEST_REVERSE_DATA_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t rng = 88172645463325252ull;

static uint32_t next(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* n random sentences of 3..6 ids in [4, vocab); tgt = reversed src. */
static void write_split(const char *dir, const char *split, int64_t n,
			int64_t vocab, int64_t *toks, char *files, size_t fsize)
{
	uint64_t *off = calloc((size_t)n + 1, sizeof *off);
	uint32_t *src = calloc((size_t)n * 6, sizeof *src);
	uint32_t *tgt = calloc((size_t)n * 6, sizeof *tgt);
	assert_true(off && src && tgt);
	for (int64_t i = 0; i < n; i++) {
		uint32_t len = 3 + next(4);
		off[i + 1] = off[i] + len;
		for (uint32_t k = 0; k < len; k++)
			src[off[i] + k] = 4 + next((uint32_t)vocab - 4);
		for (uint32_t k = 0; k < len; k++)
			tgt[off[i] + k] = src[off[i] + len - 1 - k];
	}
	*toks = (int64_t)off[n];
	struct ax_diag d = { 0 };
	for (int side = 0; side < 2; side++) {
		char path[700], hex[65];
		snprintf(path, sizeof path, "%s/%s.%s.bin", dir, split, side ? "tgt" : "src");
		assert_int_equal(ax_tokens_write(path, n, off, side ? tgt : src, &d), AX_OK);
		assert_int_equal(ax_sha256_file(path, hex, &d), AX_OK);
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		size_t l = strlen(files);
		snprintf(files + l, fsize - l, "%s\"%s.%s.bin\": {\"bytes\": %lld, "
			 "\"sha256\": \"%s\"}", l ? ", " : "", split,
			 side ? "tgt" : "src", (long long)st.st_size, hex);
	}
	free(off), free(src), free(tgt);
}

/* dir/manifest.json of a reverse-task dataset: the three splits of n[]
 * sentences and toks[] tokens a side (from write_split), the files[]
 * entries write_split (and any other writer) collected. */
static void write_manifest(const char *dir, int64_t vocab, const int64_t n[3],
			   const int64_t toks[3], const char *files)
{
	static const char *const splits[3] = { "train", "valid", "test" };
	char path[700];
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	FILE *m = fopen(path, "w");
	assert_non_null(m);
	fprintf(m, "{\"format\": \"archex-dataset\", \"version\": 1, \"name\": \"rev\","
		" \"task\": \"translation\", \"vocab\": {\"source\": %lld, \"target\": %lld},"
		" \"splits\": {", (long long)vocab, (long long)vocab);
	for (int s = 0; s < 3; s++)
		fprintf(m, "%s\"%s\": {\"sentences\": %lld, \"source_tokens\": %lld,"
			" \"target_tokens\": %lld}", s ? ", " : "", splits[s],
			(long long)n[s], (long long)toks[s], (long long)toks[s]);
	fprintf(m, "}, \"files\": {%s}}\n", files);
	fclose(m);
}

#endif
