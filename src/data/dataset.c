/*
 * dataset.c - token files and dataset manifests (see dataset.h and
 * docs/data-format.md): checked reading, atomic writing, SHA-256.
 */
#include "dataset.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nettle/sha2.h>

#include "atomic_io.h"
#include "json_read.h"

const char *const ax_data_task_names[] = {
	[AX_DATA_TRANSLATION] = "translation",
	[AX_DATA_LANGUAGE_MODEL] = "language_model",
};
static_assert(sizeof ax_data_task_names / sizeof ax_data_task_names[0] ==
	      AX_DATA_TASK_COUNT, "every task needs a name");

const char *const ax_data_split_names[] = {
	[AX_SPLIT_TRAIN] = "train",
	[AX_SPLIT_VALID] = "valid",
	[AX_SPLIT_TEST] = "test",
};
static_assert(sizeof ax_data_split_names / sizeof ax_data_split_names[0] ==
	      AX_SPLIT_COUNT, "every split needs a name");

#define HEADER_BYTES 32

/* ---- little-endian fields -------------------------------------------- */

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
	put_u32(p, (uint32_t)v);
	put_u32(p + 4, (uint32_t)(v >> 32));
}

/* ---- token files ------------------------------------------------------ */

static enum ax_status read_exact(FILE *f, void *buf, size_t n,
				 const char *path, struct ax_diag *d)
{
	if (fread(buf, 1, n, f) == n)
		return AX_OK;
	if (ferror(f))
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "read failed: %s",
				   strerror(errno));
	return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
			   "truncated token file (shorter than its header says)");
}

/* Header fields against the file's size: n and n_tokens must describe
 * exactly the bytes that follow, which also bounds every allocation. */
static enum ax_status check_header(const unsigned char *h, int64_t size,
				   const char *path, int64_t *n,
				   int64_t *n_tokens, struct ax_diag *d)
{
	if (memcmp(h, AX_TOKENS_MAGIC, 8) != 0)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "not an archex token file (bad magic)");
	if (get_u32(h + 8) != AX_TOKENS_VERSION)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "token file version %" PRIu32 ", this archex reads %d",
				   get_u32(h + 8), AX_TOKENS_VERSION);
	uint64_t un = get_u64(h + 16), ut = get_u64(h + 24);
	uint64_t body = (uint64_t)size - HEADER_BYTES;
	if (un >= body / 8 || ut > body / 4 ||
	    (un + 1) * 8 + ut * 4 != body)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "corrupt token file: %" PRIu64 " sentences and %"
				   PRIu64 " tokens do not fill its %" PRId64 " bytes",
				   un, ut, size);
	*n = (int64_t)un;
	*n_tokens = (int64_t)ut;
	return AX_OK;
}

static enum ax_status check_body(const struct ax_tokens *t, int64_t vocab,
				 const char *path, struct ax_diag *d)
{
	if (t->off[0] != 0 || t->off[t->n] != (uint64_t)t->n_tokens)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "corrupt token file: offsets do not run from 0 to %"
				   PRId64, t->n_tokens);
	for (int64_t i = 0; i < t->n; i++) {
		if (t->off[i + 1] < t->off[i])
			return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
					   "corrupt token file: offsets decrease at "
					   "sentence %" PRId64, i + 1);
		if (vocab <= 0)
			continue;
		for (uint64_t k = t->off[i]; k < t->off[i + 1]; k++)
			if (t->id[k] >= (uint64_t)vocab)
				return ax_diag_set(
					d, AX_ERR_INPUT, path, 0, 0,
					"sentence %" PRId64 ", token %" PRIu64 ": id %"
					PRIu32 " is outside the vocabulary (%" PRId64
					" ids)", i + 1, k - t->off[i] + 1, t->id[k], vocab);
	}
	return AX_OK;
}

/* off and id arrays from their little-endian bytes, in place. */
static void decode_body(struct ax_tokens *t)
{
	const unsigned char *p = (const unsigned char *)t->off;
	for (int64_t i = 0; i <= t->n; i++)
		t->off[i] = get_u64(p + 8 * i);
	p = (const unsigned char *)t->id;
	for (int64_t k = 0; k < t->n_tokens; k++)
		t->id[k] = get_u32(p + 4 * k);
}

enum ax_status ax_tokens_read(const char *path, int64_t vocab,
			      struct ax_tokens *t, struct ax_diag *d)
{
	unsigned char h[HEADER_BYTES];
	struct stat st;
	enum ax_status s;
	memset(t, 0, sizeof *t);
	FILE *f = fopen(path, "rb");
	if (!f)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open: %s",
				   strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		s = ax_diag_set(d, AX_ERR_IO, path, 0, 0, "not a regular file");
		goto close;
	}
	if (st.st_size < HEADER_BYTES + 8) {
		s = ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				"truncated token file (%lld bytes)",
				(long long)st.st_size);
		goto close;
	}
	if ((s = read_exact(f, h, sizeof h, path, d)) ||
	    (s = check_header(h, (int64_t)st.st_size, path, &t->n,
			      &t->n_tokens, d)))
		goto close;
	t->off = malloc((size_t)(t->n + 1) * sizeof *t->off);
	t->id = malloc((size_t)(t->n_tokens ? t->n_tokens : 1) * sizeof *t->id);
	if (!t->off || !t->id) {
		s = ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
		goto free;
	}
	if ((s = read_exact(f, t->off, (size_t)(t->n + 1) * 8, path, d)) ||
	    (s = read_exact(f, t->id, (size_t)t->n_tokens * 4, path, d)))
		goto free;
	decode_body(t);
	if ((s = check_body(t, vocab, path, d)))
		goto free;
	fclose(f);
	return AX_OK;
free:
	ax_tokens_free(t);
close:
	fclose(f);
	return s;
}

void ax_tokens_free(struct ax_tokens *t)
{
	free(t->off);
	free(t->id);
	memset(t, 0, sizeof *t);
}

enum ax_status ax_tokens_write(const char *path, int64_t n,
			       const uint64_t *off, const uint32_t *id,
			       struct ax_diag *d)
{
	struct ax_atomic a;
	unsigned char buf[HEADER_BYTES];
	FILE *f = ax_atomic_open(&a, path, d);
	if (!f)
		return d ? d->status : AX_ERR_IO;
	memcpy(buf, AX_TOKENS_MAGIC, 8);
	put_u32(buf + 8, AX_TOKENS_VERSION);
	put_u32(buf + 12, 0);
	put_u64(buf + 16, (uint64_t)n);
	put_u64(buf + 24, off[n]);
	bool ok = fwrite(buf, 1, HEADER_BYTES, f) == HEADER_BYTES;
	for (int64_t i = 0; ok && i <= n; i++) {
		put_u64(buf, off[i]);
		ok = fwrite(buf, 1, 8, f) == 8;
	}
	for (uint64_t k = 0; ok && k < off[n]; k++) {
		put_u32(buf, id[k]);
		ok = fwrite(buf, 1, 4, f) == 4;
	}
	if (!ok) {
		enum ax_status s = ax_diag_set(d, AX_ERR_IO, path, 0, 0,
					       "write failed: %s", strerror(errno));
		ax_atomic_abort(&a);
		return s;
	}
	return ax_atomic_commit(&a, d);
}

/* ---- SHA-256 ---------------------------------------------------------- */

enum ax_status ax_sha256_file(const char *path, char hex[65],
			      struct ax_diag *d)
{
	struct sha256_ctx ctx;
	unsigned char buf[1 << 16], digest[SHA256_DIGEST_SIZE];
	size_t got;
	FILE *f = fopen(path, "rb");
	if (!f)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open: %s",
				   strerror(errno));
	sha256_init(&ctx);
	while ((got = fread(buf, 1, sizeof buf, f)) > 0)
		sha256_update(&ctx, got, buf);
	bool bad = ferror(f);
	fclose(f);
	if (bad)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "read failed");
	sha256_digest(&ctx, sizeof digest, digest);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return AX_OK;
}

/* ---- a model against a dataset ---------------------------------------- */

enum ax_status ax_dataset_fits(const struct ax_dataset *ds, const char *verb,
			       const char *model, bool model_is_lm,
			       int64_t vocab_source, int64_t vocab_target,
			       struct ax_diag *d)
{
	char manifest[4096 + 32];
	bool lm = ds->task == AX_DATA_LANGUAGE_MODEL;
	const char *kind = model_is_lm ? "language" : "translation";
	snprintf(manifest, sizeof manifest, "%s/manifest.json", ds->dir);
	if (lm != model_is_lm)
		return ax_diag_set(d, AX_ERR_INPUT, manifest, 0, 0,
				   "the dataset '%s' is a %s corpus but the model '%s' "
				   "is a %s model: a %s dataset cannot %s a %s model",
				   ds->name, ax_data_task_names[ds->task], model, kind,
				   ax_data_task_names[ds->task], verb, kind);
	if (vocab_target < ds->vocab_target ||
	    (!lm && vocab_source < ds->vocab_source))
		return ax_diag_set(d, AX_ERR_INPUT, manifest, 0, 0,
				   "token ids out of the model's vocabulary: the dataset's "
				   "vocabulary (source %lld, target %lld) does not fit the "
				   "model '%s' (vocab.source %lld, vocab.target %lld): the "
				   "model needs at least the dataset's",
				   (long long)ds->vocab_source, (long long)ds->vocab_target,
				   model, (long long)vocab_source, (long long)vocab_target);
	return AX_OK;
}

/* ---- the manifest ----------------------------------------------------- */

/* Reads a whole small file (the manifest) into a NUL-terminated buffer. */
static enum ax_status slurp(const char *path, char **text, size_t *len,
			    struct ax_diag *d)
{
	struct stat st;
	FILE *f = fopen(path, "rb");
	if (!f)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open: %s",
				   strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (1 << 20)) {
		fclose(f);
		return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
				   "not a regular file of at most 1 MiB");
	}
	*text = malloc((size_t)st.st_size + 1);
	if (!*text) {
		fclose(f);
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	}
	*len = fread(*text, 1, (size_t)st.st_size, f);
	(*text)[*len] = '\0';
	fclose(f);
	return AX_OK;
}

static enum ax_status bad_field(const char *path, const char *what,
				struct ax_diag *d)
{
	return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
			   "manifest: %s is missing or has the wrong type", what);
}

static enum ax_status read_splits(const json_t *o, struct ax_dataset *ds,
				  const char *path, struct ax_diag *d)
{
	for (int s = 0; s < AX_SPLIT_COUNT; s++) {
		const json_t *sp = json_object_get(o, ax_data_split_names[s]);
		char what[64];
		snprintf(what, sizeof what, "splits.%s", ax_data_split_names[s]);
		if (!json_is_object(sp) ||
		    !ax_json_get_i64(json_object_get(sp, "sentences"), 0,
				     INT64_MAX, &ds->split[s].sentences) ||
		    !ax_json_get_i64(json_object_get(sp, "target_tokens"), 0,
				     INT64_MAX, &ds->split[s].target_tokens))
			return bad_field(path, what, d);
		const json_t *v = json_object_get(sp, "source_tokens");
		if (ds->task == AX_DATA_TRANSLATION &&
		    !ax_json_get_i64(v, 0, INT64_MAX, &ds->split[s].source_tokens))
			return bad_field(path, what, d);
	}
	return AX_OK;
}

static enum ax_status read_files(const json_t *o, struct ax_dataset *ds,
				 const char *path, struct ax_diag *d)
{
	const char *key;
	const json_t *v;
	if (!json_is_object(o))
		return bad_field(path, "files", d);
	json_object_foreach((json_t *)o, key, v) {
		if (ds->n_files == AX_DATASET_MAX_FILES)
			return ax_diag_set(d, AX_ERR_LIMIT, path, 0, 0,
					   "manifest lists more than %d files",
					   AX_DATASET_MAX_FILES);
		if (!*key || strchr(key, '/') || key[0] == '.' ||
		    strlen(key) >= sizeof ds->file[0].name)
			return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
					   "manifest: '%s' is not a file name inside "
					   "the dataset directory", key);
		int i = ds->n_files++;
		snprintf(ds->file[i].name, sizeof ds->file[i].name, "%s", key);
		char hex[80];
		if (!json_is_object(v) ||
		    !ax_json_get_i64(json_object_get(v, "bytes"), 0, INT64_MAX,
				     &ds->file[i].bytes) ||
		    !ax_json_get_str(json_object_get(v, "sha256"), hex, sizeof hex) ||
		    strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
			return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
					   "manifest: files.%s needs bytes and a "
					   "64-digit sha256", key);
		memcpy(ds->file[i].sha256, hex, 65);
	}
	return AX_OK;
}

static enum ax_status read_manifest(const json_t *root, struct ax_dataset *ds,
				    const char *path, struct ax_diag *d)
{
	char s[64];
	int64_t version;
	if (!ax_json_get_str(json_object_get(root, "format"), s, sizeof s) ||
	    strcmp(s, AX_DATASET_FORMAT) != 0)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "not an archex dataset manifest (format is not '%s')",
				   AX_DATASET_FORMAT);
	if (!ax_json_get_i64(json_object_get(root, "version"), 0, INT32_MAX,
			     &version) || version != AX_DATASET_VERSION)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "dataset version is not %d", AX_DATASET_VERSION);
	if (!ax_json_get_str(json_object_get(root, "name"), ds->name,
			     sizeof ds->name))
		return bad_field(path, "name", d);
	if (!ax_json_get_str(json_object_get(root, "task"), s, sizeof s))
		return bad_field(path, "task", d);
	if (!strcmp(s, "translation"))
		ds->task = AX_DATA_TRANSLATION;
	else if (!strcmp(s, "language_model"))
		ds->task = AX_DATA_LANGUAGE_MODEL;
	else
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "manifest: task '%s' is neither translation nor "
				   "language_model", s);
	const json_t *voc = json_object_get(root, "vocab");
	if (!json_is_object(voc) ||
	    !ax_json_get_i64(json_object_get(voc, "target"), AX_DATA_N_SPECIAL + 1,
			     INT32_MAX, &ds->vocab_target))
		return bad_field(path, "vocab.target", d);
	if (ds->task == AX_DATA_TRANSLATION &&
	    !ax_json_get_i64(json_object_get(voc, "source"), AX_DATA_N_SPECIAL + 1,
			     INT32_MAX, &ds->vocab_source))
		return bad_field(path, "vocab.source", d);
	enum ax_status st = read_splits(json_object_get(root, "splits"), ds, path, d);
	if (st)
		return st;
	return read_files(json_object_get(root, "files"), ds, path, d);
}

static enum ax_status check_files(const struct ax_dataset *ds, bool verify,
				  struct ax_diag *d)
{
	for (int i = 0; i < ds->n_files; i++) {
		char path[4096 + 160];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", ds->dir, ds->file[i].name);
		if (stat(path, &st) != 0)
			return ax_diag_set(d, AX_ERR_IO, path, 0, 0,
					   "listed in manifest.json but missing: %s",
					   strerror(errno));
		if (st.st_size != ds->file[i].bytes)
			return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
					   "has %lld bytes, manifest.json says %" PRId64,
					   (long long)st.st_size, ds->file[i].bytes);
		if (!verify)
			continue;
		char hex[65];
		enum ax_status s = ax_sha256_file(path, hex, d);
		if (s)
			return s;
		if (strcmp(hex, ds->file[i].sha256) != 0)
			return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
					   "SHA-256 %s does not match manifest.json's %s",
					   hex, ds->file[i].sha256);
	}
	return AX_OK;
}

enum ax_status ax_dataset_open(const char *dir, bool verify,
			       struct ax_dataset *ds, struct ax_diag *d)
{
	char path[4096 + 32];
	char *text = NULL;
	size_t len = 0;
	memset(ds, 0, sizeof *ds);
	if (!dir || !*dir || strlen(dir) >= sizeof ds->dir)
		return ax_diag_set(d, AX_ERR_INPUT, dir ? dir : "", 0, 0,
				   "a dataset directory is needed");
	snprintf(ds->dir, sizeof ds->dir, "%s", dir);
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	enum ax_status s = slurp(path, &text, &len, d);
	if (s)
		return s;
	int col = 0;
	json_t *root = ax_json_parse(text, len, &col);
	free(text);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "not valid JSON (stopped after byte %d)", col);
	}
	s = read_manifest(root, ds, path, d);
	json_decref(root);
	if (s)
		return s;
	return check_files(ds, verify, d);
}

static enum ax_status load_side(const struct ax_dataset *ds,
				enum ax_data_split split, const char *side,
				int64_t vocab, int64_t tokens,
				struct ax_tokens *t, struct ax_diag *d)
{
	char path[4096 + 32];
	snprintf(path, sizeof path, "%s/%s.%s.bin", ds->dir,
		 ax_data_split_names[split], side);
	enum ax_status s = ax_tokens_read(path, vocab, t, d);
	if (s)
		return s;
	if (t->n != ds->split[split].sentences || t->n_tokens != tokens) {
		s = ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				"holds %" PRId64 " sentences and %" PRId64
				" tokens, manifest.json says %" PRId64 " and %" PRId64,
				t->n, t->n_tokens, ds->split[split].sentences, tokens);
		ax_tokens_free(t);
		return s;
	}
	if (t->n == 0) {
		ax_tokens_free(t);
		return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
				   "the %s split is empty", ax_data_split_names[split]);
	}
	return AX_OK;
}

enum ax_status ax_dataset_load(const struct ax_dataset *ds,
			       enum ax_data_split split, struct ax_tokens *src,
			       struct ax_tokens *tgt, struct ax_diag *d)
{
	enum ax_status s;
	if (src)
		memset(src, 0, sizeof *src);
	if (ds->task == AX_DATA_TRANSLATION) {
		if (!src)
			return ax_diag_set(d, AX_ERR_INTERNAL, ds->dir, 0, 0,
					   "a translation split needs a source");
		if ((s = load_side(ds, split, "src", ds->vocab_source,
				   ds->split[split].source_tokens, src, d)))
			return s;
	}
	s = load_side(ds, split, "tgt", ds->vocab_target,
		      ds->split[split].target_tokens, tgt, d);
	if (s && src)
		ax_tokens_free(src);
	return s;
}
