/*
 * corpus.c - a dataset directory from sentences in memory (see corpus.h):
 * raw text, a joint sentencepiece BPE, token files and the manifest, all
 * built in OUT.tmp-<pid> and renamed to OUT when complete.
 *
 * sentencepiece runs inside the temporary directory with relative paths,
 * since spm_train records its input and output paths inside the model:
 * absolute ones would make the bytes depend on the pid.
 */
#include "corpus.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_io.h"
#include "json.h"
#include "run.h"

static const char *const side_names[2] = { "src", "tgt" };

enum ax_status ax_corpus_add(struct ax_corpus *c, const char *src,
			     const char *tgt, enum ax_data_split split,
			     struct ax_diag *d)
{
	if (c->n == c->cap) {
		int64_t cap = c->cap ? 2 * c->cap : 1024;
		char **s = c->lm ? NULL : realloc(c->src, (size_t)cap * sizeof *s);
		if (s)
			c->src = s;
		char **t = realloc(c->tgt, (size_t)cap * sizeof *t);
		if (t)
			c->tgt = t;
		enum ax_data_split *sp = realloc(c->split, (size_t)cap * sizeof *sp);
		if (sp)
			c->split = sp;
		if ((!c->lm && !s) || !t || !sp)
			return ax_diag_set(d, AX_ERR_NOMEM, "corpus", 0, 0, "out of memory");
		c->cap = cap;
	}
	char *a = c->lm ? NULL : strdup(src), *b = strdup(tgt);
	if ((!c->lm && !a) || !b) {
		free(a);
		free(b);
		return ax_diag_set(d, AX_ERR_NOMEM, "corpus", 0, 0, "out of memory");
	}
	if (!c->lm)
		c->src[c->n] = a;
	c->tgt[c->n] = b;
	c->split[c->n] = split;
	c->n++;
	return AX_OK;
}

void ax_corpus_free(struct ax_corpus *c)
{
	for (int64_t i = 0; i < c->n; i++) {
		if (c->src)
			free(c->src[i]);
		free(c->tgt[i]);
	}
	free(c->src);
	free(c->tgt);
	free(c->split);
	memset(c, 0, sizeof *c);
}

/* ---- the temporary directory ------------------------------------------ */

static void remove_tree(const char *path)
{
	DIR *dir = opendir(path);
	if (dir) {
		struct dirent *e;
		while ((e = readdir(dir))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char sub[AX_PATH_MAX + 256];
			snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
			unlink(sub);
		}
		closedir(dir);
	}
	rmdir(path);
}

static void progress(const struct ax_corpus_opts *o, const char *msg)
{
	if (o->progress)
		o->progress(o->progress_ctx, msg);
}

/* Which sentence list a side is: 0 src, 1 tgt. */
static char **side_text(const struct ax_corpus *c, int side)
{
	return side == 0 ? c->src : c->tgt;
}

/* SPLIT.SIDE.txt: one sentence a line. */
static enum ax_status write_text(const char *tmp, const struct ax_corpus *c,
				 int split, int side, int64_t *count,
				 struct ax_diag *d)
{
	char path[AX_PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s.%s.txt", tmp, ax_data_split_names[split],
		 side_names[side]);
	FILE *f = fopen(path, "w");
	if (!f)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "create: %s",
				   strerror(errno));
	char **text = side_text(c, side);
	*count = 0;
	for (int64_t i = 0; i < c->n; i++) {
		if (c->split[i] != (enum ax_data_split)split)
			continue;
		if (strchr(text[i], '\n'))
			return fclose(f), ax_diag_set(d, AX_ERR_INTERNAL, path, 0, 0,
						      "sentence %lld holds a newline",
						      (long long)i);
		fputs(text[i], f);
		fputc('\n', f);
		(*count)++;
	}
	if (fclose(f) != 0)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "write: %s",
				   strerror(errno));
	return AX_OK;
}

/* spm_train on the train text of every side (joint), in tmp. */
static enum ax_status train_bpe(const char *tmp, bool lm, int64_t vocab,
				struct ax_diag *d)
{
	char input[64], size[64];
	snprintf(input, sizeof input, lm ? "train.tgt.txt"
					 : "train.src.txt,train.tgt.txt");
	snprintf(size, sizeof size, "--vocab_size=%lld", (long long)vocab);
	char inarg[96];
	snprintf(inarg, sizeof inarg, "--input=%s", input);
	char *argv[] = {
		"spm_train", inarg, "--model_prefix=spm", size,
		"--model_type=bpe", "--character_coverage=1.0",
		"--normalization_rule_name=identity",
		"--bos_id=0", "--pad_id=1", "--eos_id=2", "--unk_id=3",
		"--num_threads=1", "--input_sentence_size=0",
		"--shuffle_input_sentence=false", "--random_seed=1",
		"--hard_vocab_limit=false", "--max_sentence_length=65536",
		NULL,
	};
	return ax_run_in(tmp, argv, "sentencepiece", NULL, NULL, NULL, d);
}

/* Lines of spm.vocab: the vocabulary size, specials included. */
static enum ax_status count_vocab(const char *tmp, int64_t *v, struct ax_diag *d)
{
	char path[AX_PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/spm.vocab", tmp);
	FILE *f = fopen(path, "r");
	if (!f)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "open: %s",
				   strerror(errno));
	int64_t n = 0;
	int ch, last = '\n';
	while ((ch = getc(f)) != EOF) {
		n += ch == '\n';
		last = ch;
	}
	n += last != '\n';
	fclose(f);
	*v = n;
	return AX_OK;
}

/* Parses spm_encode's "id id id" lines into a token file's arrays. */
static enum ax_status parse_ids(const char *text, const char *what,
				int64_t expect, int64_t vocab, uint64_t **off_out,
				uint32_t **id_out, struct ax_diag *d)
{
	int64_t lines = 0, ids = 0;
	for (const char *p = text; *p; p++) {
		lines += *p == '\n';
		ids += *p != ' ' && *p != '\n' && (p == text || p[-1] == ' ' ||
						   p[-1] == '\n');
	}
	if (lines != expect)
		return ax_diag_set(d, AX_ERR_IO, what, 0, 0, "spm_encode gave %lld "
				   "lines for %lld sentences", (long long)lines,
				   (long long)expect);
	uint64_t *off = malloc((size_t)(lines + 1) * sizeof *off);
	uint32_t *id = malloc((size_t)(ids ? ids : 1) * sizeof *id);
	if (!off || !id) {
		free(off);
		free(id);
		return ax_diag_set(d, AX_ERR_NOMEM, what, 0, 0, "out of memory");
	}
	int64_t s = 0, k = 0;
	off[0] = 0;
	for (const char *p = text; *p;) {
		if (*p == '\n') {
			off[++s] = (uint64_t)k;
			p++;
			continue;
		}
		if (*p == ' ') {
			p++;
			continue;
		}
		char *e;
		long long v = strtoll(p, &e, 10);
		if (e == p || v < 0 || v >= vocab) {
			free(off);
			free(id);
			return ax_diag_set(d, AX_ERR_IO, what, (int)s + 1, 0,
					   "spm_encode printed a bad id");
		}
		id[k++] = (uint32_t)v;
		p = e;
	}
	*off_out = off;
	*id_out = id;
	return AX_OK;
}

/* SPLIT.SIDE.txt -> SPLIT.SIDE.bin through spm_encode. */
static enum ax_status encode(const char *tmp, int split, int side, int64_t n,
			     int64_t vocab, int64_t *tokens, struct ax_diag *d)
{
	char txt[64], bin[AX_PATH_MAX + 64];
	snprintf(txt, sizeof txt, "%s.%s.txt", ax_data_split_names[split],
		 side_names[side]);
	snprintf(bin, sizeof bin, "%s/%s.%s.bin", tmp, ax_data_split_names[split],
		 side_names[side]);
	char *argv[] = { "spm_encode", "--model=spm.model", "--output_format=id",
			 NULL };
	struct ax_run_out o;
	enum ax_status s = ax_run_in(tmp, argv, "sentencepiece", txt, NULL, &o, d);
	if (s != AX_OK)
		return s;
	uint64_t *off = NULL;
	uint32_t *id = NULL;
	s = parse_ids(o.text, txt, n, vocab, &off, &id, d);
	free(o.text);
	if (s != AX_OK)
		return s;
	*tokens = (int64_t)off[n];
	s = ax_tokens_write(bin, n, off, id, d);
	free(off);
	free(id);
	return s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the files in dir, sorted (caller frees each and the list). */
static enum ax_status list_files(const char *dir, char ***names, int *n,
				 struct ax_diag *d)
{
	DIR *dd = opendir(dir);
	if (!dd)
		return ax_diag_set(d, AX_ERR_IO, dir, 0, 0, "opendir: %s",
				   strerror(errno));
	char **v = calloc(AX_DATASET_MAX_FILES, sizeof *v);
	int k = 0;
	struct dirent *e;
	enum ax_status s = v ? AX_OK : ax_diag_set(d, AX_ERR_NOMEM, dir, 0, 0,
						   "out of memory");
	while (s == AX_OK && (e = readdir(dd))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "manifest.json"))
			continue;
		if (k == AX_DATASET_MAX_FILES)
			s = ax_diag_set(d, AX_ERR_LIMIT, dir, 0, 0, "too many files");
		else if (!(v[k++] = strdup(e->d_name)))
			s = ax_diag_set(d, AX_ERR_NOMEM, dir, 0, 0, "out of memory");
	}
	closedir(dd);
	if (s != AX_OK) {
		for (int i = 0; v && i < k; i++)
			free(v[i]);
		free(v);
		return s;
	}
	qsort(v, (size_t)k, sizeof *v, cmp_str);
	*names = v;
	*n = k;
	return AX_OK;
}

/* `dpkg-query -W -f=${Version} pkg`, or "not installed". */
static void package_version(const char *pkg, char *out, size_t size)
{
	char *argv[] = { "dpkg-query", "-W", "-f=${Version}", (char *)pkg, NULL };
	struct ax_run_out o;
	struct ax_diag d = { 0 };
	if (ax_run(argv, "dpkg", NULL, NULL, &o, &d) != AX_OK) {
		snprintf(out, size, "not installed");
		return;
	}
	snprintf(out, size, "%s", o.len ? o.text : "not installed");
	free(o.text);
}

static void write_kvs(struct ax_json *j, const char *key,
		      const struct ax_corpus_kv *kv, int n)
{
	ax_json_key(j, key);
	ax_json_begin_object(j);
	for (int i = 0; i < n; i++) {
		ax_json_key(j, kv[i].key);
		if (kv[i].str)
			ax_json_string(j, kv[i].str);
		else
			ax_json_int(j, kv[i].num);
	}
	ax_json_end_object(j);
}

struct counts {
	int64_t vocab;
	int64_t sentences[AX_SPLIT_COUNT];
	int64_t tokens[AX_SPLIT_COUNT][2];
};

/* The manifest's body (docs/data-format.md), files hashed here. */
static enum ax_status write_manifest(const char *tmp, const struct ax_corpus_opts *o,
				     const struct counts *k, struct ax_diag *d)
{
	char **names = NULL;
	int n = 0;
	enum ax_status s = list_files(tmp, &names, &n, d);
	if (s != AX_OK)
		return s;
	char path[AX_PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/manifest.json", tmp);
	struct ax_atomic a;
	FILE *f = ax_atomic_open(&a, path, d);
	if (!f)
		s = d->status;
	bool lm = o->task == AX_DATA_LANGUAGE_MODEL;
	struct ax_json j;
	ax_json_init(&j, f, AX_JSON_PRETTY);
	ax_json_begin_object(&j);
	ax_json_key(&j, "format");
	ax_json_string(&j, AX_DATASET_FORMAT);
	ax_json_key(&j, "version");
	ax_json_int(&j, AX_DATASET_VERSION);
	ax_json_key(&j, "name");
	ax_json_string(&j, o->name);
	ax_json_key(&j, "task");
	ax_json_string(&j, ax_data_task_names[o->task]);
	ax_json_key(&j, "vocab");
	ax_json_begin_object(&j);
	if (!lm) {
		ax_json_key(&j, "source");
		ax_json_int(&j, k->vocab);
	}
	ax_json_key(&j, "target");
	ax_json_int(&j, k->vocab);
	ax_json_end_object(&j);
	ax_json_key(&j, "languages");
	ax_json_begin_object(&j);
	if (!lm) {
		ax_json_key(&j, "source");
		ax_json_string(&j, o->src_lang);
	}
	ax_json_key(&j, "target");
	ax_json_string(&j, o->tgt_lang);
	ax_json_end_object(&j);
	ax_json_key(&j, "splits");
	ax_json_begin_object(&j);
	for (int sp = 0; sp < AX_SPLIT_COUNT; sp++) {
		ax_json_key(&j, ax_data_split_names[sp]);
		ax_json_begin_object(&j);
		ax_json_key(&j, "sentences");
		ax_json_int(&j, k->sentences[sp]);
		if (!lm) {
			ax_json_key(&j, "source_tokens");
			ax_json_int(&j, k->tokens[sp][0]);
		}
		ax_json_key(&j, "target_tokens");
		ax_json_int(&j, k->tokens[sp][1]);
		ax_json_end_object(&j);
	}
	ax_json_end_object(&j);
	ax_json_key(&j, "bpe");
	ax_json_begin_object(&j);
	ax_json_key(&j, "tool");
	ax_json_string(&j, "sentencepiece");
	ax_json_key(&j, "model");
	ax_json_string(&j, "spm.model");
	ax_json_key(&j, "joint");
	ax_json_bool(&j, true);
	ax_json_key(&j, "requested_vocab");
	ax_json_int(&j, o->vocab);
	ax_json_end_object(&j);
	write_kvs(&j, "options", o->options, o->n_options);
	write_kvs(&j, "statistics", o->stats, o->n_stats);
	ax_json_key(&j, "packages");
	ax_json_begin_object(&j);
	for (int i = 0; o->packages && o->packages[i]; i++) {
		char v[128];
		package_version(o->packages[i], v, sizeof v);
		ax_json_key(&j, o->packages[i]);
		ax_json_string(&j, v);
	}
	ax_json_end_object(&j);
	ax_json_key(&j, "files");
	ax_json_begin_object(&j);
	for (int i = 0; i < n && s == AX_OK; i++) {
		char fp[AX_PATH_MAX + 256], hex[65];
		snprintf(fp, sizeof fp, "%s/%s", tmp, names[i]);
		struct stat st;
		if (stat(fp, &st) != 0)
			s = ax_diag_set(d, AX_ERR_IO, fp, 0, 0, "stat: %s", strerror(errno));
		if (s == AX_OK)
			s = ax_sha256_file(fp, hex, d);
		if (s != AX_OK)
			break;
		ax_json_key(&j, names[i]);
		ax_json_begin_object(&j);
		ax_json_key(&j, "bytes");
		ax_json_int(&j, (int64_t)st.st_size);
		ax_json_key(&j, "sha256");
		ax_json_string(&j, hex);
		ax_json_end_object(&j);
	}
	ax_json_end_object(&j);
	ax_json_end_object(&j);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!f)
		return s;
	if (s == AX_OK)
		s = ax_json_finish(&j, d);
	if (s == AX_OK && fputc('\n', f) == EOF)
		s = ax_diag_set(d, AX_ERR_IO, path, 0, 0, "write failed");
	if (s == AX_OK)
		return ax_atomic_commit(&a, d);
	ax_atomic_abort(&a);
	return s;
}

/* Everything inside the temporary directory. */
static enum ax_status build_in(const char *tmp, const struct ax_corpus *c,
			       const struct ax_corpus_opts *o, struct ax_diag *d)
{
	bool lm = o->task == AX_DATA_LANGUAGE_MODEL;
	struct counts k = { 0 };
	enum ax_status s = AX_OK;
	progress(o, "writing the text of each split");
	for (int sp = 0; sp < AX_SPLIT_COUNT && s == AX_OK; sp++)
		for (int side = lm ? 1 : 0; side < 2 && s == AX_OK; side++)
			s = write_text(tmp, c, sp, side, &k.sentences[sp], d);
	if (s != AX_OK)
		return s;
	char msg[128];
	snprintf(msg, sizeof msg, "training a %lld-piece BPE (spm_train)",
		 (long long)o->vocab);
	progress(o, msg);
	s = train_bpe(tmp, lm, o->vocab, d);
	if (s == AX_OK)
		s = count_vocab(tmp, &k.vocab, d);
	progress(o, "encoding (spm_encode)");
	for (int sp = 0; sp < AX_SPLIT_COUNT && s == AX_OK; sp++)
		for (int side = lm ? 1 : 0; side < 2 && s == AX_OK; side++)
			s = encode(tmp, sp, side, k.sentences[sp], k.vocab,
				   &k.tokens[sp][side], d);
	if (s != AX_OK)
		return s;
	progress(o, "hashing files, writing manifest.json");
	return write_manifest(tmp, o, &k, d);
}

enum ax_status ax_corpus_build(const struct ax_corpus *c,
			       const struct ax_corpus_opts *o, struct ax_diag *d)
{
	bool lm = o->task == AX_DATA_LANGUAGE_MODEL;
	if (lm != c->lm)
		return ax_diag_set(d, AX_ERR_INTERNAL, o->out, 0, 0,
				   "corpus sides do not match the task");
	int64_t per[AX_SPLIT_COUNT] = { 0 };
	for (int64_t i = 0; i < c->n; i++)
		per[c->split[i]]++;
	for (int sp = 0; sp < AX_SPLIT_COUNT; sp++)
		if (per[sp] == 0)
			return ax_diag_set(d, AX_ERR_INPUT, o->out, 0, 0, "the %s split "
					   "is empty: the selected input has no "
					   "sentence for it", ax_data_split_names[sp]);
	struct stat st;
	if (lstat(o->out, &st) == 0)
		return ax_diag_set(d, AX_ERR_IO, o->out, 0, 0, "already exists; "
				   "remove it or choose another --out");
	char tmp[AX_PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-%ld", o->out,
			     (long)getpid()) >= sizeof tmp)
		return ax_diag_set(d, AX_ERR_INPUT, o->out, 0, 0, "path too long");
	remove_tree(tmp);   /* left by a killed process with our pid */
	if (mkdir(tmp, 0777) != 0)
		return ax_diag_set(d, AX_ERR_IO, o->out, 0, 0, "cannot create "
				   "its temporary directory %s: %s", tmp,
				   strerror(errno));
	enum ax_status s = build_in(tmp, c, o, d);
	if (s == AX_OK && rename(tmp, o->out) != 0)
		s = ax_diag_set(d, AX_ERR_IO, o->out, 0, 0, "rename from %s: %s",
				tmp, strerror(errno));
	if (s != AX_OK)
		remove_tree(tmp);
	return s;
}
