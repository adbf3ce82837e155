/*
 * dataset.h - archex's dataset directories: token files and their
 * manifest, as `archex data` writes them and `archex train` and `archex
 * eval` read them. The format is documented in docs/data-format.md.
 *
 * A dataset directory holds:
 *   manifest.json          what is there: task, vocabularies, splits with
 *                          their counts, and every file's size and SHA-256
 *   SPLIT.SIDE.bin         token files, SPLIT in train/valid/test and SIDE
 *                          src/tgt (a language model has tgt only)
 *   plus whatever the builder adds (the sentencepiece model, raw text of
 *   valid/test for scoring), listed in the manifest too.
 *
 * A token file (all integers little-endian):
 *   char     magic[8]             "AXTOKEN1"
 *   uint32   version              1
 *   uint32   flags                0
 *   uint64   n                    sentences
 *   uint64   n_tokens
 *   uint64   off[n + 1]           off[0] = 0, non-decreasing, off[n] = n_tokens
 *   uint32   id[n_tokens]         sentence i is id[off[i] .. off[i+1])
 * Sentences carry no eos (readers append it, as fairseq does). Ids use
 * the fairseq dictionary layout archex's models use: bos 0, pad 1, eos 2,
 * unk 3, then the vocabulary's pieces.
 *
 * Readers check everything before trusting it: the magic, the version,
 * that the sizes in the header match the file's size, that the offsets
 * are monotonic and end at n_tokens, and that every id is below the
 * vocabulary size they are given.
 */
#ifndef AX_DATASET_H
#define AX_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define AX_TOKENS_MAGIC "AXTOKEN1"
#define AX_TOKENS_VERSION 1
#define AX_DATASET_FORMAT "archex-dataset"
#define AX_DATASET_VERSION 1

/* The fairseq dictionary's special ids. */
enum {
	AX_DATA_BOS = 0,
	AX_DATA_PAD = 1,
	AX_DATA_EOS = 2,
	AX_DATA_UNK = 3,
	AX_DATA_N_SPECIAL = 4
};

/* One token file in memory. */
struct ax_tokens {
	int64_t n;          /* sentences */
	int64_t n_tokens;
	uint64_t *off;      /* (n + 1) */
	uint32_t *id;       /* (n_tokens) */
};

/* Sentence i: *len ids, no eos. */
static inline const uint32_t *ax_tokens_sentence(const struct ax_tokens *t,
						 int64_t i, int64_t *len)
{
	*len = (int64_t)(t->off[i + 1] - t->off[i]);
	return t->id + t->off[i];
}

/* Reads and checks a token file; vocab > 0 also checks every id < vocab
 * (the error names the sentence and position). AX_ERR_FORMAT for a
 * corrupt or foreign file, AX_ERR_INPUT for an id out of range. */
enum ax_status ax_tokens_read(const char *path, int64_t vocab,
			      struct ax_tokens *t, struct ax_diag *d);
void ax_tokens_free(struct ax_tokens *t);

/* Writes n sentences (off[n + 1], id[off[n]]) atomically to path. */
enum ax_status ax_tokens_write(const char *path, int64_t n,
			       const uint64_t *off, const uint32_t *id,
			       struct ax_diag *d);

enum ax_data_task {
	AX_DATA_TRANSLATION,
	AX_DATA_LANGUAGE_MODEL,
	AX_DATA_TASK_COUNT
};

enum ax_data_split {
	AX_SPLIT_TRAIN,
	AX_SPLIT_VALID,
	AX_SPLIT_TEST,
	AX_SPLIT_COUNT
};

extern const char *const ax_data_task_names[AX_DATA_TASK_COUNT];
extern const char *const ax_data_split_names[AX_SPLIT_COUNT];

#define AX_DATASET_MAX_FILES 64

/* What manifest.json says. */
struct ax_dataset {
	char dir[4096];
	char name[128];
	enum ax_data_task task;
	int64_t vocab_source;            /* 0 for a language model */
	int64_t vocab_target;            /* ids < vocab, specials included */
	struct {
		int64_t sentences;
		int64_t source_tokens;       /* without eos */
		int64_t target_tokens;
	} split[AX_SPLIT_COUNT];
	int n_files;
	struct {
		char name[128];              /* relative to dir, no '/' */
		int64_t bytes;
		char sha256[65];             /* lower-case hex */
	} file[AX_DATASET_MAX_FILES];
};

/* Reads DIR/manifest.json (errors carry its line:col) and checks that
 * each listed file exists with its size; verify also recomputes every
 * SHA-256 (a mismatch names the file). */
enum ax_status ax_dataset_open(const char *dir, bool verify,
			       struct ax_dataset *ds, struct ax_diag *d);

/* Loads a split's token files, checking ids against the manifest's
 * vocabularies and the sentence counts against the manifest; src is
 * left empty for a language model (src may be NULL then). */
enum ax_status ax_dataset_load(const struct ax_dataset *ds,
			       enum ax_data_split split, struct ax_tokens *src,
			       struct ax_tokens *tgt, struct ax_diag *d);

/* Whether a model can VERB ("train", "evaluate") on the dataset: the same
 * task (a language model or not) and vocabularies at least the
 * dataset's. AX_ERR_INPUT naming DIR/manifest.json, the dataset and the
 * model otherwise. The one check `archex train`, `archex eval` and
 * trained sweeps share. */
enum ax_status ax_dataset_fits(const struct ax_dataset *ds, const char *verb,
			       const char *model, bool model_is_lm,
			       int64_t vocab_source, int64_t vocab_target,
			       struct ax_diag *d);

/* The SHA-256 of a file as 64 lower-case hex digits (nettle). */
enum ax_status ax_sha256_file(const char *path, char hex[65],
			      struct ax_diag *d);

#endif
