/*
 * corpus.h - building a dataset directory (docs/data-format.md) from
 * sentences in memory: raw text per split and side, a joint BPE trained
 * with sentencepiece's spm_train on the train split, token files encoded
 * with spm_encode, and manifest.json with counts, SHA-256 of every file,
 * the Debian package versions used and the options. The directory is
 * built as OUT.tmp-<pid> and renamed to OUT at the end, so OUT is either
 * absent or complete. The same input gives the same bytes.
 *
 * Also the two corpora archex knows how to read from Debian packages:
 * the KJV/RV1909 Bible pair (bible.c) and WordNet glosses (wordnet.c).
 */
#ifndef AX_CORPUS_H
#define AX_CORPUS_H

#include <stdbool.h>
#include <stdint.h>

#include "dataset.h"
#include "diag.h"

/* Sentences with their split; src is NULL for a language model (set lm
 * before the first ax_corpus_add). */
struct ax_corpus {
	bool lm;
	int64_t n, cap;
	char **src;                    /* (n) owned, or NULL */
	char **tgt;                    /* (n) owned */
	enum ax_data_split *split;     /* (n) */
};

/* Appends one sentence (copies src, tgt; src is ignored for an LM). */
enum ax_status ax_corpus_add(struct ax_corpus *c, const char *src,
			     const char *tgt, enum ax_data_split split,
			     struct ax_diag *d);
void ax_corpus_free(struct ax_corpus *c);

/* Progress messages for the caller to show (the library never prints). */
typedef void (*ax_progress_fn)(void *ctx, const char *msg);

/* A "key": "value" pair of the manifest's "options" or "statistics". */
struct ax_corpus_kv {
	const char *key;
	const char *str;      /* a string value, or NULL for num */
	int64_t num;
};

struct ax_corpus_opts {
	const char *out;               /* the dataset directory to create */
	const char *name;              /* manifest "name" */
	enum ax_data_task task;
	int64_t vocab;                 /* requested BPE size, specials included */
	const char *src_lang, *tgt_lang;
	const char *const *packages;   /* Debian packages to record, NULL-ended */
	const struct ax_corpus_kv *options;  /* recorded as given */
	int n_options;
	const struct ax_corpus_kv *stats;    /* builder statistics */
	int n_stats;
	ax_progress_fn progress;
	void *progress_ctx;
};

/* Builds opts->out from c (see above). Every split must hold sentences;
 * an existing opts->out is refused. */
enum ax_status ax_corpus_build(const struct ax_corpus *c,
			       const struct ax_corpus_opts *opts,
			       struct ax_diag *d);

/* ---- the Bible pair (bible.c) ---------------------------------------- */

#define AX_BIBLE_BOOKS 66
/* The books in canonical order (English names, as both readers take). */
extern const char *const ax_bible_books[AX_BIBLE_BOOKS];
/* The split of each book (docs/data.md says why). */
extern const enum ax_data_split ax_bible_book_split[AX_BIBLE_BOOKS];

struct ax_bible_stats {
	int64_t books;
	int64_t verses_en, verses_es;  /* verse keys each side printed */
	int64_t pairs;
	int64_t only_en, only_es;      /* keys missing on the other side */
	int64_t empty;                 /* keys empty on either side */
	int64_t headings, dropcaps;    /* Spanish fixes applied */
};

/* Reads the KJV (`bible`) and the RV1909 (`diatheke`) for the books
 * selected (books NULL or n_books 0: all), aligns them by book, chapter
 * and verse and adds the pairs to c: src English if en_src, else
 * Spanish. */
enum ax_status ax_bible_read(const char *const *books, int n_books,
			     bool en_src, struct ax_corpus *c,
			     struct ax_bible_stats *st, ax_progress_fn progress,
			     void *progress_ctx, struct ax_diag *d);

/* Text of one verse of diatheke's OSIS output: markup removed, a space
 * where an element boundary separates two letters, whitespace collapsed,
 * entities decoded. Returns a new string (caller frees) or NULL. */
char *ax_osis_text(const char *osis, size_t len);

/* RV1909 fixes: a first word in capitals (a drop cap, "EN el principio")
 * becomes "En"; returns true if s changed (in place). */
bool ax_bible_dropcap(char *s);
/* Removes a Hebrew letter heading ("ALEPH. ", "BETH ") from the start of
 * s (in place); returns true if one was there. */
bool ax_bible_heading(char *s);

/* ---- WordNet glosses (wordnet.c) ------------------------------------- */

struct ax_wordnet_stats {
	int64_t synsets, empty;
};

/* Reads the glosses of wordnet-base's data.{noun,verb,adj,adv} under dir
 * (NULL: /usr/share/wordnet), split by lexicographer file. */
enum ax_status ax_wordnet_read(const char *dir, struct ax_corpus *c,
			       struct ax_wordnet_stats *st,
			       struct ax_diag *d);

#endif
