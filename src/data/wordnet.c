/*
 * wordnet.c - an English language-model corpus from wordnet-base: the
 * gloss of every synset in data.noun, data.verb, data.adj and data.adv,
 * one sentence each. Splits follow the lexicographer file (field 2 of a
 * data line), the WordNet analogue of whole books: valid is noun.event
 * and noun.shape, test is noun.time and verb.emotion (docs/data.md).
 */
#include "corpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum ax_data_split lexfile_split(long lex)
{
	switch (lex) {
	case 11:   /* noun.event */
	case 25:   /* noun.shape */
		return AX_SPLIT_VALID;
	case 28:   /* noun.time */
	case 37:   /* verb.emotion */
		return AX_SPLIT_TEST;
	default:
		return AX_SPLIT_TRAIN;
	}
}

/* The gloss of one data line ("offset lex ss_type ... | gloss"), trimmed
 * in place; NULL if the line has none. *lex gets field 2. */
static char *gloss_of(char *line, long *lex)
{
	char *e;
	char *p = strchr(line, ' ');
	if (!p)
		return NULL;
	*lex = strtol(p + 1, &e, 10);
	if (e == p + 1)
		return NULL;
	char *bar = strstr(line, " | ");
	if (!bar)
		return NULL;
	char *g = bar + 3;
	size_t n = strlen(g);
	while (n > 0 && (g[n - 1] == '\n' || g[n - 1] == ' ' || g[n - 1] == '\r'))
		g[--n] = '\0';
	return g;
}

static enum ax_status read_file(const char *path, struct ax_corpus *c,
				struct ax_wordnet_stats *st, struct ax_diag *d)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "open: %s; install the "
				   "Debian package wordnet-base", strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	enum ax_status s = AX_OK;
	int64_t lineno = 0;
	while (s == AX_OK && getline(&line, &cap, f) >= 0) {
		lineno++;
		if (line[0] == ' ')
			continue;   /* the licence header */
		long lex = 0;
		char *g = gloss_of(line, &lex);
		if (!g) {
			s = ax_diag_set(d, AX_ERR_FORMAT, path, (int)lineno, 1,
					"not a WordNet data line (no \" | \" gloss)");
			break;
		}
		st->synsets++;
		if (!*g) {
			st->empty++;
			continue;
		}
		s = ax_corpus_add(c, NULL, g, lexfile_split(lex), d);
	}
	if (s == AX_OK && ferror(f))
		s = ax_diag_set(d, AX_ERR_IO, path, 0, 0, "read failed");
	free(line);
	fclose(f);
	return s;
}

enum ax_status ax_wordnet_read(const char *dir, struct ax_corpus *c,
			       struct ax_wordnet_stats *st, struct ax_diag *d)
{
	static const char *const files[] = { "data.noun", "data.verb",
					     "data.adj", "data.adv" };
	memset(st, 0, sizeof *st);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir ? dir : "/usr/share/wordnet",
			 files[i]);
		enum ax_status s = read_file(path, c, st, d);
		if (s != AX_OK)
			return s;
	}
	return AX_OK;
}
