/*
 * bible.c - the English-Spanish Bible pair from Debian packages: the King
 * James Version through `bible` (bible-kjv) and the Reina-Valera 1909
 * through `diatheke -b spaRV1909eb` (diatheke, sword-text-sparv), read
 * book by book and aligned by chapter and verse (see corpus.h and
 * docs/data.md).
 *
 * The Spanish side is read in OSIS form rather than diatheke's plain
 * format: the plain format keeps some Strong's numbers ("Jesucristo
 * <G5547>") and glues words where elements touch ("Tesalonicensesque
 * esen"); dropping the markup and putting a space at element boundaries
 * between letters avoids both.
 */
#include "corpus.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "run.h"

const char *const ax_bible_books[AX_BIBLE_BOOKS] = {
	"Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua",
	"Judges", "Ruth", "1 Samuel", "2 Samuel", "1 Kings", "2 Kings",
	"1 Chronicles", "2 Chronicles", "Ezra", "Nehemiah", "Esther", "Job",
	"Psalms", "Proverbs", "Ecclesiastes", "Song of Solomon", "Isaiah",
	"Jeremiah", "Lamentations", "Ezekiel", "Daniel", "Hosea", "Joel",
	"Amos", "Obadiah", "Jonah", "Micah", "Nahum", "Habakkuk", "Zephaniah",
	"Haggai", "Zechariah", "Malachi", "Matthew", "Mark", "Luke", "John",
	"Acts", "Romans", "1 Corinthians", "2 Corinthians", "Galatians",
	"Ephesians", "Philippians", "Colossians", "1 Thessalonians",
	"2 Thessalonians", "1 Timothy", "2 Timothy", "Titus", "Philemon",
	"Hebrews", "James", "1 Peter", "2 Peter", "1 John", "2 John", "3 John",
	"Jude", "Revelation",
};

/* valid: Ruth, Ecclesiastes, Daniel, Mark, Galatians; test: Esther,
 * Hosea, Jonah, John, Philippians, James; about 1,500 verses each, from
 * both testaments and from narrative, poetry, prophecy and letters. */
#define V AX_SPLIT_VALID
#define T AX_SPLIT_TEST
#define R AX_SPLIT_TRAIN
const enum ax_data_split ax_bible_book_split[AX_BIBLE_BOOKS] = {
	R, R, R, R, R, R, R, V, R, R, R, R, R, R, R, R, T, R, R, R, V, R, R,
	R, R, R, V, T, R, R, R, T, R, R, R, R, R, R, R, R, V, R, T, R, R, R,
	R, V, R, T, R, R, R, R, R, R, R, R, T, R, R, R, R, R, R, R,
};
#undef V
#undef T
#undef R

/* ---- text clean-up ---------------------------------------------------- */

/* The code point starting at s (0 for a bad byte), *n its length. */
static unsigned utf8_cp(const unsigned char *s, int *n)
{
	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) {
		*n = 2;
		return (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	}
	if ((s[0] & 0xf0) == 0xe0 && (s[1] & 0xc0) == 0x80 &&
	    (s[2] & 0xc0) == 0x80) {
		*n = 3;
		return (unsigned)(s[0] & 0x0f) << 12 |
		       (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	}
	*n = 1;
	return 0;
}

/* A letter or digit: ASCII alphanumerics and the Latin letters from
 * U+00C0 on (not the inverted marks ¡ ¿, which are below it). */
static bool is_word_cp(unsigned cp)
{
	return (cp < 0x80 && isalnum((int)cp)) ||
	       (cp >= 0xc0 && cp != 0xd7 && cp != 0xf7);
}

/* The code point ending just before s + len. */
static unsigned utf8_prev(const char *s, size_t len)
{
	if (!len)
		return 0;
	size_t i = len - 1;
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	int n;
	return utf8_cp((const unsigned char *)s + i, &n);
}

static const struct {
	const char *name;
	char c;
} entities[] = {
	{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
	{ "&quot;", '"' }, { "&apos;", '\'' },
};

char *ax_osis_text(const char *osis, size_t len)
{
	char *out = malloc(len + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	bool boundary = false, space = false;
	for (size_t i = 0; i < len;) {
		unsigned char ch = (unsigned char)osis[i];
		if (ch == '<') {
			const char *gt = memchr(osis + i, '>', len - i);
			i = gt ? (size_t)(gt - osis) + 1 : len;
			boundary = true;
			continue;
		}
		if (isspace(ch)) {
			space = true;
			i++;
			continue;
		}
		char lit = 0;
		size_t adv = 0;
		if (ch == '&')
			for (size_t e = 0; e < sizeof entities / sizeof entities[0]; e++) {
				size_t n = strlen(entities[e].name);
				if (n <= len - i && !memcmp(osis + i, entities[e].name, n)) {
					lit = entities[e].c;
					adv = n;
				}
			}
		int n = 1;
		unsigned cp = lit ? (unsigned char)lit
				  : utf8_cp((const unsigned char *)osis + i, &n);
		if (o > 0 && (space || (boundary && is_word_cp(cp) &&
					is_word_cp(utf8_prev(out, o)))))
			out[o++] = ' ';
		space = boundary = false;
		if (lit) {
			out[o++] = lit;
			i += adv;
		} else {
			/* n bytes were checked present by utf8_cp's guards */
			for (int k = 0; k < n && i < len; k++)
				out[o++] = osis[i++];
		}
	}
	out[o] = '\0';
	return out;
}

/* Upper case letters of RV1909: ASCII and Á É Í Ó Ú Ñ Ü (UTF-8 C3 xx). */
static bool upper_at(const unsigned char *s, int *n)
{
	if (s[0] >= 'A' && s[0] <= 'Z') {
		*n = 1;
		return true;
	}
	if (s[0] == 0xc3 && s[1] >= 0x80 && s[1] <= 0x9e && s[1] != 0x97) {
		*n = 2;
		return true;
	}
	return false;
}

bool ax_bible_dropcap(char *s)
{
	unsigned char *p = (unsigned char *)s;
	while (*p == 0xc2 && (p[1] == 0xa1 || p[1] == 0xbf))   /* ¡ ¿ */
		p += 2;
	while (*p == '(')
		p++;
	int n = 1, letters = 0;
	unsigned char *q = p;
	while (upper_at(q, &n)) {
		q += n;
		letters++;
	}
	if (letters < 2 || (*q >= 'a' && *q <= 'z') || (*q == 0xc3 && q[1] >= 0xa0))
		return false;
	/* lower-case all but the first letter */
	upper_at(p, &n);
	for (unsigned char *r = p + n; r < q; r += n) {
		upper_at(r, &n);
		if (n == 1)
			*r = (unsigned char)tolower(*r);
		else
			r[1] = (unsigned char)(r[1] + 0x20);
	}
	return true;
}

bool ax_bible_heading(char *s)
{
	static const char *const letters[] = {
		"ALEPH", "BETH", "GIMEL", "DALETH", "HE", "VAU", "ZAIN", "CHETH",
		"TETH", "JOD", "CAPH", "LAMED", "MEM", "NUN", "SAMECH", "AIN", "PE",
		"TZADDI", "COPH", "RESH", "SIN", "SCHIN", "TAU",
	};
	for (size_t i = 0; i < sizeof letters / sizeof letters[0]; i++) {
		size_t n = strlen(letters[i]);
		if (strncmp(s, letters[i], n))
			continue;
		size_t k = n;
		if (s[k] == '.')
			k++;
		if (s[k] != ' ')
			continue;
		memmove(s, s + k + 1, strlen(s + k + 1) + 1);
		return true;
	}
	return false;
}

/* ---- reading ---------------------------------------------------------- */

struct verse {
	int chapter, verse;
	char *text;
};

struct verses {
	int n, cap;
	struct verse *v;
};

static void verses_free(struct verses *vs)
{
	for (int i = 0; i < vs->n; i++)
		free(vs->v[i].text);
	free(vs->v);
	vs->n = vs->cap = 0;
	vs->v = NULL;
}

/* Parses "C:V" at p, leaving *end after V; false if not there. */
static bool parse_cv(const char *p, int *c, int *v, const char **end)
{
	char *e;
	long cl = strtol(p, &e, 10);
	if (e == p || *e != ':' || cl <= 0 || cl > 1000)
		return false;
	const char *q = e + 1;
	long vl = strtol(q, &e, 10);
	if (e == q || vl <= 0 || vl > 1000)
		return false;
	*c = (int)cl;
	*v = (int)vl;
	*end = e;
	return true;
}

/* The start of a verse line: KJV "Abbr C:V text" ("Ge1:1 In ..."),
 * RV1909 "Book Name C:V: text"; returns the text or NULL. */
static const char *verse_start(const char *line, bool kjv, int *c, int *v)
{
	const char *colon = strchr(line, ':');
	if (!colon || colon == line)
		return NULL;
	const char *p = colon;
	while (p > line && isdigit((unsigned char)p[-1]))
		p--;
	if (p == colon || p == line)
		return NULL;
	if (!kjv && p[-1] != ' ')
		return NULL;
	const char *e;
	if (!parse_cv(p, c, v, &e))
		return NULL;
	if (kjv)
		return *e == ' ' ? e + 1 : (*e == '\0' ? e : NULL);
	return *e == ':' ? (e[1] == ' ' ? e + 2 : e + 1) : NULL;
}

/* Appends a verse, or continues the last one with line. */
static bool verses_add(struct verses *vs, int c, int v, const char *text,
		       size_t len, bool cont)
{
	if (cont) {
		if (!vs->n)
			return true;   /* text before the first verse: ignored */
		struct verse *last = &vs->v[vs->n - 1];
		size_t old = strlen(last->text);
		char *t = realloc(last->text, old + len + 2);
		if (!t)
			return false;
		t[old] = ' ';
		memcpy(t + old + 1, text, len);
		t[old + len + 1] = '\0';
		last->text = t;
		return true;
	}
	if (vs->n == vs->cap) {
		int cap = vs->cap ? 2 * vs->cap : 256;
		struct verse *nv = realloc(vs->v, (size_t)cap * sizeof *nv);
		if (!nv)
			return false;
		vs->v = nv;
		vs->cap = cap;
	}
	char *t = malloc(len + 1);
	if (!t)
		return false;
	memcpy(t, text, len);
	t[len] = '\0';
	vs->v[vs->n++] = (struct verse){ c, v, t };
	return true;
}

/* Splits a program's output into verses. */
static enum ax_status parse_output(const char *text, bool kjv, const char *book,
				   struct verses *vs, struct ax_diag *d)
{
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		char line[65536];
		if (n >= sizeof line)
			return ax_diag_set(d, AX_ERR_FORMAT, book, 0, 0,
					   "a line of %s output is too long",
					   kjv ? "bible" : "diatheke");
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (p[n] == '\n');
		if (!kjv && line[0] == '(' && line[n - 1] == ')')
			continue;   /* diatheke's "(spaRV1909eb)" trailer */
		int c = 0, v = 0;
		const char *t = verse_start(line, kjv, &c, &v);
		bool ok = t ? verses_add(vs, c, v, t, strlen(t), false)
			    : verses_add(vs, 0, 0, line, n, true);
		if (!ok)
			return ax_diag_set(d, AX_ERR_NOMEM, book, 0, 0, "out of memory");
	}
	return AX_OK;
}

static int cmp_verse(const void *a, const void *b)
{
	const struct verse *x = a, *y = b;
	if (x->chapter != y->chapter)
		return x->chapter < y->chapter ? -1 : 1;
	return (x->verse > y->verse) - (x->verse < y->verse);
}

/* Both sides of one book, cleaned. */
static enum ax_status read_book(int b, struct verses *en, struct verses *es,
				struct ax_bible_stats *st, struct ax_diag *d)
{
	const char *name = ax_bible_books[b];
	char spec[96], nospace[64];
	size_t k = 0;
	for (const char *p = name; *p && k + 1 < sizeof nospace; p++)
		if (*p != ' ')
			nospace[k++] = *p;
	nospace[k] = '\0';
	snprintf(spec, sizeof spec, "%s1:1-999:999", nospace);
	char *bible_argv[] = { "bible", "-f", spec, NULL };
	char *dia_argv[] = { "diatheke", "-b", "spaRV1909eb", "-k", (char *)name,
			     NULL };
	struct ax_run_out o;
	enum ax_status s = ax_run(bible_argv, "bible-kjv", NULL, NULL, &o, d);
	if (s != AX_OK)
		return s;
	s = parse_output(o.text, true, name, en, d);
	free(o.text);
	if (s != AX_OK)
		return s;
	s = ax_run(dia_argv, "diatheke (and sword-text-sparv)", NULL, NULL, &o, d);
	if (s != AX_OK)
		return s;
	s = parse_output(o.text, false, name, es, d);
	free(o.text);
	if (s != AX_OK)
		return s;
	if (es->n == 0)
		return ax_diag_set(d, AX_ERR_IO, "diatheke", 0, 0, "no verses of %s "
				   "from module spaRV1909eb; install the Debian "
				   "package sword-text-sparv", name);
	if (en->n == 0)
		return ax_diag_set(d, AX_ERR_IO, "bible", 0, 0, "no verses of %s; "
				   "install the Debian package bible-kjv-text", name);
	for (int i = 0; i < es->n; i++) {
		char *t = ax_osis_text(es->v[i].text, strlen(es->v[i].text));
		if (!t)
			return ax_diag_set(d, AX_ERR_NOMEM, name, 0, 0, "out of memory");
		free(es->v[i].text);
		es->v[i].text = t;
		if (!strcmp(name, "Psalms") && es->v[i].chapter == 119 &&
		    es->v[i].verse % 8 == 1)
			st->headings += ax_bible_heading(t);
		st->dropcaps += ax_bible_dropcap(t);
	}
	for (int i = 0; i < en->n; i++) {
		char *t = ax_osis_text(en->v[i].text, strlen(en->v[i].text));
		if (!t)
			return ax_diag_set(d, AX_ERR_NOMEM, name, 0, 0, "out of memory");
		free(en->v[i].text);
		en->v[i].text = t;   /* plain text: this only collapses spaces */
	}
	qsort(en->v, (size_t)en->n, sizeof *en->v, cmp_verse);
	qsort(es->v, (size_t)es->n, sizeof *es->v, cmp_verse);
	return AX_OK;
}

/* Merges the two sorted verse lists into c. */
static enum ax_status align(const struct verses *en, const struct verses *es,
			    enum ax_data_split split, bool en_src,
			    struct ax_corpus *c, struct ax_bible_stats *st,
			    struct ax_diag *d)
{
	st->verses_en += en->n;
	st->verses_es += es->n;
	int i = 0, j = 0;
	while (i < en->n || j < es->n) {
		int k = i == en->n ? 1 : j == es->n ? -1
				 : cmp_verse(&en->v[i], &es->v[j]);
		if (k < 0) {
			st->only_en++;
			i++;
			continue;
		}
		if (k > 0) {
			st->only_es++;
			j++;
			continue;
		}
		const char *a = en->v[i++].text, *b = es->v[j++].text;
		if (!*a || !*b) {
			st->empty++;
			continue;
		}
		enum ax_status s = ax_corpus_add(c, en_src ? a : b, en_src ? b : a,
						 split, d);
		if (s != AX_OK)
			return s;
		st->pairs++;
	}
	return AX_OK;
}

static int find_book(const char *name)
{
	for (int b = 0; b < AX_BIBLE_BOOKS; b++)
		if (!strcasecmp(name, ax_bible_books[b]))
			return b;
	return -1;
}

enum ax_status ax_bible_read(const char *const *books, int n_books,
			     bool en_src, struct ax_corpus *c,
			     struct ax_bible_stats *st, ax_progress_fn progress,
			     void *progress_ctx, struct ax_diag *d)
{
	bool want[AX_BIBLE_BOOKS];
	memset(st, 0, sizeof *st);
	for (int b = 0; b < AX_BIBLE_BOOKS; b++)
		want[b] = !books || n_books == 0;
	for (int i = 0; books && i < n_books; i++) {
		int b = find_book(books[i]);
		if (b < 0)
			return ax_diag_set(d, AX_ERR_INPUT, books[i], 0, 0, "no such "
					   "book; the names are English, e.g. "
					   "\"1 Kings\", \"Song of Solomon\"");
		want[b] = true;
	}
	for (int b = 0; b < AX_BIBLE_BOOKS; b++) {
		if (!want[b])
			continue;
		if (progress) {
			char msg[128];
			snprintf(msg, sizeof msg, "reading %s (%d/%d)",
				 ax_bible_books[b], b + 1, AX_BIBLE_BOOKS);
			progress(progress_ctx, msg);
		}
		struct verses en = { 0 }, es = { 0 };
		enum ax_status s = read_book(b, &en, &es, st, d);
		if (s == AX_OK)
			s = align(&en, &es, ax_bible_book_split[b], en_src, c, st, d);
		verses_free(&en);
		verses_free(&es);
		if (s != AX_OK)
			return s;
		st->books++;
	}
	return AX_OK;
}
