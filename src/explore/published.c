/*
 * published.c - strict CSV reader for published accuracy figures (see
 * published.h).
 */
#include "published.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (16 << 20)
#define MAX_FIELD 256   /* longest field (source) plus its NUL */

/* The columns, in the order the header must list them. */
enum column {
	COL_CONFIG, COL_DATASET, COL_TASK, COL_METRIC, COL_VALUE,
	COL_HIGHER_IS_BETTER, COL_SOURCE,
	N_COLUMNS
};
static const char *const column_names[] = {
	[COL_CONFIG] = "config",
	[COL_DATASET] = "dataset",
	[COL_TASK] = "task",
	[COL_METRIC] = "metric",
	[COL_VALUE] = "value",
	[COL_HIGHER_IS_BETTER] = "higher_is_better",
	[COL_SOURCE] = "source",
};
static_assert(sizeof column_names / sizeof column_names[0] == N_COLUMNS,
	      "every column needs a name");

/* One parsed field: its unquoted text and its 1-based column. */
struct field {
	char text[MAX_FIELD];
	size_t len;
	int col;
};

/* Splits line[0..len) into up to N_COLUMNS fields; *nf gets the count
 * (N_COLUMNS + 1 means "too many"). Fails with a diagnostic on a bad
 * quote, a control byte or an over-long field. */
static enum ax_status split(const char *name, int lineno, const char *line,
			    size_t len, struct field *f, int *nf,
			    struct ax_diag *d)
{
	size_t i = 0;
	int n = 0;
	for (;;) {
		if (n == N_COLUMNS) {
			*nf = N_COLUMNS + 1;
			return ax_diag_set(d, AX_ERR_INPUT, name, lineno, (int)i + 1,
					   "more than %d fields", N_COLUMNS);
		}
		struct field *cur = &f[n++];
		cur->col = (int)i + 1;
		cur->len = 0;
		bool quoted = i < len && line[i] == '"';
		if (quoted)
			i++;
		for (;;) {
			if (i >= len) {
				if (quoted)
					return ax_diag_set(d, AX_ERR_INPUT, name, lineno,
							   cur->col,
							   "unterminated quoted field");
				break;
			}
			unsigned char c = (unsigned char)line[i];
			if (quoted && c == '"') {
				if (i + 1 < len && line[i + 1] == '"') {
					i++; /* "" is a literal quote */
				} else {
					i++;
					if (i < len && line[i] != ',')
						return ax_diag_set(d, AX_ERR_INPUT, name,
								   lineno, (int)i + 1,
								   "text after a closing quote");
					break;
				}
			} else if (!quoted && c == ',') {
				break;
			} else if (!quoted && c == '"') {
				return ax_diag_set(d, AX_ERR_INPUT, name, lineno,
						   (int)i + 1,
						   "quote inside an unquoted field");
			}
			if (c < 0x20 || c == 0x7f)
				return ax_diag_set(d, AX_ERR_INPUT, name, lineno,
						   (int)i + 1,
						   "control byte 0x%02x in a field", c);
			if (cur->len + 1 >= MAX_FIELD)
				return ax_diag_set(d, AX_ERR_INPUT, name, lineno,
						   cur->col, "field longer than %d bytes",
						   MAX_FIELD - 1);
			cur->text[cur->len++] = (char)c;
			i++;
		}
		cur->text[cur->len] = '\0';
		if (i >= len)
			break;
		i++; /* the comma */
	}
	*nf = n;
	return AX_OK;
}

static bool is_name(const char *s)
{
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			return false;
	return true;
}

/* [-+]? digits [. digits] ([eE] [-+]? digits)?  or  [-+]? . digits ... */
static bool is_number(const char *s)
{
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	int digits = 0;
	while (*p >= '0' && *p <= '9')
		p++, digits++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++, digits++;
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static enum ax_status name_field(const char *name, int lineno,
				 const struct field *f, int column, char *dst,
				 size_t size, struct ax_diag *d)
{
	if (f->len == 0)
		return ax_diag_set(d, AX_ERR_INPUT, name, lineno, f->col,
				   "%s: empty", column_names[column]);
	if (f->len >= size)
		return ax_diag_set(d, AX_ERR_INPUT, name, lineno, f->col,
				   "%s: longer than %zu bytes",
				   column_names[column], size - 1);
	if (!is_name(f->text))
		return ax_diag_set(d, AX_ERR_INPUT, name, lineno, f->col,
				   "%s: \"%s\" is not a name (use a-z, 0-9, '.', "
				   "'_', '-')", column_names[column], f->text);
	memcpy(dst, f->text, f->len + 1);
	return AX_OK;
}

static enum ax_status parse_row(const char *name, int lineno,
				const struct field *f, struct ax_published *r,
				struct ax_diag *d)
{
	memset(r, 0, sizeof *r);
	r->line = lineno;
	enum ax_status s;
	if ((s = name_field(name, lineno, &f[0], 0, r->config,
			    sizeof r->config, d)) ||
	    (s = name_field(name, lineno, &f[1], 1, r->dataset,
			    sizeof r->dataset, d)) ||
	    (s = name_field(name, lineno, &f[2], 2, r->task, sizeof r->task,
			    d)) ||
	    (s = name_field(name, lineno, &f[3], 3, r->metric,
			    sizeof r->metric, d)))
		return s;

	if (!is_number(f[4].text))
		return ax_diag_set(d, AX_ERR_INPUT, name, lineno, f[4].col,
				   "value: \"%s\" is not a number", f[4].text);
	errno = 0;
	char *end;
	r->value = strtod(f[4].text, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(r->value))
		return ax_diag_set(d, AX_ERR_INPUT, name, lineno, f[4].col,
				   "value: \"%s\" is out of range", f[4].text);

	if (strcmp(f[5].text, "true") == 0)
		r->higher_is_better = true;
	else if (strcmp(f[5].text, "false") == 0)
		r->higher_is_better = false;
	else
		return ax_diag_set(d, AX_ERR_INPUT, name, lineno, f[5].col,
				   "higher_is_better: \"%s\" is not true or false",
				   f[5].text);

	if (f[6].len == 0)
		return ax_diag_set(d, AX_ERR_INPUT, name, lineno, f[6].col,
				   "source: empty; say where the figure comes from");
	memcpy(r->source, f[6].text, f[6].len + 1);
	return AX_OK;
}

static enum ax_status push(struct ax_published_set *set,
			   const struct ax_published *r, const char *name,
			   struct ax_diag *d)
{
	if (set->n == set->cap) {
		int64_t cap = set->cap ? set->cap * 2 : 16;
		struct ax_published *p = realloc(set->rec, (size_t)cap * sizeof *p);
		if (!p)
			return ax_diag_set(d, AX_ERR_NOMEM, name, 0, 0,
					   "cannot grow the record array to %lld",
					   (long long)cap);
		set->rec = p;
		set->cap = cap;
	}
	set->rec[set->n++] = *r;
	return AX_OK;
}

enum ax_status ax_published_parse(struct ax_published_set *set,
				  const char *name, const char *buf,
				  size_t len, struct ax_diag *d)
{
	int64_t first = set->n; /* rolled back to on error */
	enum ax_status s = AX_OK;
	struct field *f = malloc(N_COLUMNS * sizeof *f);
	if (!f)
		return ax_diag_set(d, AX_ERR_NOMEM, name, 0, 0, "out of memory");
	size_t pos = 0;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* UTF-8 byte-order mark */
	bool header_seen = false;
	int lineno = 0;
	while (pos < len) {
		lineno++;
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n == 0 || line[0] == '#')
			continue;
		int nf = 0;
		s = split(name, lineno, line, n, f, &nf, d);
		if (s != AX_OK)
			goto roll_back;
		if (!header_seen) {
			for (int c = 0; c < N_COLUMNS; c++) {
				if (c >= nf || strcmp(f[c].text, column_names[c]) != 0) {
					s = ax_diag_set(d, AX_ERR_INPUT, name, lineno,
							c < nf ? f[c].col : (int)n + 1,
							"header: expected column %d to be "
							"\"%s\" (header must be "
							"config,dataset,task,metric,value,"
							"higher_is_better,source)",
							c + 1, column_names[c]);
					goto roll_back;
				}
			}
			header_seen = true;
			continue;
		}
		if (nf != N_COLUMNS) {
			s = ax_diag_set(d, AX_ERR_INPUT, name, lineno, (int)n + 1,
					"%d fields, expected %d", nf, N_COLUMNS);
			goto roll_back;
		}
		struct ax_published r;
		s = parse_row(name, lineno, f, &r, d);
		if (s != AX_OK)
			goto roll_back;
		for (int64_t k = first; k < set->n; k++) {
			const struct ax_published *o = &set->rec[k];
			if (!strcmp(o->config, r.config) &&
			    !strcmp(o->dataset, r.dataset) &&
			    !strcmp(o->metric, r.metric)) {
				s = ax_diag_set(d, AX_ERR_INPUT, name, lineno, 1,
						"duplicate of line %d (%s, %s, %s)",
						o->line, r.config, r.dataset,
						r.metric);
				goto roll_back;
			}
		}
		s = push(set, &r, name, d);
		if (s != AX_OK)
			goto roll_back;
	}
	if (!header_seen) {
		s = ax_diag_set(d, AX_ERR_INPUT, name, lineno > 0 ? lineno : 1, 1,
				"no header line");
		goto roll_back;
	}
	free(f);
	return AX_OK;

roll_back:
	set->n = first;
	free(f);
	return s;
}

enum ax_status ax_published_load(struct ax_published_set *set,
				 const char *path, struct ax_diag *d)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "open: %s",
				   strerror(errno));
	enum ax_status s = AX_OK;
	char *buf = malloc(MAX_FILE_BYTES + 1);
	if (!buf) {
		s = ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
		goto close_file;
	}
	size_t len = fread(buf, 1, MAX_FILE_BYTES + 1, fp);
	if (ferror(fp)) {
		s = ax_diag_set(d, AX_ERR_IO, path, 0, 0, "read: %s",
				strerror(errno));
		goto free_buf;
	}
	if (len > MAX_FILE_BYTES) {
		s = ax_diag_set(d, AX_ERR_LIMIT, path, 0, 0,
				"larger than %d bytes", MAX_FILE_BYTES);
		goto free_buf;
	}
	s = ax_published_parse(set, path, buf, len, d);
free_buf:
	free(buf);
close_file:
	fclose(fp);
	return s;
}

const struct ax_published *
ax_published_find(const struct ax_published_set *set, const char *config,
		  const char *dataset, const char *metric)
{
	for (int64_t i = 0; i < set->n; i++) {
		const struct ax_published *r = &set->rec[i];
		if (!strcmp(r->config, config) && !strcmp(r->metric, metric) &&
		    (!dataset || !strcmp(r->dataset, dataset)))
			return r;
	}
	return NULL;
}

void ax_published_free(struct ax_published_set *set)
{
	free(set->rec);
	set->rec = NULL;
	set->n = set->cap = 0;
}

bool ax_published_approx(const struct ax_published *p)
{
	return strstr(p->source, "approx.") != NULL;
}
