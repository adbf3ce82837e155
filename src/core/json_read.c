/*
 * json_read.c - parsing and checked conversions over libjansson (see
 * json_read.h).
 */
#include "json_read.h"

#include <math.h>
#include <string.h>

json_t *ax_json_parse(const char *text, size_t len, int *err_col)
{
	json_error_t err;
	json_t *v = json_loadb(text, len,
			       JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &err);
	if (!v && err_col)
		*err_col = err.position > 0 ? err.position : 1;
	return v;
}

bool ax_json_get_f64(const json_t *v, double *out)
{
	if (json_is_null(v)) {
		*out = NAN;
		return true;
	}
	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

bool ax_json_get_i64(const json_t *v, int64_t min, int64_t max,
		     int64_t *out)
{
	if (!json_is_number(v))
		return false;
	double x = json_number_value(v);
	/* Compare as doubles before converting: 0x1p63 is the first double
	 * outside int64_t, and NaN fails every comparison. */
	if (!(x >= -0x1p63 && x < 0x1p63) || x != floor(x))
		return false;
	int64_t i = (int64_t)x;
	if (i < min || i > max)
		return false;
	*out = i;
	return true;
}

bool ax_json_get_str(const json_t *v, char *out, size_t size)
{
	if (!json_is_string(v))
		return false;
	size_t n = json_string_length(v);
	if (n > size - 1)
		n = size - 1;
	memcpy(out, json_string_value(v), n);
	out[n] = '\0';
	return true;
}
