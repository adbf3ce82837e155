/*
 * bleu.c - sacreBLEU-compatible corpus BLEU (13a tokens, exp smoothing)
 * and chrF (see bleu.h). N-grams are compared as byte substrings: a word
 * n-gram is the span of the tokenized line from its first token to its
 * last (tokens are joined by single spaces), a character n-gram the span
 * of n code points of the line with its whitespace removed. Each side's
 * n-grams are sorted and the two lists merged, so clipped counts need no
 * hash table.
 */
#include "bleu.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- the 13a tokenizer -------------------------------------------------- */

/* s with every `from` replaced by `to` (to no longer than from); in place. */
static void replace_all(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);
	char *w = s;
	for (const char *r = s; *r;) {
		if (!strncmp(r, from, fl)) {
			memcpy(w, to, tl);
			w += tl;
			r += fl;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* Python's str.isspace() for the code point at s (*n its byte length). */
static bool py_space(const unsigned char *s, int *n)
{
	*n = 1;
	if ((s[0] >= 0x09 && s[0] <= 0x0d) || (s[0] >= 0x1c && s[0] <= 0x20))
		return true;
	unsigned cp;
	if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) {
		cp = (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
		*n = 2;
	} else if ((s[0] & 0xf0) == 0xe0 && (s[1] & 0xc0) == 0x80 &&
		   (s[2] & 0xc0) == 0x80) {
		cp = (unsigned)(s[0] & 0x0f) << 12 | (unsigned)(s[1] & 0x3f) << 6 |
		     (s[2] & 0x3f);
		*n = 3;
	} else {
		return false;
	}
	return cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* 13a's first rule: ASCII punctuation except ' , - . gets spaces around. */
static bool punct13a(unsigned char c)
{
	return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') ||
	       (c >= ' ' && c <= '&') || (c >= '(' && c <= '+') ||
	       (c >= ':' && c <= '@') || c == '/';
}

static bool digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* One pass of a two-character rule "(A)(B) -> \1 sep1 \2 sep2", leftmost
 * and non-overlapping as re.sub does; which selects the rule. */
static char *pass(const char *in, int which)
{
	size_t n = strlen(in);
	char *out = malloc(3 * n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		unsigned char a = (unsigned char)in[i], b = (unsigned char)in[i + 1];
		bool hit = false;
		if (which == 0 && punct13a(a)) {
			out[o++] = ' ';
			out[o++] = (char)a;
			out[o++] = ' ';
			i++;
			continue;
		}
		if (i + 1 < n) {
			if (which == 1)   /* ([^0-9])([\.,]) -> \1 \2 */
				hit = !digit(a) && (b == '.' || b == ',');
			else if (which == 2)   /* ([\.,])([^0-9]) -> " \1 \2" */
				hit = (a == '.' || a == ',') && !digit(b);
			else if (which == 3)   /* ([0-9])(-) -> \1 \2 */
				hit = digit(a) && b == '-';
		}
		if (!hit) {
			out[o++] = (char)a;
			i++;
			continue;
		}
		if (which == 2)
			out[o++] = ' ';
		out[o++] = (char)a;
		out[o++] = ' ';
		out[o++] = (char)b;
		if (which != 2)
			out[o++] = ' ';
		i += 2;
	}
	out[o] = '\0';
	return out;
}

/* ' '.join(s.split()) in place. */
static void squeeze(char *s)
{
	char *w = s;
	bool gap = false;
	for (unsigned char *r = (unsigned char *)s; *r;) {
		int n;
		if (py_space(r, &n)) {
			gap = true;
			r += n;
			continue;
		}
		if (gap && w != s)
			*w++ = ' ';
		gap = false;
		*w++ = (char)*r++;
	}
	*w = '\0';
}

char *ax_tok13a(const char *line)
{
	size_t n = strlen(line);
	char *s = malloc(n + 3);
	if (!s)
		return NULL;
	s[0] = ' ';
	memcpy(s + 1, line, n);
	s[n + 1] = ' ';
	s[n + 2] = '\0';
	replace_all(s, "<skipped>", "");
	replace_all(s, "-\n", "");
	for (char *p = s; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (strchr(s, '&')) {
		replace_all(s, "&quot;", "\"");
		replace_all(s, "&amp;", "&");
		replace_all(s, "&lt;", "<");
		replace_all(s, "&gt;", ">");
	}
	for (int which = 0; which < 4; which++) {
		char *t = pass(s, which);
		free(s);
		if (!t)
			return NULL;
		s = t;
	}
	squeeze(s);
	return s;
}

/* ---- n-gram counting ---------------------------------------------------- */

struct span {
	const char *p;
	size_t len;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	size_t m = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, m);
	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* Clipped matches between two sorted span lists. */
static int64_t clipped(const struct span *h, size_t nh, const struct span *r,
		       size_t nr)
{
	int64_t m = 0;
	size_t i = 0, j = 0;
	while (i < nh && j < nr) {
		int c = cmp_span(&h[i], &r[j]);
		if (c < 0) {
			i++;
		} else if (c > 0) {
			j++;
		} else {
			i++;
			j++;
			m++;
		}
	}
	return m;
}

/* Start offsets of units: tokens of a tokenized line (sep ' ') or code
 * points of a string (sep 0); starts[k] for k = count is the end + sep. */
static size_t units(const char *s, bool words, size_t *starts)
{
	size_t k = 0, n = strlen(s);
	if (words) {
		if (!n)
			return 0;
		starts[k++] = 0;
		for (size_t i = 0; i < n; i++)
			if (s[i] == ' ')
				starts[k++] = i + 1;
		starts[k] = n + 1;
		return k;
	}
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			starts[k++] = i;
	starts[k] = n;
	return k;
}

/* n-grams of order `order` (units start[i..i+order)) as sorted spans. */
static size_t ngrams(const char *s, const size_t *starts, size_t nu, int order,
		     bool words, struct span *out)
{
	if (nu < (size_t)order)
		return 0;
	size_t m = nu - (size_t)order + 1;
	for (size_t i = 0; i < m; i++) {
		out[i].p = s + starts[i];
		out[i].len = starts[i + (size_t)order] - starts[i] - (words ? 1 : 0);
	}
	qsort(out, m, sizeof *out, cmp_span);
	return m;
}

/* Counts one side pair at all orders: words (BLEU) or characters (chrF). */
static enum ax_status count(const char *h, const char *r, bool words,
			    struct ax_bleu_stats *s, struct ax_diag *d)
{
	size_t lh = strlen(h), lr = strlen(r);
	size_t *sh = malloc((lh + 2) * sizeof *sh), *sr = malloc((lr + 2) * sizeof *sr);
	struct span *gh = malloc((lh + 1) * sizeof *gh), *gr = malloc((lr + 1) * sizeof *gr);
	enum ax_status st = AX_OK;
	if (!sh || !sr || !gh || !gr) {
		st = ax_diag_set(d, AX_ERR_NOMEM, "bleu", 0, 0, "out of memory");
		goto out;
	}
	size_t nh = units(h, words, sh), nr = units(r, words, sr);
	if (words) {
		s->sys_len += (int64_t)nh;
		s->ref_len += (int64_t)nr;
	}
	int orders = words ? AX_BLEU_ORDER : AX_CHRF_ORDER;
	for (int n = 1; n <= orders; n++) {
		size_t mh = ngrams(h, sh, nh, n, words, gh);
		size_t mr = ngrams(r, sr, nr, n, words, gr);
		int64_t m = clipped(gh, mh, gr, mr);
		if (words) {
			s->total[n - 1] += (int64_t)mh;
			s->correct[n - 1] += m;
		} else {
			/* a hypothesis n-gram only counts where the reference has some */
			s->chrf[n - 1][0] += mr ? (int64_t)mh : 0;
			s->chrf[n - 1][1] += (int64_t)mr;
			s->chrf[n - 1][2] += m;
		}
	}
out:
	free(sh);
	free(sr);
	free(gh);
	free(gr);
	return st;
}

/* The line with all whitespace removed (chrF's default), new string. */
static char *strip_space(const char *line)
{
	char *s = strdup(line);
	if (!s)
		return NULL;
	char *w = s;
	for (unsigned char *r = (unsigned char *)s; *r;) {
		int n;
		if (py_space(r, &n)) {
			r += n;
			continue;
		}
		*w++ = (char)*r++;
	}
	*w = '\0';
	return s;
}

enum ax_status ax_bleu_add(struct ax_bleu_stats *s, const char *hyp,
			   const char *ref, struct ax_diag *d)
{
	char *th = ax_tok13a(hyp), *tr = ax_tok13a(ref);
	char *ch = strip_space(hyp), *cr = strip_space(ref);
	enum ax_status st = AX_OK;
	if (!th || !tr || !ch || !cr)
		st = ax_diag_set(d, AX_ERR_NOMEM, "bleu", 0, 0, "out of memory");
	if (st == AX_OK)
		st = count(th, tr, true, s, d);
	if (st == AX_OK)
		st = count(ch, cr, false, s, d);
	if (st == AX_OK)
		s->lines++;
	free(th);
	free(tr);
	free(ch);
	free(cr);
	return st;
}

/* sacreBLEU's chrF from summed statistics (eps_smoothing off). */
static double chrf_score(const struct ax_bleu_stats *s)
{
	const double eps = 1e-16, factor = AX_CHRF_BETA * AX_CHRF_BETA;
	double avg_p = 0, avg_r = 0;
	int eff = 0;
	for (int n = 0; n < AX_CHRF_ORDER; n++) {
		int64_t hyp = s->chrf[n][0], ref = s->chrf[n][1], m = s->chrf[n][2];
		double p = hyp > 0 ? (double)m / (double)hyp : eps;
		double r = ref > 0 ? (double)m / (double)ref : eps;
		if (hyp > 0 && ref > 0) {
			avg_p += p;
			avg_r += r;
			eff++;
		}
	}
	if (eff == 0)
		return 0.0;
	avg_p /= eff;
	avg_r /= eff;
	if (avg_p + avg_r == 0)
		return 0.0;
	return 100 * (1 + factor) * avg_p * avg_r / (factor * avg_p + avg_r);
}

void ax_bleu_score(const struct ax_bleu_stats *s, struct ax_bleu *o)
{
	memset(o, 0, sizeof *o);
	o->sys_len = s->sys_len;
	o->ref_len = s->ref_len;
	o->lines = s->lines;
	o->ratio = s->ref_len > 0 ? (double)s->sys_len / (double)s->ref_len : 0;
	o->chrf = chrf_score(s);
	if (s->sys_len < s->ref_len)
		o->bp = s->sys_len > 0 ? exp(1 - (double)s->ref_len / (double)s->sys_len)
				       : 0.0;
	else
		o->bp = 1.0;
	bool any = false;
	for (int n = 0; n < AX_BLEU_ORDER; n++)
		any |= s->correct[n] > 0;
	if (!any)
		return;   /* no match at all: BLEU 0 (sacreBLEU's early stop) */
	double smooth = 1.0, logsum = 0;
	for (int n = 0; n < AX_BLEU_ORDER; n++) {
		if (s->total[n] == 0)
			break;   /* precision stays 0: the score is 0 */
		if (s->correct[n] == 0) {
			smooth *= 2;
			o->precision[n] = 100.0 / (smooth * (double)s->total[n]);
		} else {
			o->precision[n] = 100.0 * (double)s->correct[n] / (double)s->total[n];
		}
	}
	for (int n = 0; n < AX_BLEU_ORDER; n++)
		logsum += o->precision[n] > 0 ? log(o->precision[n]) : -9999999999.0;
	o->score = o->bp * exp(logsum / AX_BLEU_ORDER);
}

/* The next line of f without its '\n' into *line; false at the end. */
static bool next_line(FILE *f, char **line, size_t *cap)
{
	ssize_t n = getline(line, cap, f);
	if (n < 0)
		return false;
	if (n > 0 && (*line)[n - 1] == '\n')
		(*line)[n - 1] = '\0';
	return true;
}

enum ax_status ax_bleu_files(const char *ref_path, FILE *hyp,
			     const char *hyp_name, struct ax_bleu *out,
			     struct ax_diag *d)
{
	FILE *ref = fopen(ref_path, "r");
	if (!ref)
		return ax_diag_set(d, AX_ERR_IO, ref_path, 0, 0, "open: %s",
				   strerror(errno));
	struct ax_bleu_stats s = { 0 };
	char *rl = NULL, *hl = NULL;
	size_t rc = 0, hc = 0;
	enum ax_status st = AX_OK;
	for (;;) {
		bool r = next_line(ref, &rl, &rc), h = next_line(hyp, &hl, &hc);
		if (!r && !h)
			break;
		if (r != h) {
			int64_t nr = s.lines + r, nh = s.lines + h;
			while (r && next_line(ref, &rl, &rc))
				nr++;
			while (h && next_line(hyp, &hl, &hc))
				nh++;
			st = ax_diag_set(d, AX_ERR_INPUT, hyp_name, 0, 0,
					 "%lld lines, but the reference %s has %lld",
					 (long long)nh, ref_path, (long long)nr);
			break;
		}
		st = ax_bleu_add(&s, hl, rl, d);
		if (st != AX_OK)
			break;
	}
	if (st == AX_OK && (ferror(ref) || ferror(hyp)))
		st = ax_diag_set(d, AX_ERR_IO, ferror(ref) ? ref_path : hyp_name,
				 0, 0, "read failed");
	free(rl);
	free(hl);
	fclose(ref);
	if (st == AX_OK)
		ax_bleu_score(&s, out);
	return st;
}
