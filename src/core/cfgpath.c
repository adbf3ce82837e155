/*
 * cfgpath.c - the table of settable config fields and the path parser,
 * setter and getter over it (see cfgpath.h). The table is expanded from
 * the schema rows (schema.h), named as docs/config.md spells them;
 * lightconv's `conv.*` and lite's `conv_branch.*` reach the same struct
 * fields; `train.*` the training recipe's.
 */
#include "cfgpath.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"

/* A schema row as a path row: the level, base struct and YAML prefix of
 * its list come first. */
#define PATH_ROW(level_, base, prefix, map_, kind, key, member, min_, max_,   \
		 aux, flags_, rule_, tag_, doc_)                               \
	{ .name = prefix key, .level = level_,                                 \
	  .offset = offsetof(base, member), .type = AX_CFG_##kind,             \
	  PATH_NAMES_##kind(aux, max_)                                         \
	  PATH_RANGE_##kind(min_, max_, flags_)                                \
	  .flags = (flags_), .rule = (rule_), .map = (map_), .tag = (tag_),    \
	  .doc = (doc_) },
#define PATH_NAMES_I64(aux, max)
#define PATH_NAMES_F64(aux, max)
#define PATH_RANGE_I64(lo, hi, flags)                                          \
	.min = ((flags) & AX_SF_ZERO) ? 0 : (lo), .max = (hi),
#define PATH_RANGE_BOOL(lo, hi, flags) PATH_RANGE_I64(lo, hi, flags)
#define PATH_RANGE_ENUM(lo, hi, flags) PATH_RANGE_I64(lo, hi, flags)
#define PATH_RANGE_F64(lo, hi, flags) .fmin = (lo), .fmax = (hi),
#define PATH_NAMES_BOOL(aux, max)
#define PATH_NAMES_ENUM(aux, max) .names = (aux), .n_names = (max) + 1,

#define TOP(c, kind, key, member, ctype, min, max, aux, flags, rule, tag, doc) \
	PATH_ROW(AX_CFG_TOP, struct ax_config, c, NULL, kind, key, member,     \
		 min, max, aux, flags, rule, tag, doc)
#define STACK(c, kind, key, member, ctype, min, max, aux, flags, rule, tag,   \
	      doc)                                                             \
	PATH_ROW(AX_CFG_STACK, struct ax_stack_config, c, NULL, kind, key,     \
		 member, min, max, aux, flags, rule, tag, doc)
#define LAYER(c, kind, key, member, ctype, min, max, aux, flags, rule, tag,   \
	      doc)                                                             \
	PATH_ROW(AX_CFG_LAYER, struct ax_layer_config, "", NULL, kind, key,    \
		 member, min, max, aux, flags, rule, tag, doc)
/* c: the mapping's name */
#define IN_MAP(c, kind, key, member, ctype, min, max, aux, flags, rule, tag,  \
	       doc)                                                            \
	PATH_ROW(AX_CFG_LAYER, struct ax_layer_config, c ".", c, kind, key,    \
		 member, min, max, aux, flags, rule, tag, doc)

#define TRAIN(c, kind, key, member, ctype, min, max, aux, flags, rule, tag,   \
	      doc)                                                             \
	PATH_ROW(AX_CFG_TRAIN, struct ax_train_config, "train.", NULL, kind,   \
		 key, member, min, max, aux, flags, rule, tag, doc)

/* The order is the order of sweep records' config keys
 * (ax_sweep_point_write_json) and of the id's words. */
const struct ax_cfg_field ax_cfg_fields[] = {
	AX_SCHEMA_ROOT(TOP, "")
	AX_SCHEMA_VOCAB(TOP, "vocab.")
	AX_SCHEMA_STACK(STACK, "")
	AX_SCHEMA_LAYER(LAYER, _)
	AX_SCHEMA_ATT_BRANCH(IN_MAP, "attention_branch")
	AX_SCHEMA_CONV(IN_MAP, "conv_branch")
	AX_SCHEMA_CONV(IN_MAP, "conv")
	AX_SCHEMA_TRAIN(TRAIN, _)
};
const int ax_cfg_n_fields = sizeof ax_cfg_fields / sizeof ax_cfg_fields[0];

/* Indexed by enum ax_cfg_side; 0 is a top field, "both" has no prefix. */
static const char *const side_prefix[] = {
	[0] = "",
	[AX_CFG_SIDE_ENCODER] = "encoder.",
	[AX_CFG_SIDE_DECODER] = "decoder.",
	[AX_CFG_SIDE_BOTH] = "",
};
static_assert(sizeof side_prefix / sizeof side_prefix[0] == AX_CFG_SIDE_BOTH + 1,
	      "every side needs a prefix");

bool ax_cfg_path_parse(const char *s, struct ax_cfg_path *p, const char **suggest)
{
	int side = 0;
	const char *rest = s;
	if (!strncmp(s, "encoder.", 8)) {
		side = AX_CFG_SIDE_ENCODER;
		rest = s + 8;
	} else if (!strncmp(s, "decoder.", 8)) {
		side = AX_CFG_SIDE_DECODER;
		rest = s + 8;
	}
	for (int i = 0; i < ax_cfg_n_fields; i++) {
		const struct ax_cfg_field *f = &ax_cfg_fields[i];
		if (strcmp(rest, f->name))
			continue;
		bool whole = f->level == AX_CFG_TOP || f->level == AX_CFG_TRAIN;
		if (whole && side)
			break;
		p->field = (int16_t)i;
		p->side = (int8_t)(whole ? 0 : side ? side : AX_CFG_SIDE_BOTH);
		return true;
	}
	if (suggest) {
		/* the closest spelling over every field with every prefix */
		static _Thread_local char best[64];   /* what *suggest points to */
		int bd = 4;
		*suggest = NULL;
		for (int i = 0; i < ax_cfg_n_fields; i++)
			for (int k = 0; k < 3; k++) {
				char cand[64];
				if (k && (ax_cfg_fields[i].level == AX_CFG_TOP ||
					  ax_cfg_fields[i].level == AX_CFG_TRAIN))
					continue;
				snprintf(cand, sizeof cand, "%s%s", side_prefix[k],
					 ax_cfg_fields[i].name);
				int dist = ax_edit_distance(s, cand, bd);
				if (dist < bd) {
					bd = dist;
					snprintf(best, sizeof best, "%s", cand);
					*suggest = best;
				}
			}
	}
	return false;
}

void ax_cfg_path_format(const struct ax_cfg_path *p, char *buf, size_t size)
{
	const char *pre = p->side == AX_CFG_SIDE_ENCODER ? "encoder." :
			  p->side == AX_CFG_SIDE_DECODER ? "decoder." : "";
	snprintf(buf, size, "%s%s", pre, ax_cfg_fields[p->field].name);
}

static void put(void *field, enum ax_cfg_type t, int64_t v)
{
	switch (t) {
	case AX_CFG_I64: *(int64_t *)field = v; break;
	case AX_CFG_F64: *(double *)field = ax_bits_f64(v); break;
	case AX_CFG_BOOL: *(bool *)field = v != 0; break;
	case AX_CFG_ENUM: *(int *)field = (int)v; break;
	case AX_CFG_TYPE_COUNT: break;
	}
}

static int64_t get(const void *field, enum ax_cfg_type t)
{
	switch (t) {
	case AX_CFG_I64: return *(const int64_t *)field;
	case AX_CFG_F64: return ax_f64_bits(*(const double *)field);
	case AX_CFG_BOOL: return *(const bool *)field;
	case AX_CFG_ENUM: return *(const int *)field;
	case AX_CFG_TYPE_COUNT: break;
	}
	return 0;
}

static struct ax_stack_config *stack_of(struct ax_config *cfg, int s)
{
	return s == 0 ? &cfg->encoder : &cfg->decoder;
}

enum ax_status ax_cfg_path_set(struct ax_config *cfg, const struct ax_cfg_path *p,
			       const int64_t *v, int n, struct ax_diag *d)
{
	const struct ax_cfg_field *f = &ax_cfg_fields[p->field];
	for (int i = 0; i < n; i++)
		if (!ax_cfg_value_in_range(f, v[i])) {
			char vs[40], rs[96];
			ax_cfg_value_format(f, v[i], vs, sizeof vs);
			ax_cfg_range_format(f, rs, sizeof rs);
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "%s%s = %s is outside %s",
					   side_prefix[p->side & 3], f->name, vs, rs);
		}
	if (f->level == AX_CFG_TOP || f->level == AX_CFG_TRAIN) {
		if (n != 1)
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "%s takes one value, not a list", f->name);
		char *base = (char *)cfg;
		if (f->level == AX_CFG_TRAIN) {
			if (!cfg->train.enabled) {
				ax_config_train_default(&cfg->train);
				cfg->train.enabled = true;
			}
			base = (char *)&cfg->train;
		}
		put(base + f->offset, f->type, v[0]);
		return AX_OK;
	}
	for (int s = 0; s < 2; s++) {
		if (!(p->side & (1 << s)))
			continue;
		struct ax_stack_config *st = stack_of(cfg, s);
		if (f->level == AX_CFG_STACK) {
			if (n != 1)
				return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
						   "layers takes one value, not a list");
			/* a stack absent from the model (an LM's encoder)
			 * stays absent under a side-less path */
			if (p->side == AX_CFG_SIDE_BOTH && st->layers == 0)
				continue;
			for (int64_t l = st->layers; l < v[0]; l++)
				st->layer[l] = st->layer[l ? l - 1 : 0];
			st->layers = v[0];
			continue;
		}
		if (n > 1 && n < st->layers)
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "%s%s has %d values for %lld layers",
					   side_prefix[s + 1], f->name, n,
					   (long long)st->layers);
		for (int64_t l = 0; l < st->layers; l++)
			put((char *)&st->layer[l] + f->offset, f->type,
			    v[n > 1 ? l : 0]);
	}
	return AX_OK;
}

int64_t ax_cfg_path_get(const struct ax_config *cfg, const struct ax_cfg_path *p)
{
	const struct ax_cfg_field *f = &ax_cfg_fields[p->field];
	if (f->level == AX_CFG_TOP)
		return get((const char *)cfg + f->offset, f->type);
	if (f->level == AX_CFG_TRAIN) {
		struct ax_train_config def;
		const struct ax_train_config *t = &cfg->train;
		if (!t->enabled) {
			memset(&def, 0, sizeof def);
			ax_config_train_default(&def);
			t = &def;
		}
		return get((const char *)t + f->offset, f->type);
	}
	for (int s = 0; s < 2; s++) {
		if (!(p->side & (1 << s)))
			continue;
		const struct ax_stack_config *st = s == 0 ? &cfg->encoder : &cfg->decoder;
		if (f->level == AX_CFG_STACK) {
			if (st->layers || p->side != AX_CFG_SIDE_BOTH)
				return st->layers;
			continue;
		}
		if (st->layers > 0)
			return get((const char *)&st->layer[0] + f->offset, f->type);
	}
	return 0;
}

bool ax_cfg_value_parse(const struct ax_cfg_field *f, const char *s, int64_t *v)
{
	switch (f->type) {
	case AX_CFG_I64: {
		char *end;
		errno = 0;
		long long x = strtoll(s, &end, 10);
		if (errno || end == s || *end)
			return false;
		*v = x;
		return true;
	}
	case AX_CFG_F64: {
		char *end;
		errno = 0;
		double x = strtod(s, &end);
		/* decimal only: no hex, inf or nan spellings */
		if (end == s || *end || !isfinite(x) || strpbrk(s, "xXnN"))
			return false;
		*v = ax_f64_bits(x);
		return true;
	}
	case AX_CFG_BOOL:
		if (!strcmp(s, "true"))
			*v = 1;
		else if (!strcmp(s, "false"))
			*v = 0;
		else
			return false;
		return true;
	case AX_CFG_ENUM:
		for (int i = 0; i < f->n_names; i++)
			if (!strcmp(s, f->names[i])) {
				*v = i;
				return true;
			}
		return false;
	case AX_CFG_TYPE_COUNT:
		break;
	}
	return false;
}

bool ax_cfg_value_in_range(const struct ax_cfg_field *f, int64_t v)
{
	if (f->type == AX_CFG_F64) {
		double x = ax_bits_f64(v);
		return x >= f->fmin && x <= f->fmax;   /* false for NaN */
	}
	return v >= f->min && v <= f->max;
}

double ax_cfg_value_number(const struct ax_cfg_field *f, int64_t v)
{
	return f->type == AX_CFG_F64 ? ax_bits_f64(v) : (double)v;
}

void ax_cfg_value_format(const struct ax_cfg_field *f, int64_t v, char *buf,
			 size_t size)
{
	char num[40];
	switch (f->type) {
	case AX_CFG_F64:
		if (!isfinite(ax_bits_f64(v)))
			snprintf(num, sizeof num, "%s", "nan");
		else
			ax_cfg_num_text(num, sizeof num, ax_bits_f64(v));
		snprintf(buf, size, "%s", num);
		return;
	case AX_CFG_BOOL:
		snprintf(buf, size, "%s", v ? "true" : "false");
		return;
	case AX_CFG_ENUM:
		if (v >= 0 && v < f->n_names) {
			snprintf(buf, size, "%s", f->names[v]);
			return;
		}
		break;
	default:
		break;
	}
	snprintf(buf, size, "%" PRId64, v);
}

void ax_cfg_range_format(const struct ax_cfg_field *f, char *buf, size_t size)
{
	if (f->type == AX_CFG_F64) {
		char lo[40], hi[40];
		ax_cfg_num_text(lo, sizeof lo, f->fmin);
		ax_cfg_num_text(hi, sizeof hi, f->fmax);
		snprintf(buf, size, "%s..%s", lo, hi);
		return;
	}
	snprintf(buf, size, "%" PRId64 "..%" PRId64, f->min, f->max);
}
