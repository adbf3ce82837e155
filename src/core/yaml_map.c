/*
 * yaml_map.c - node access, key lookup and checks, "did you mean" hints
 * and numbers for the YAML mapping walkers (see yaml_map.h).
 */
#include "yaml_map.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

yaml_node_t *ax_ymap_node(const struct ax_ymap *y, int id)
{
	return yaml_document_get_node(y->doc, id);
}

const char *ax_ymap_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
	       (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *ax_ymap_lookup(const struct ax_ymap *y, const yaml_node_t *map,
			    const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *ks = ax_ymap_scalar(ax_ymap_node(y, p->key));
		if (ks && !strcmp(ks, key))
			return ax_ymap_node(y, p->value);
	}
	return NULL;
}

enum ax_status ax_ymap_error(const struct ax_ymap *y, const yaml_node_t *n,
			     int col_off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum ax_status st = ax_ymap_verror(y, n, col_off, fmt, ap);
	va_end(ap);
	return st;
}

enum ax_status ax_ymap_verror(const struct ax_ymap *y, const yaml_node_t *n,
			      int col_off, const char *fmt, va_list ap)
{
	char msg[sizeof ((struct ax_diag *)0)->msg];
	vsnprintf(msg, sizeof msg, fmt, ap);
	int line = n ? (int)n->start_mark.line + 1 : 0;
	int col = n ? (int)n->start_mark.column + 1 + col_off : 0;
	return ax_diag_set(y->d, AX_ERR_INPUT, y->file, line, col, "%s", msg);
}

const char *ax_ymap_kind(const yaml_node_t *n)
{
	switch (n ? n->type : YAML_NO_NODE) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

/* Whether known is a candidate for key under the scaled rule, and at
 * what distance. */
static bool scaled_candidate(const char *key, size_t len, const char *known,
			     int *dist)
{
	size_t lb = strlen(known);
	int dd = ax_edit_distance_n(key, len, known, lb, INT_MAX - 1);
	int limit = lb / 3 > 2 ? (int)(lb / 3) : 2;
	bool prefix = len >= 3 && (strncmp(key, known, len) == 0 ||
				   (len > lb && strncmp(key, known, lb) == 0));
	*dist = dd;
	return (dd <= limit && (size_t)dd < lb) || prefix;
}

const char *ax_ymap_closest(const char *key, size_t len,
			    const char *const *keys, size_t n,
			    enum ax_ymap_hint h)
{
	const char *best = NULL;
	if (h == AX_YMAP_HINT_NEAR) {
		int best_d = 4;
		for (size_t i = 0; i < n; i++) {
			int dd = ax_edit_distance_n(key, len, keys[i], strlen(keys[i]),
						    best_d);
			if (dd < best_d) {
				best_d = dd;
				best = keys[i];
			}
		}
		return best;
	}
	int best_d = INT_MAX;
	for (size_t i = 0; i < n && len <= 64; i++) {
		int dd;
		if (scaled_candidate(key, len, keys[i], &dd) && dd < best_d) {
			best_d = dd;
			best = keys[i];
		}
	}
	return best;
}

enum ax_status ax_ymap_check_keys(const struct ax_ymap *y,
				  const yaml_node_t *map, const char *what,
				  const char *const *keys)
{
	size_t n_keys = 0;
	while (keys[n_keys])
		n_keys++;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = ax_ymap_node(y, p->key);
		const char *ks = ax_ymap_scalar(k);
		if (!ks)
			return ax_ymap_error(y, k, 0, "%s keys must be scalars", what);
		size_t i = 0;
		while (i < n_keys && strcmp(ks, keys[i]))
			i++;
		if (i == n_keys) {
			const char *hint = ax_ymap_closest(ks, strlen(ks), keys, n_keys,
							   AX_YMAP_HINT_NEAR);
			if (hint)
				return ax_ymap_error(y, k, 0, "unknown key '%s' in %s; "
						     "did you mean '%s'?", ks, what, hint);
			return ax_ymap_error(y, k, 0, "unknown key '%s' in %s", ks, what);
		}
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			const char *qs = ax_ymap_scalar(ax_ymap_node(y, q->key));
			if (qs && !strcmp(qs, ks))
				return ax_ymap_error(y, k, 0, "duplicate key '%s' in %s",
						     ks, what);
		}
	}
	return AX_OK;
}

enum ax_status ax_ymap_get_f64(const struct ax_ymap *y, const yaml_node_t *n,
			       const char *what, double min, double max,
			       double *out)
{
	const char *s = ax_ymap_scalar(n);
	if (!s)
		return ax_ymap_error(y, n, 0, "%s must be a number, not %s", what,
				     ax_ymap_kind(n));
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v))
		return ax_ymap_error(y, n, 0, "%s must be a number, not '%s'", what, s);
	if (v < min || v > max)
		return ax_ymap_error(y, n, 0, "%s = %s is outside %g..%g", what, s,
				     min, max);
	*out = v;
	return AX_OK;
}
