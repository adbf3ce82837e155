/*
 * json_read.h - the one way archex reads JSON: a thin layer over
 * libjansson for untrusted input (points.jsonl lines, sweep.json).
 *
 * ax_json_parse() parses one complete value with the settings every
 * reader shares: the top level must be an object or an array, nothing
 * but white space may follow it, "\u0000" is allowed inside strings,
 * every number decodes as a double (as strtod would; an integer too
 * large for int64 is not an error), nesting is bounded by jansson, and
 * of repeated member names the last one wins. The caller walks the
 * result with the jansson API and frees it with json_decref().
 *
 * The converters below check what jansson leaves to the caller: a
 * number is range-checked before it becomes an int64_t, so
 * "index": 1e300 is an error and not undefined behaviour.
 */
#ifndef AX_JSON_READ_H
#define AX_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Parses text[0..len) (see above). Returns NULL on a syntax error and
 * then sets *err_col (if non-NULL) to the number of bytes jansson read
 * before it stopped (at least 1): the 1-based byte column of the error
 * when text is one line. */
json_t *ax_json_parse(const char *text, size_t len, int *err_col);

/* A number, or null as NaN (archex writes NaN and infinities as null).
 * false for any other type. */
bool ax_json_get_f64(const json_t *v, double *out);

/* A finite integral number in [min, max]; false otherwise (null, a
 * fraction, a value out of range or not a number). */
bool ax_json_get_i64(const json_t *v, int64_t min, int64_t max,
		     int64_t *out);

/* Copies a string into out (size >= 1 bytes, NUL-terminated, cut to
 * size - 1 bytes). false if v is not a string. */
bool ax_json_get_str(const json_t *v, char *out, size_t size);

#endif
