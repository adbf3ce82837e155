/*
 * util.h - small shared helpers, one of each: saturating int64
 * arithmetic, a double's bits as a word, a 64-bit word mixer, FNV-1a
 * and edit distance.
 */
#ifndef AX_UTIL_H
#define AX_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* a + b and a * b, INT64_MAX on overflow (for upper bounds of sizes:
 * the operands are >= 0). */
static inline int64_t ax_sat_add(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

static inline int64_t ax_sat_mul(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

/* A double's IEEE-754 bits as an int64 word and back: how F64 config
 * fields travel in int64 keys, point ids and sweep axis values. -0.0 is
 * folded into 0.0 so that equal values give equal words. */
static inline int64_t ax_f64_bits(double v)
{
	int64_t w;
	if (v == 0.0)
		v = 0.0;
	memcpy(&w, &v, sizeof w);
	return w;
}

static inline double ax_bits_f64(int64_t w)
{
	double v;
	memcpy(&v, &w, sizeof v);
	return v;
}

/* Mixes one word into h (a multiply-xorshift step): the cache keys of the
 * fast evaluator and sweep point ids. Not for anything stored across
 * versions unless its output is pinned by a test. */
static inline uint64_t ax_mix64(uint64_t h, int64_t x)
{
	h = (h ^ (uint64_t)x) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/* 64-bit FNV-1a. */
#define AX_FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define AX_FNV_PRIME UINT64_C(0x100000001b3)

/* Eight bytes, little-endian whatever the host: stable across machines. */
uint64_t ax_fnv_i64(uint64_t h, int64_t v);
/* The bytes of a NUL-terminated string, without the NUL. */
uint64_t ax_fnv_str(uint64_t h, const char *s);

/* Levenshtein distance, capped: min(distance, cap + 1); cap + 1 also when
 * a string is over 127 bytes (for "did you mean" hints). */
int ax_edit_distance_n(const char *a, size_t la, const char *b, size_t lb,
		       int cap);
/* The same on NUL-terminated strings. */
int ax_edit_distance(const char *a, const char *b, int cap);

#endif
