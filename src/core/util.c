/*
 * util.c - FNV-1a and edit distance (see util.h).
 */
#include "util.h"

#include <string.h>

uint64_t ax_fnv_i64(uint64_t h, int64_t v)
{
	uint64_t u = (uint64_t)v;

	for (int i = 0; i < 8; i++) {
		h ^= (u >> (8 * i)) & 0xff;
		h *= AX_FNV_PRIME;
	}
	return h;
}

uint64_t ax_fnv_str(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= AX_FNV_PRIME;
	}
	return h;
}

#define EDIT_MAX 127   /* longest string compared */

int ax_edit_distance_n(const char *a, size_t la, const char *b, size_t lb,
		       int cap)
{
	int row[EDIT_MAX + 1];

	if (la > EDIT_MAX || lb > EDIT_MAX)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0], lo;
		row[0] = (int)i;
		lo = row[0];
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
			if (best < lo)
				lo = best;
		}
		if (lo > cap)   /* every later row is at least lo */
			return cap + 1;
	}
	return row[lb] > cap ? cap + 1 : row[lb];
}

int ax_edit_distance(const char *a, const char *b, int cap)
{
	return ax_edit_distance_n(a, strlen(a), b, strlen(b), cap);
}
