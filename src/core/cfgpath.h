/*
 * cfgpath.h - dotted config paths, as the YAML spells them, mapped onto
 * struct ax_config fields through one table (cfgpath.c).
 *
 * A path is an optional stack prefix ("encoder." or "decoder.") and a
 * field: "embed_dim", "decoder.layers", "encoder.ffn_dim",
 * "decoder.conv_branch.kernel_size", "vocab.share". A stack or layer field
 * without a prefix ("ffn_dim", "layers") means both stacks. Setting a
 * per-layer field with one value sets every layer of the stack; with a
 * list, layer l gets value l (the list needs at least one value per
 * layer; values past the last layer are ignored, as upstream truncates
 * its kernel lists, so [3,7,15,31,31,31] fits any stack of <= 6 layers).
 * Setting `layers` above the current count fills the new layers with a
 * copy of the last one, so a stack can grow before its fields are set.
 *
 * Values are int64 words: integers as written, booleans 0/1, enums the
 * index of their name (ax_norm_names, ...), F64 fields (the training
 * recipe's) the IEEE-754 bits of the double (ax_f64_bits, util.h), so a
 * sweep axis keeps one int64 value pool for every kind;
 * ax_cfg_value_number() reads a word as a number, ax_cfg_value_format()
 * writes it. Setters check only the field's own range; cross-field
 * checks are ax_config_validate()'s.
 *
 * `train.*` paths reach struct ax_train_config. Setting one in a config
 * without a train section first fills the recipe's defaults and marks
 * the section present (so the point's id and JSON carry the recipe).
 *
 * The table is generated from the schema rows (schema.h): every row but
 * the identity (name, family, task) and adaptive ones; lite's
 * `conv_branch.*` and lightconv's `conv.*` both reach the CONV rows. A
 * path's range is its row's, except that rows flagged AX_SF_ZERO (layers,
 * vocab.source) also accept 0, the "absent" sentinel of an LM's encoder
 * and source vocabulary: a sweep may write it, and ax_config_validate()
 * then says whether the task allows it (as it always has).
 */
#ifndef AX_CFGPATH_H
#define AX_CFGPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"
#include "schema.h"
#include "util.h"   /* ax_edit_distance(), which used to be here */

enum ax_cfg_level {
	AX_CFG_TOP,     /* a field of struct ax_config */
	AX_CFG_STACK,   /* a field of struct ax_stack_config */
	AX_CFG_LAYER,   /* a field of struct ax_layer_config */
	AX_CFG_TRAIN,   /* a field of struct ax_train_config (cfg->train) */
	AX_CFG_LEVEL_COUNT
};

enum ax_cfg_type {
	AX_CFG_I64,
	AX_CFG_F64,
	AX_CFG_BOOL,
	AX_CFG_ENUM,
	AX_CFG_TYPE_COUNT
};

struct ax_cfg_field {
	const char *name;            /* as the YAML spells it, no stack prefix */
	enum ax_cfg_level level;
	size_t offset;               /* in the struct of its level */
	enum ax_cfg_type type;
	const char *const *names;    /* AX_CFG_ENUM: the name table */
	int n_names;
	int64_t min, max;            /* AX_CFG_I64 */
	double fmin, fmax;           /* AX_CFG_F64 */
	unsigned flags;              /* AX_SF_* of the schema row */
	enum ax_rule rule;           /* the row's rule: its per-layer group */
	const char *map;             /* the mapping of the name's first part
					("conv_branch"), or NULL */
	const char *tag;             /* short tag for sweep point names */
	const char *doc;             /* the schema row's one line */
};

extern const struct ax_cfg_field ax_cfg_fields[];
extern const int ax_cfg_n_fields;

/* Which stacks a path reaches. */
enum ax_cfg_side {
	AX_CFG_SIDE_ENCODER = 1,
	AX_CFG_SIDE_DECODER = 2,
	AX_CFG_SIDE_BOTH = 3,
};

struct ax_cfg_path {
	int16_t field;               /* row of ax_cfg_fields */
	int8_t side;                 /* enum ax_cfg_side; 0 for top fields */
};

/* Parses a dotted path; false if it names no field (then *suggest, if
 * non-NULL, points to the closest valid spelling or NULL; the string is
 * the calling thread's and lasts until its next call). */
bool ax_cfg_path_parse(const char *s, struct ax_cfg_path *p,
		       const char **suggest);

/* The path as written canonically ("decoder.ffn_dim", "ffn_dim"). */
void ax_cfg_path_format(const struct ax_cfg_path *p, char *buf, size_t size);

static inline const struct ax_cfg_field *ax_cfg_path_field(const struct ax_cfg_path *p)
{
	return &ax_cfg_fields[p->field];
}

/* Sets the field from n values (n == 1: every layer; n > 1: one per
 * layer of each stack reached, n >= layer count). Fails with
 * AX_ERR_INPUT (a message in d, no file) on a value out of range or a
 * list of the wrong length. */
enum ax_status ax_cfg_path_set(struct ax_config *cfg, const struct ax_cfg_path *p,
			       const int64_t *v, int n, struct ax_diag *d);

/* The field's value word (layer fields: layer 0 of the first stack
 * reached that has layers; 0 when none; train fields: the defaults when
 * the section is absent). */
int64_t ax_cfg_path_get(const struct ax_config *cfg, const struct ax_cfg_path *p);

/* Parses one scalar as the field's type: an integer, true/false, an
 * enum name, or (F64) a finite number as strtod reads it. false if it
 * does not parse; the range is ax_cfg_value_in_range()'s. */
bool ax_cfg_value_parse(const struct ax_cfg_field *f, const char *s, int64_t *v);

/* Whether the word v is inside the field's range. */
bool ax_cfg_value_in_range(const struct ax_cfg_field *f, int64_t v);

/* The word v as a number (F64: the double it holds), for expressions. */
double ax_cfg_value_number(const struct ax_cfg_field *f, int64_t v);

/* The word v as text: an integer, true/false, an enum name, or (F64) the
 * shortest round-trip number ("0.0005", "1e-08"); and the field's range
 * ("1..1048576", "0..0.99"). */
void ax_cfg_value_format(const struct ax_cfg_field *f, int64_t v, char *buf,
			 size_t size);
void ax_cfg_range_format(const struct ax_cfg_field *f, char *buf, size_t size);

#endif
