/*
 * json.h - a small streaming JSON writer on a FILE *.
 *
 * The writer keeps a stack of open containers, so callers never write
 * commas, colons or indentation themselves:
 *
 *     struct ax_json j;
 *     ax_json_init(&j, f, AX_JSON_COMPACT);
 *     ax_json_begin_object(&j);
 *     ax_json_key(&j, "name");  ax_json_string(&j, "wmt-lite-200");
 *     ax_json_key(&j, "macs");  ax_json_int(&j, 90000000);
 *     ax_json_end_object(&j);
 *     if (ax_json_finish(&j, &diag) != AX_OK) ...
 *
 * Compact mode writes one line with no spaces ({"a":1,"b":[true,null]}),
 * as JSON Lines needs; pretty mode indents by two spaces. Neither writes
 * a trailing newline. To build a line in memory (for ax_jsonl_append), hand
 * the writer an open_memstream() FILE *.
 *
 * Values: strings are escaped (", \, control characters as \n \t ... or
 * \u00XX); valid UTF-8 passes through unchanged and each byte of an
 * invalid sequence becomes \ufffd, so the output is always valid JSON.
 * Doubles are written in the shortest form that reads back to the same
 * value, with a '.' whatever the locale, and with ".0" added to integral
 * values so readers keep them floating point; NaN and infinities have no
 * JSON form and are written as null.
 *
 * Errors are sticky: misuse (a value where a key is due, unbalanced ends,
 * nesting deeper than AX_JSON_MAX_DEPTH) and write failures stop further
 * output, and ax_json_finish() reports the first one.
 */
#ifndef AX_JSON_H
#define AX_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"

#define AX_JSON_MAX_DEPTH 32

enum ax_json_mode {
	AX_JSON_COMPACT,
	AX_JSON_PRETTY,
	AX_JSON_MODE_COUNT
};

struct ax_json {
	FILE *f;
	enum ax_json_mode mode;
	int depth;                          /* open containers */
	char open[AX_JSON_MAX_DEPTH];       /* '{' or '[' per level */
	int64_t count[AX_JSON_MAX_DEPTH];   /* members written per level */
	bool key_pending;                   /* a key was written, value due */
	int64_t top_values;                 /* values at depth 0 */
	enum ax_status status;              /* first error, sticky */
	char error[256];
};

void ax_json_init(struct ax_json *j, FILE *f, enum ax_json_mode mode);

enum ax_status ax_json_begin_object(struct ax_json *j);
enum ax_status ax_json_end_object(struct ax_json *j);
enum ax_status ax_json_begin_array(struct ax_json *j);
enum ax_status ax_json_end_array(struct ax_json *j);
/* The key of the next member; only inside an object. */
enum ax_status ax_json_key(struct ax_json *j, const char *key);

enum ax_status ax_json_string(struct ax_json *j, const char *s);
/* len bytes of s, which may hold NUL bytes (written as \u0000). */
enum ax_status ax_json_string_n(struct ax_json *j, const char *s, size_t len);
enum ax_status ax_json_int(struct ax_json *j, int64_t v);
enum ax_status ax_json_double(struct ax_json *j, double v);
enum ax_status ax_json_bool(struct ax_json *j, bool v);
enum ax_status ax_json_null(struct ax_json *j);

/* Checks that exactly one complete top-level value was written and that
 * the stream has no error; fills d otherwise. Does not close j->f. */
enum ax_status ax_json_finish(struct ax_json *j, struct ax_diag *d);

/* Writes the shortest round-trip text of a finite v ("0.1", "1e+300",
 * "3.0") into buf (at least 32 bytes); returns its length. */
int ax_json_format_double(char *buf, size_t size, double v);

#endif
