/*
 * cmd_data.c - `archex data CORPUS --out DIR`: builds a dataset
 * directory (docs/data-format.md, docs/data.md) from Debian packages:
 *   bible-en-es   the KJV / Reina-Valera 1909 pair, verse-aligned
 *   wordnet-lm    WordNet glosses, an English language-model corpus
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "corpus.h"

static void help(FILE *f)
{
	fprintf(f,
		"usage: archex data bible-en-es --out DIR [--vocab N] [--direction en-es|es-en]\n"
		"                               [--books LIST]\n"
		"       archex data wordnet-lm --out DIR [--vocab N] [--wordnet-dir DIR]\n\n"
		"Builds a dataset directory (token files, sentencepiece model, raw text of\n"
		"every split, manifest.json with counts and SHA-256) from Debian packages,\n"
		"offline and deterministically. DIR must not exist; it appears complete or\n"
		"not at all.\n\n"
		"  bible-en-es   King James Version (packages bible-kjv, bible-kjv-text)\n"
		"                against Reina-Valera 1909 (diatheke, sword-text-sparv),\n"
		"                aligned by book, chapter and verse; valid and test are\n"
		"                whole books (docs/data.md)\n"
		"  wordnet-lm    the glosses of wordnet-base, split by lexicographer file\n\n"
		"options:\n"
		"  --out DIR          the directory to create (required)\n"
		"  --vocab N          joint BPE vocabulary, the 4 specials included (8000)\n"
		"  --direction D      en-es (English source, the default) or es-en\n"
		"  --books LIST       only these books, comma-separated English names\n"
		"                     (\"Ruth,Jonah,Philemon\"); every split needs one\n"
		"  --wordnet-dir DIR  where data.noun etc. are (/usr/share/wordnet)\n"
		"  -h, --help         this text\n\n"
		"Needs spm_train and spm_encode (package sentencepiece).\n");
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Progress lines, on a terminal only (a log or a pipe gets the summary). */
static void show(void *ctx, const char *msg)
{
	if (!isatty(2))
		return;
	double t0 = *(const double *)ctx;
	fprintf(stderr, "archex data: [%5.1fs] %s\n", now() - t0, msg);
}

#define MAX_BOOKS AX_BIBLE_BOOKS

/* "a,b,c" into names (pointers into buf). */
static int split_books(char *buf, const char **names)
{
	int n = 0;
	for (char *p = strtok(buf, ","); p && n < MAX_BOOKS; p = strtok(NULL, ","))
		names[n++] = p;
	return n;
}

int ax_cmd_data(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "vocab", required_argument, NULL, 'v' },
		{ "direction", required_argument, NULL, 'd' },
		{ "books", required_argument, NULL, 'b' },
		{ "wordnet-dir", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *direction = "en-es", *books = "", *wndir = NULL;
	int64_t vocab = 8000;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'v':
			if (!ax_cli_parse_i64(optarg, 8, 1 << 20, &vocab))
				return ax_cli_usage_error("data", "--vocab wants an integer in 8..1048576, not '%s'", optarg);
			break;
		case 'd':
			if (strcmp(optarg, "en-es") && strcmp(optarg, "es-en"))
				return ax_cli_usage_error("data", "--direction must be en-es or es-en, not '%s'", optarg);
			direction = optarg;
			break;
		case 'b': books = optarg; break;
		case 'w': wndir = optarg; break;
		case 'h': help(stdout); return AX_EXIT_OK;
		default:
			return ax_cli_bad_option("data", argv, longopts);
		}
	}
	if (optind != argc - 1)
		return ax_cli_usage_error("data", "expected one corpus name (bible-en-es or wordnet-lm)");
	const char *corpus = argv[optind];
	bool bible = !strcmp(corpus, "bible-en-es");
	if (!bible && strcmp(corpus, "wordnet-lm"))
		return ax_cli_usage_error("data", "unknown corpus '%s' (bible-en-es or wordnet-lm)", corpus);
	if (!out)
		return ax_cli_usage_error("data", "--out DIR is required");
	if (!bible && (books[0] || strcmp(direction, "en-es")))
		return ax_cli_usage_error("data", "--books and --direction are for bible-en-es");

	double t0 = now();
	struct ax_diag d = { 0 };
	struct ax_corpus c = { 0 };
	struct ax_corpus_kv opts[3], stats[8];
	int n_opts = 0, n_stats = 0;
	char bookbuf[4096];
	const char *names[MAX_BOOKS];
	enum ax_status s;
	static const char *const bible_pkgs[] = { "bible-kjv", "bible-kjv-text",
		"diatheke", "sword-text-sparv", "sentencepiece", NULL };
	static const char *const wn_pkgs[] = { "wordnet-base", "sentencepiece", NULL };
	struct ax_corpus_opts co = {
		.out = out, .vocab = vocab, .progress = show, .progress_ctx = &t0,
	};
	opts[n_opts++] = (struct ax_corpus_kv){ "vocab", NULL, vocab };
	if (bible) {
		bool en_src = !strcmp(direction, "en-es");
		snprintf(bookbuf, sizeof bookbuf, "%s", books);
		int nb = split_books(bookbuf, names);
		struct ax_bible_stats st;
		s = ax_bible_read(names, nb, en_src, &c, &st, show, &t0, &d);
		co.name = "bible-en-es";
		co.task = AX_DATA_TRANSLATION;
		co.src_lang = en_src ? "en" : "es";
		co.tgt_lang = en_src ? "es" : "en";
		co.packages = bible_pkgs;
		opts[n_opts++] = (struct ax_corpus_kv){ "direction", direction, 0 };
		opts[n_opts++] = (struct ax_corpus_kv){ "books", books[0] ? books : "all", 0 };
		stats[n_stats++] = (struct ax_corpus_kv){ "books", NULL, st.books };
		stats[n_stats++] = (struct ax_corpus_kv){ "verses_en", NULL, st.verses_en };
		stats[n_stats++] = (struct ax_corpus_kv){ "verses_es", NULL, st.verses_es };
		stats[n_stats++] = (struct ax_corpus_kv){ "pairs", NULL, st.pairs };
		stats[n_stats++] = (struct ax_corpus_kv){ "dropped_only_en", NULL, st.only_en };
		stats[n_stats++] = (struct ax_corpus_kv){ "dropped_only_es", NULL, st.only_es };
		stats[n_stats++] = (struct ax_corpus_kv){ "dropped_empty", NULL, st.empty };
		stats[n_stats++] = (struct ax_corpus_kv){ "es_headings_removed", NULL, st.headings };
		if (s == AX_OK)
			fprintf(stderr, "archex data: %lld pairs aligned; dropped %lld "
				"English-only, %lld Spanish-only, %lld empty\n",
				(long long)st.pairs, (long long)st.only_en,
				(long long)st.only_es, (long long)st.empty);
	} else {
		struct ax_wordnet_stats st;
		c.lm = true;
		show(&t0, "reading WordNet glosses");
		s = ax_wordnet_read(wndir, &c, &st, &d);
		co.name = "wordnet-lm";
		co.task = AX_DATA_LANGUAGE_MODEL;
		co.tgt_lang = "en";
		co.packages = wn_pkgs;
		stats[n_stats++] = (struct ax_corpus_kv){ "synsets", NULL, st.synsets };
		stats[n_stats++] = (struct ax_corpus_kv){ "dropped_empty", NULL, st.empty };
	}
	co.options = opts;
	co.n_options = n_opts;
	co.stats = stats;
	co.n_stats = n_stats;
	if (s == AX_OK)
		s = ax_corpus_build(&c, &co, &d);
	ax_corpus_free(&c);
	if (s != AX_OK) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	fprintf(stderr, "archex data: wrote %s in %.1f s\n", out, now() - t0);
	return AX_EXIT_OK;
}
