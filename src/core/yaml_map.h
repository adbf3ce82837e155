/*
 * yaml_map.h - the pieces every YAML mapping walker of archex shares
 * (sweep files, model configs, device files): node access, a
 * key's lookup, the check of a mapping's keys against a NULL-terminated
 * list with a "did you mean" hint, the hint itself under either of the
 * two rules the loaders use, and a number read with strtod. Errors are
 * AX_ERR_INPUT diagnostics at the node's 1-based line and column (libyaml
 * marks are 0-based); the messages are the ones the loaders always gave,
 * so moving a loader onto these changes none of its output.
 */
#ifndef AX_YAML_MAP_H
#define AX_YAML_MAP_H

#include <stdarg.h>
#include <stddef.h>

#include <yaml.h>

#include "diag.h"

/* One document being walked and where its errors go. */
struct ax_ymap {
	yaml_document_t *doc;
	const char *file;      /* the name in diagnostics */
	struct ax_diag *d;
};

/* The node of id, or NULL. */
yaml_node_t *ax_ymap_node(const struct ax_ymap *y, int id);

/* The text of a scalar node; NULL for any other node or NULL. */
const char *ax_ymap_scalar(const yaml_node_t *n);

/* The value of key in mapping map (the first pair with that scalar
 * key), or NULL. */
yaml_node_t *ax_ymap_lookup(const struct ax_ymap *y, const yaml_node_t *map,
			    const char *key);

/* An AX_ERR_INPUT diagnostic at n (line 0 when n is NULL), its column
 * moved right by col_off. */
enum ax_status ax_ymap_error(const struct ax_ymap *y, const yaml_node_t *n,
			     int col_off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with a va_list, for a loader's own error function. */
enum ax_status ax_ymap_verror(const struct ax_ymap *y, const yaml_node_t *n,
			      int col_off, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Which known key a misspelt one is closest to. */
enum ax_ymap_hint {
	/* the first key at the least edit distance, if under 4 (sweep and
	 * device files) */
	AX_YMAP_HINT_NEAR,
	/* the first key at the least distance among those within
	 * max(2, |known| / 3) and under |known|, or sharing a 3+ byte prefix
	 * with it (model configs); none for keys over 64 bytes */
	AX_YMAP_HINT_SCALED,
	AX_YMAP_HINT_COUNT
};

/* The closest of keys[0..n) to key[0..len) under rule h, or NULL. */
const char *ax_ymap_closest(const char *key, size_t len,
			    const char *const *keys, size_t n,
			    enum ax_ymap_hint h);

/* Every key of mapping map is a scalar in keys (NULL-terminated) and is
 * given once; else the first offence, at its key:
 *   "WHAT keys must be scalars"
 *   "unknown key 'K' in WHAT; did you mean 'H'?" (AX_YMAP_HINT_NEAR) or
 *   "unknown key 'K' in WHAT"
 *   "duplicate key 'K' in WHAT" */
enum ax_status ax_ymap_check_keys(const struct ax_ymap *y,
				  const yaml_node_t *map, const char *what,
				  const char *const *keys);

/* A finite number in [min, max] read with strtod from scalar n:
 *   "WHAT must be a number, not a list" (a mapping, nothing)
 *   "WHAT must be a number, not 'TEXT'"
 *   "WHAT = TEXT is outside MIN..MAX" (%g) */
enum ax_status ax_ymap_get_f64(const struct ax_ymap *y, const yaml_node_t *n,
			       const char *what, double min, double max,
			       double *out);

/* "a scalar", "a list", "a mapping" or "nothing": n's kind in messages. */
const char *ax_ymap_kind(const yaml_node_t *n);

#endif
