/*
 * json.c - streaming JSON writer with a container stack (see json.h).
 */
#include "json.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static enum ax_status fail(struct ax_json *j, enum ax_status s,
			   const char *what)
{
	if (j->status == AX_OK) {
		j->status = s;
		snprintf(j->error, sizeof j->error, "%s", what);
	}
	return j->status;
}

static void indent(struct ax_json *j)
{
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Everything due before a value: the comma and indentation inside an
 * array, the check that a key came first inside an object. */
static enum ax_status before_value(struct ax_json *j)
{
	if (j->status != AX_OK)
		return j->status;
	if (j->depth == 0) {
		if (j->top_values > 0)
			return fail(j, AX_ERR_INTERNAL,
				    "json: second value at top level");
		j->top_values++;
		return AX_OK;
	}
	int l = j->depth - 1;
	if (j->open[l] == '{') {
		if (!j->key_pending)
			return fail(j, AX_ERR_INTERNAL,
				    "json: value inside an object without a key");
		j->key_pending = false;
		return AX_OK;
	}
	if (j->count[l] > 0)
		fputc(',', j->f);
	if (j->mode == AX_JSON_PRETTY)
		indent(j);
	j->count[l]++;
	return AX_OK;
}

static enum ax_status after_value(struct ax_json *j)
{
	if (ferror(j->f))
		return fail(j, AX_ERR_IO, "json: write error on the stream");
	return j->status;
}

static enum ax_status begin(struct ax_json *j, char c)
{
	if (before_value(j) != AX_OK)
		return j->status;
	if (j->depth == AX_JSON_MAX_DEPTH)
		return fail(j, AX_ERR_LIMIT, "json: nesting deeper than "
			    "AX_JSON_MAX_DEPTH");
	fputc(c, j->f);
	j->open[j->depth] = c;
	j->count[j->depth] = 0;
	j->depth++;
	return after_value(j);
}

static enum ax_status end(struct ax_json *j, char open, char close)
{
	if (j->status != AX_OK)
		return j->status;
	if (j->depth == 0 || j->open[j->depth - 1] != open)
		return fail(j, AX_ERR_INTERNAL,
			    open == '{' ? "json: end_object without a matching begin"
					: "json: end_array without a matching begin");
	if (j->key_pending)
		return fail(j, AX_ERR_INTERNAL, "json: key without a value");
	int64_t n = j->count[j->depth - 1];
	j->depth--;
	if (j->mode == AX_JSON_PRETTY && n > 0)
		indent(j);
	fputc(close, j->f);
	return after_value(j);
}

void ax_json_init(struct ax_json *j, FILE *f, enum ax_json_mode mode)
{
	memset(j, 0, sizeof *j);
	j->f = f;
	j->mode = mode;
}

enum ax_status ax_json_begin_object(struct ax_json *j) { return begin(j, '{'); }
enum ax_status ax_json_begin_array(struct ax_json *j) { return begin(j, '['); }
enum ax_status ax_json_end_object(struct ax_json *j) { return end(j, '{', '}'); }
enum ax_status ax_json_end_array(struct ax_json *j) { return end(j, '[', ']'); }

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * bytes there are not one: overlong forms, surrogates and values above
 * U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp, min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; cp = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; cp = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; cp = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void write_escaped(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	size_t i = 0;
	while (i < len) {
		unsigned c = p[i];
		switch (c) {
		case '"': fputs("\\\"", f); i++; continue;
		case '\\': fputs("\\\\", f); i++; continue;
		case '\b': fputs("\\b", f); i++; continue;
		case '\f': fputs("\\f", f); i++; continue;
		case '\n': fputs("\\n", f); i++; continue;
		case '\r': fputs("\\r", f); i++; continue;
		case '\t': fputs("\\t", f); i++; continue;
		default: break;
		}
		if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		size_t n = utf8_len(p + i, len - i);
		if (n == 0) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		fwrite(p + i, 1, n, f);
		i += n;
	}
	fputc('"', f);
}

enum ax_status ax_json_key(struct ax_json *j, const char *key)
{
	if (j->status != AX_OK)
		return j->status;
	if (j->depth == 0 || j->open[j->depth - 1] != '{')
		return fail(j, AX_ERR_INTERNAL, "json: key outside an object");
	if (j->key_pending)
		return fail(j, AX_ERR_INTERNAL, "json: two keys in a row");
	int l = j->depth - 1;
	if (j->count[l] > 0)
		fputc(',', j->f);
	if (j->mode == AX_JSON_PRETTY)
		indent(j);
	j->count[l]++;
	write_escaped(j->f, key, strlen(key));
	fputs(j->mode == AX_JSON_PRETTY ? ": " : ":", j->f);
	j->key_pending = true;
	return after_value(j);
}

enum ax_status ax_json_string_n(struct ax_json *j, const char *s, size_t len)
{
	if (before_value(j) != AX_OK)
		return j->status;
	write_escaped(j->f, s, len);
	return after_value(j);
}

enum ax_status ax_json_string(struct ax_json *j, const char *s)
{
	if (!s)
		return ax_json_null(j);
	return ax_json_string_n(j, s, strlen(s));
}

enum ax_status ax_json_int(struct ax_json *j, int64_t v)
{
	if (before_value(j) != AX_OK)
		return j->status;
	fprintf(j->f, "%lld", (long long)v);
	return after_value(j);
}

/* snprintf and strtod follow LC_NUMERIC, so the round trip is checked in
 * the current locale and its decimal point is then replaced by '.'. */
int ax_json_format_double(char *buf, size_t size, double v)
{
	char tmp[64];
	int n = 0;
	if (v == floor(v) && fabs(v) < 1e15) {
		/* %g would write 100 as "1e+02"; integers read better whole. */
		n = snprintf(tmp, sizeof tmp, "%.0f", v);
	} else {
		for (int prec = 1; prec <= 17; prec++) {
			n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
			if (strtod(tmp, NULL) == v)
				break;
		}
	}
	const char *dp = localeconv()->decimal_point;
	size_t dpl = dp ? strlen(dp) : 0;
	char out[72];
	size_t o = 0;
	bool integral = true;
	for (int i = 0; i < n && o + 3 < sizeof out; i++) {
		if (dpl && strncmp(tmp + i, dp, dpl) == 0) {
			out[o++] = '.';
			i += (int)dpl - 1;
			integral = false;
			continue;
		}
		if (tmp[i] == 'e' || tmp[i] == '.')
			integral = false;
		out[o++] = tmp[i];
	}
	if (integral) {
		out[o++] = '.';
		out[o++] = '0';
	}
	out[o] = '\0';
	return snprintf(buf, size, "%s", out);
}

enum ax_status ax_json_double(struct ax_json *j, double v)
{
	if (!isfinite(v))
		return ax_json_null(j);
	if (before_value(j) != AX_OK)
		return j->status;
	char buf[80];
	ax_json_format_double(buf, sizeof buf, v);
	fputs(buf, j->f);
	return after_value(j);
}

enum ax_status ax_json_bool(struct ax_json *j, bool v)
{
	if (before_value(j) != AX_OK)
		return j->status;
	fputs(v ? "true" : "false", j->f);
	return after_value(j);
}

enum ax_status ax_json_null(struct ax_json *j)
{
	if (before_value(j) != AX_OK)
		return j->status;
	fputs("null", j->f);
	return after_value(j);
}

enum ax_status ax_json_finish(struct ax_json *j, struct ax_diag *d)
{
	if (j->status == AX_OK && ferror(j->f))
		fail(j, AX_ERR_IO, "json: write error on the stream");
	if (j->status == AX_OK && (j->depth != 0 || j->key_pending))
		fail(j, AX_ERR_INTERNAL, "json: unclosed object or array");
	if (j->status == AX_OK && j->top_values != 1)
		fail(j, AX_ERR_INTERNAL, "json: no value written");
	if (j->status != AX_OK)
		return ax_diag_set(d, j->status, NULL, 0, 0, "%s", j->error);
	return AX_OK;
}
