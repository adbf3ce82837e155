/*
 * config_load.c - stage 3 of loading: the field tables, generated from
 * the schema rows (schema.h) plus the mappings that nest them, and the
 * walker that applies them to a libyaml document; then the entry points
 * ax_config_load_with() and ax_config_load_string_with() (stages in
 * config_rules.h). Nothing here prints, exits or keeps state between
 * calls.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"
#include "util.h"
#include "yaml_map.h"

#define MAX_FIELDS 24                       /* keys in one mapping's table */

struct walk {
	const struct ax_config_rules *rules;
	const char *file;
	yaml_document_t *doc;
	struct ax_config *cfg;
	struct pos *pos;                /* per byte offset in *cfg */
	struct ax_stack_config *stack;  /* the stack being walked, or NULL */
	enum ax_side side;
	char path[PATH_LEN];            /* key path of this mapping; "" = root */
	struct ax_diag *d;
};

/* ---- the tables --------------------------------------------------------- */

/* A schema row as a table row. ctx is the row's base struct for scalars;
 * per-layer rows take their rule from the row (LAYER_RULE) or, inside a
 * mapping whose own row decides its presence, none (MAP_RULE). */
#define LEAF(base, kind, key_, member, ctype, min_, max_, aux, flags, rule_,  \
	     tag, doc)                                                         \
	{ .key = key_, .type = FT_##kind, .offset = offsetof(base, member),    \
	  AX_SCHEMA_RANGE(kind, min_, max_)                                    \
	  .required = !((flags) & AX_SF_OPTIONAL),                             \
	  .early = ((flags) & AX_SF_EARLY) != 0, .rule = rule_,                \
	  LEAF_##kind(base, member, aux) },
#define LAYER_LEAF(rule_of, kind, key_, member, ctype, min_, max_, aux,      \
		   flags, rule_, tag, doc)                                     \
	{ .key = key_, .type = FT_##kind,                                      \
	  .offset = offsetof(struct ax_layer_config, member),                  \
	  AX_SCHEMA_RANGE(kind, min_, max_)                                    \
	  .required = true, .per_layer = true,                                 \
	  .rule = rule_of(rule_),                                              \
	  LEAF_##kind(struct ax_layer_config, member, aux) },
#define LEAF_I64(base, member, aux)
#define LEAF_F64(base, member, aux)
#define LEAF_BOOL(base, member, aux)
#define LEAF_STR(base, member, aux)
#define LEAF_ENUM(base, member, aux) .names = (aux), .n_names = (int)ARRAY_LEN(aux)
#define LEAF_LIST(base, member, aux)                                           \
	.count_offset = offsetof(base, n_##member##s), .max_count = (aux)
#define LAYER_RULE(r) (r)
#define MAP_RULE(r) AX_RULE_NONE
#define SUB(table) .sub = (table), .n_sub = ARRAY_LEN(table)

static const struct field attention_branch_fields[] = {
	AX_SCHEMA_ATT_BRANCH(LAYER_LEAF, MAP_RULE)
};

/* Lite's conv_branch and LightConv's conv. */
static const struct field conv_fields[] = {
	AX_SCHEMA_CONV(LAYER_LEAF, MAP_RULE)
};

/* The family table (models/) says which of the mappings a family has. */
static const struct field stack_fields[] = {
	AX_SCHEMA_STACK(LEAF, struct ax_stack_config)
	AX_SCHEMA_LAYER(LAYER_LEAF, LAYER_RULE)
	{ .key = "attention_branch", .type = FT_MAP, SUB(attention_branch_fields),
	  .rule = AX_RULE_ATT_BRANCH },
	{ .key = "conv_branch", .type = FT_MAP, SUB(conv_fields),
	  .rule = AX_RULE_CONV },
	{ .key = "conv", .type = FT_MAP, SUB(conv_fields),
	  .rule = AX_RULE_CONV },
};

static const struct field vocab_fields[] = {
	AX_SCHEMA_VOCAB(LEAF, struct ax_config)
};

static const struct field adaptive_fields[] = {
	AX_SCHEMA_ADAPTIVE(LEAF, struct ax_adaptive_config)
};

static const struct field train_fields[] = {
	AX_SCHEMA_TRAIN(LEAF, struct ax_train_config)
};

/* A present `train:` starts from the defaults its keys override. */
static void train_init(void *map)
{
	ax_config_train_default(map);
}

static const struct field root_fields[] = {
	AX_SCHEMA_IDENTITY(LEAF, struct ax_config)
	AX_SCHEMA_ROOT(LEAF, struct ax_config)
	{ .key = "vocab", .type = FT_MAP, SUB(vocab_fields), .required = true },
	{ .key = "adaptive", .type = FT_MAP,
	  .offset = offsetof(struct ax_config, adaptive), SUB(adaptive_fields),
	  .has_flag = true,
	  .flag_offset = offsetof(struct ax_adaptive_config, enabled),
	  .rule = AX_RULE_ADAPTIVE },
	{ .key = "encoder", .type = FT_STACK,
	  .offset = offsetof(struct ax_config, encoder), SUB(stack_fields),
	  .side = AX_SIDE_ENCODER, .rule = AX_RULE_TRANSLATION },
	{ .key = "decoder", .type = FT_STACK,
	  .offset = offsetof(struct ax_config, decoder), SUB(stack_fields),
	  .side = AX_SIDE_DECODER, .required = true },
	{ .key = "train", .type = FT_MAP,
	  .offset = offsetof(struct ax_config, train), SUB(train_fields),
	  .has_flag = true,
	  .flag_offset = offsetof(struct ax_train_config, enabled),
	  .init = train_init },
};

static_assert(ARRAY_LEN(root_fields) <= MAX_FIELDS &&
	      ARRAY_LEN(train_fields) <= MAX_FIELDS &&
	      ARRAY_LEN(stack_fields) <= MAX_FIELDS &&
	      ARRAY_LEN(conv_fields) <= MAX_FIELDS,
	      "raise MAX_FIELDS");

const struct field *const ax_cfg_root_fields = root_fields;
const size_t ax_cfg_n_root_fields = ARRAY_LEN(root_fields);

/* ---- presence ----------------------------------------------------------- */

/* The rules of norm and task are the same for every family; the rest are
 * the family table's. */
enum ax_presence ax_cfg_presence(const struct ax_config_rules *r,
				 const struct ax_config *cfg, enum ax_side side,
				 const struct field *f, const char **why)
{
	*why = NULL;
	switch (f->rule) {
	case AX_RULE_NONE:
		return f->required ? AX_PRESENCE_REQUIRED : AX_PRESENCE_OPTIONAL;
	case AX_RULE_FINAL_NORM:
		if (cfg->norm == AX_NORM_PRE) {
			*why = "norm: pre must say whether each stack ends in a LayerNorm";
			return AX_PRESENCE_REQUIRED;
		}
		*why = "norm: post stacks have no final LayerNorm";
		return AX_PRESENCE_FORBIDDEN;
	case AX_RULE_TRANSLATION:
		if (cfg->task == AX_TASK_TRANSLATION) {
			*why = "task translation has an encoder and a source vocabulary";
			return AX_PRESENCE_REQUIRED;
		}
		*why = "a language_model has no source side (no encoder, no source vocabulary)";
		return AX_PRESENCE_FORBIDDEN;
	case AX_RULE_ADAPTIVE:
		if (cfg->task == AX_TASK_LANGUAGE_MODEL)
			return AX_PRESENCE_OPTIONAL;
		*why = "adaptive input and softmax are for task language_model only";
		return AX_PRESENCE_FORBIDDEN;
	default:
		return r->presence(cfg, side, f->rule, f->key, why);
	}
}

/* ---- the walker --------------------------------------------------------- */

static struct pos node_pos(const yaml_node_t *n)
{
	return mark_pos(n->start_mark);
}

static enum ax_status node_error(const struct walk *w, const yaml_node_t *n,
				 enum ax_status st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum ax_status node_error(const struct walk *w, const yaml_node_t *n,
				 enum ax_status st, const char *fmt, ...)
{
	char msg[sizeof ((struct ax_diag *)0)->msg];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ax_cfg_pos_error(w->d, st, w->file, node_pos(n), "%s", msg);
}

static void record(const struct walk *w, const void *field,
		   const yaml_node_t *n)
{
	size_t off = (size_t)((const char *)field - (const char *)w->cfg);

	assert(off < sizeof *w->cfg);
	w->pos[off] = node_pos(n);
}

/* Marks a path that did not fit; table paths are far shorter than
 * PATH_LEN, so this only guards against our own future mistakes. */
static void mark_cut(char *buf, size_t size, int n)
{
	if (n >= 0 && (size_t)n >= size && size >= 4)
		memcpy(buf + size - 4, "...", 4);
}

/* "decoder.conv_branch" + "dim" -> "decoder.conv_branch.dim". */
static void key_path(const struct walk *w, const char *key, char *buf,
		     size_t size)
{
	mark_cut(buf, size, snprintf(buf, size, "%s%s%s", w->path,
				     w->path[0] ? "." : "", key));
}

static const char *kind_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	default:
		return "a scalar";
	}
}

static const char *type_name(enum field_type t)
{
	switch (t) {
	case FT_I64:
		return "an integer";
	case FT_F64:
		return "a number";
	case FT_BOOL:
		return "a boolean (true or false)";
	case FT_ENUM:
	case FT_STR:
		return "a string";
	case FT_LIST:
		return "a sequence of integers";
	default:
		return "a mapping";
	}
}

/* "expected X, got Y" where Y quotes a scalar. */
static enum ax_status type_error(const struct walk *w, const yaml_node_t *n,
				 const char *path, const char *expected)
{
	if (n->type != YAML_SCALAR_NODE)
		return node_error(w, n, AX_ERR_INPUT, "%s: expected %s, got %s",
				  path, expected, kind_name(n));
	if (n->data.scalar.length == 0 &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return node_error(w, n, AX_ERR_INPUT,
				  "%s: expected %s, got an empty value", path,
				  expected);
	return node_error(w, n, AX_ERR_INPUT, "%s: expected %s, got %s'%.40s'",
			  path, expected,
			  n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
				  ? "" : "the quoted string ",
			  (const char *)n->data.scalar.value);
}

static bool scalar_is(const yaml_node_t *n, const char *s)
{
	size_t len = strlen(s);

	return n->data.scalar.length == len &&
	       memcmp(n->data.scalar.value, s, len) == 0;
}

/* A plain decimal integer: [+-]?[0-9]+ (no floats, exponents, hex). */
static enum ax_status parse_int(const struct walk *w, const struct field *f,
				const yaml_node_t *n, const char *path,
				int64_t *out)
{
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length, i = 0;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return type_error(w, n, path, "an integer");
	if (len > 0 && (s[0] == '-' || s[0] == '+'))
		i = 1;
	if (i == len)
		return type_error(w, n, path, "an integer");
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return type_error(w, n, path, "an integer");
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return node_error(w, n, AX_ERR_LIMIT,
				  "%s: %.40s does not fit in a 64-bit integer",
				  path, s);
	if (errno != 0 || end != s + len)
		return type_error(w, n, path, "an integer");
	if (v < f->min || v > f->max)
		return node_error(w, n, v < f->min ? AX_ERR_INPUT : AX_ERR_LIMIT,
				  "%s is %lld, must be in %" PRId64 "..%" PRId64,
				  path, v, f->min, f->max);
	*out = v;
	return AX_OK;
}

/* A plain YAML 1.2 core-schema number: [-+]?(.D+|D+(.D*)?)([eE][-+]?D+)?
 * (integers included). Its length, or 0 if s is not one. */
static size_t number_len(const char *s, size_t len)
{
	size_t i = 0, d = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		d++;
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
	if (d == 0)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t e = 0;
		if (++i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			e++;
		if (e == 0)
			return 0;
	}
	return i;
}

/* YAML's .inf, .nan and the C spellings inf, nan, with any case or sign. */
static bool is_nonfinite_word(const char *s, size_t len)
{
	static const char *const words[] = { ".inf", ".nan", "inf", "nan",
					     "infinity" };
	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		s++;
		len--;
	}
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (strlen(words[i]) == len && strncasecmp(s, words[i], len) == 0)
			return true;
	return false;
}

/* A finite double in [f->fmin, f->fmax], parsed with strtod; its bits in
 * *out (parse_scalar's int64 carrier; store() puts them back). */
static enum ax_status parse_float(const struct walk *w, const struct field *f,
				  const yaml_node_t *n, const char *path,
				  int64_t *out)
{
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return type_error(w, n, path, "a number");
	if (is_nonfinite_word(s, len))
		return node_error(w, n, AX_ERR_INPUT,
				  "%s: %.40s is not a finite number", path, s);
	if (len == 0 || number_len(s, len) != len)
		return type_error(w, n, path, "a number");
	errno = 0;
	char *end = NULL;
	double v = strtod(s, &end);
	if (end != s + len)
		return type_error(w, n, path, "a number");
	if (!isfinite(v))
		return node_error(w, n, AX_ERR_LIMIT,
				  "%s: %.40s is beyond the range of a double",
				  path, s);
	if (!(v >= f->fmin && v <= f->fmax)) {
		char vs[32], lo[32], hi[32];
		ax_cfg_num_text(vs, sizeof vs, v);
		ax_cfg_num_text(lo, sizeof lo, f->fmin);
		ax_cfg_num_text(hi, sizeof hi, f->fmax);
		return node_error(w, n, v < f->fmin ? AX_ERR_INPUT : AX_ERR_LIMIT,
				  "%s is %s, must be in %s..%s", path, vs, lo, hi);
	}
	memcpy(out, &v, sizeof v);
	return AX_OK;
}

/* YAML 1.2 core-schema booleans, plain only. */
static enum ax_status parse_bool(const struct walk *w, const yaml_node_t *n,
				 const char *path, int64_t *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };

	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
			if (scalar_is(n, yes[i])) {
				*out = 1;
				return AX_OK;
			}
			if (scalar_is(n, no[i])) {
				*out = 0;
				return AX_OK;
			}
		}
	}
	return type_error(w, n, path, "a boolean (true or false)");
}

static enum ax_status parse_enum(const struct walk *w, const struct field *f,
				 const yaml_node_t *n, const char *path,
				 int64_t *out)
{
	char allowed[256] = "";
	size_t used = 0;

	for (int i = 0; i < f->n_names; i++) {
		if (scalar_is(n, f->names[i])) {
			*out = i;
			return AX_OK;
		}
		int k = snprintf(allowed + used, sizeof allowed - used, "%s%s",
				 i ? ", " : "", f->names[i]);
		if (k > 0 && (size_t)k < sizeof allowed - used)
			used += (size_t)k;
	}
	return node_error(w, n, AX_ERR_INPUT,
			  "%s: '%.40s' is not one of: %s", path,
			  (const char *)n->data.scalar.value, allowed);
}

/* An integer, boolean or enum scalar, as int64_t. */
static enum ax_status parse_scalar(const struct walk *w, const struct field *f,
				   const yaml_node_t *n, const char *path,
				   int64_t *out)
{
	if (n->type != YAML_SCALAR_NODE)
		return type_error(w, n, path, type_name(f->type));
	switch (f->type) {
	case FT_I64:
		return parse_int(w, f, n, path, out);
	case FT_F64:
		return parse_float(w, f, n, path, out);
	case FT_BOOL:
		return parse_bool(w, n, path, out);
	default:
		return parse_enum(w, f, n, path, out);
	}
}

static void store(const struct field *f, void *dst, int64_t v)
{
	switch (f->type) {
	case FT_I64:
		*(int64_t *)dst = v;
		break;
	case FT_F64:
		memcpy(dst, &v, sizeof(double));   /* parse_float's bits */
		break;
	case FT_BOOL:
		*(bool *)dst = v != 0;
		break;
	default:
		*(int *)dst = (int)v;
		break;
	}
}

/* A scalar for every layer, or a sequence of exactly `layers` scalars. */
static enum ax_status walk_per_layer(const struct walk *w,
				     const struct field *f,
				     const yaml_node_t *n, const char *path)
{
	struct ax_stack_config *s = w->stack;
	int64_t v = 0;
	enum ax_status st;

	assert(s && s->layers >= 1 && s->layers <= AX_MAX_LAYERS);
	if (n->type == YAML_SEQUENCE_NODE) {
		const yaml_node_item_t *it = n->data.sequence.items.start;
		ptrdiff_t count = n->data.sequence.items.top - it;
		if (count != s->layers)
			return node_error(w, n, AX_ERR_INPUT,
					  "%s has %td %s, but %s.layers is %" PRId64
					  " (give one per layer, or one scalar for all)",
					  path, count, count == 1 ? "entry" : "entries",
					  ax_side_names[w->side],
					  s->layers);
		for (int64_t i = 0; i < s->layers; i++) {
			char elem[PATH_LEN + 32];
			const yaml_node_t *e = yaml_document_get_node(w->doc, it[i]);
			snprintf(elem, sizeof elem, "%s[%" PRId64 "]", path, i);
			if ((st = parse_scalar(w, f, e, elem, &v)) != AX_OK)
				return st;
			void *dst = (char *)&s->layer[i] + f->offset;
			store(f, dst, v);
			record(w, dst, e);
		}
		return AX_OK;
	}
	if (n->type != YAML_SCALAR_NODE) {
		char expected[64];
		snprintf(expected, sizeof expected, "%s or a sequence of them",
			 type_name(f->type));
		return type_error(w, n, path, expected);
	}
	if ((st = parse_scalar(w, f, n, path, &v)) != AX_OK)
		return st;
	for (int64_t i = 0; i < s->layers; i++) {
		void *dst = (char *)&s->layer[i] + f->offset;
		store(f, dst, v);
		record(w, dst, n);
	}
	return AX_OK;
}

static enum ax_status walk_int_list(const struct walk *w,
				    const struct field *f, const yaml_node_t *n,
				    const char *path, char *base)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return type_error(w, n, path, type_name(f->type));
	const yaml_node_item_t *it = n->data.sequence.items.start;
	ptrdiff_t count = n->data.sequence.items.top - it;
	if (count == 0)
		return node_error(w, n, AX_ERR_INPUT, "%s must not be empty", path);
	if (count > f->max_count)
		return node_error(w, n, AX_ERR_LIMIT,
				  "%s has %td entries, at most %d are allowed",
				  path, count, f->max_count);
	int64_t *dst = (int64_t *)(base + f->offset);
	int *n_dst = (int *)(base + f->count_offset);
	for (ptrdiff_t i = 0; i < count; i++) {
		char elem[PATH_LEN + 32];
		const yaml_node_t *e = yaml_document_get_node(w->doc, it[i]);
		snprintf(elem, sizeof elem, "%s[%td]", path, i);
		if (e->type != YAML_SCALAR_NODE)
			return type_error(w, e, elem, "an integer");
		enum ax_status st = parse_int(w, f, e, elem, &dst[i]);
		if (st != AX_OK)
			return st;
		record(w, &dst[i], e);
	}
	*n_dst = (int)count;
	record(w, n_dst, n);
	return AX_OK;
}

static enum ax_status walk_string(const struct walk *w, const struct field *f,
				  const yaml_node_t *n, const char *path,
				  char *base)
{
	char *dst = base + f->offset;
	size_t cap = sizeof w->cfg->name;

	if (n->type != YAML_SCALAR_NODE)
		return type_error(w, n, path, "a string");
	size_t len = n->data.scalar.length;
	if (len == 0)
		return node_error(w, n, AX_ERR_INPUT, "%s must not be empty", path);
	if (strlen((const char *)n->data.scalar.value) != len)
		return node_error(w, n, AX_ERR_INPUT,
				  "%s contains a NUL character", path);
	if (len >= cap)
		return node_error(w, n, AX_ERR_LIMIT,
				  "%s is %zu bytes long, at most %zu are allowed",
				  path, len, cap - 1);
	memcpy(dst, n->data.scalar.value, len);
	dst[len] = '\0';
	record(w, dst, n);
	return AX_OK;
}

static enum ax_status walk_map(struct walk *w, const yaml_node_t *map,
			       const struct field *tab, size_t n_tab,
			       char *base);

static enum ax_status walk_nested(struct walk *w, const struct field *f,
				  const yaml_node_t *n, const char *path,
				  char *base)
{
	char saved_path[sizeof w->path];
	struct ax_stack_config *saved_stack = w->stack;
	enum ax_side saved_side = w->side;
	char *sub_base = base + f->offset;

	if (n->type != YAML_MAPPING_NODE)
		return type_error(w, n, path, "a mapping");
	if (f->type == FT_STACK) {
		w->stack = (struct ax_stack_config *)sub_base;
		w->side = f->side;
	}
	if (f->init)
		f->init(sub_base);
	if (f->has_flag)
		*(bool *)(sub_base + f->flag_offset) = true;
	memcpy(saved_path, w->path, sizeof saved_path);
	mark_cut(w->path, sizeof w->path,
		 snprintf(w->path, sizeof w->path, "%s", path));
	enum ax_status st = walk_map(w, n, f->sub, f->n_sub, sub_base);
	memcpy(w->path, saved_path, sizeof saved_path);
	w->stack = saved_stack;
	w->side = saved_side;
	return st;
}

static enum ax_status walk_field(struct walk *w, const struct field *f,
				 const yaml_node_t *n, char *base)
{
	char path[PATH_LEN];
	int64_t v = 0;
	enum ax_status st;

	key_path(w, f->key, path, sizeof path);
	switch (f->type) {
	case FT_STR:
		return walk_string(w, f, n, path, base);
	case FT_LIST:
		return walk_int_list(w, f, n, path, base);
	case FT_MAP:
	case FT_STACK:
		return walk_nested(w, f, n, path, base);
	default:
		break;
	}
	if (f->per_layer)
		return walk_per_layer(w, f, n, path);
	if ((st = parse_scalar(w, f, n, path, &v)) != AX_OK)
		return st;
	store(f, base + f->offset, v);
	record(w, base + f->offset, n);
	return AX_OK;
}

static enum ax_status unknown_key(const struct walk *w, const yaml_node_t *k,
				  const struct field *tab, size_t n_tab)
{
	const char *key = (const char *)k->data.scalar.value;
	size_t len = k->data.scalar.length;
	char path[PATH_LEN + 80];
	const char *keys[MAX_FIELDS];

	if (w->path[0])
		snprintf(path, sizeof path, "%s.%.64s", w->path, key);
	else
		snprintf(path, sizeof path, "%.64s", key);
	assert(n_tab <= MAX_FIELDS);
	for (size_t i = 0; i < n_tab; i++)
		keys[i] = tab[i].key;
	const char *best = ax_ymap_closest(key, len, keys, n_tab,
					   AX_YMAP_HINT_SCALED);
	if (best)
		return node_error(w, k, AX_ERR_INPUT,
				  "unknown key '%s'; did you mean '%s'?", path, best);

	char allowed[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < n_tab; i++) {
		int r = snprintf(allowed + used, sizeof allowed - used, "%s%s",
				 i ? ", " : "", tab[i].key);
		if (r > 0 && (size_t)r < sizeof allowed - used)
			used += (size_t)r;
	}
	return node_error(w, k, AX_ERR_INPUT,
			  "unknown key '%s' (allowed here: %s)", path, allowed);
}

static enum ax_presence presence_of(const struct walk *w,
				    const struct field *f, const char **why)
{
	return ax_cfg_presence(w->rules, w->cfg, w->side, f, why);
}

/* Parses one present key after refusing it if the family/task forbids it. */
static enum ax_status walk_present(struct walk *w, const struct field *f,
				   const yaml_node_pair_t *pair, char *base)
{
	const yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
	const yaml_node_t *v = yaml_document_get_node(w->doc, pair->value);
	const char *why;

	if (presence_of(w, f, &why) == AX_PRESENCE_FORBIDDEN) {
		char path[PATH_LEN];
		key_path(w, f->key, path, sizeof path);
		return node_error(w, k, AX_ERR_INPUT,
				  "'%s' is not allowed for family %s, task %s: %s",
				  path, ax_family_names[w->cfg->family],
				  ax_task_names[w->cfg->task], why);
	}
	/* libyaml marks an empty value at the next token, often the next
	 * line, so point at the key instead. */
	if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 &&
	    v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		char path[PATH_LEN];
		key_path(w, f->key, path, sizeof path);
		return node_error(w, k, AX_ERR_INPUT, "%s has no value; expected %s",
				  path, type_name(f->type));
	}
	return walk_field(w, f, v, base);
}

static enum ax_status check_missing(const struct walk *w,
				    const yaml_node_t *map,
				    const struct field *tab, size_t n_tab,
				    const yaml_node_pair_t *const *seen,
				    bool early)
{
	for (size_t i = 0; i < n_tab; i++) {
		const char *why;
		char path[PATH_LEN];
		if (tab[i].early != early || seen[i] ||
		    presence_of(w, &tab[i], &why) != AX_PRESENCE_REQUIRED)
			continue;
		key_path(w, tab[i].key, path, sizeof path);
		if (why)
			return node_error(w, map, AX_ERR_INPUT,
					  "missing required key '%s' (%s)", path, why);
		return node_error(w, map, AX_ERR_INPUT,
				  "missing required key '%s'", path);
	}
	return AX_OK;
}

/*
 * Walks one mapping against its table: (1) every key known and unique,
 * (2) the early keys, which later rules read, (3) the rest in document
 * order, (4) the required keys that are missing.
 */
static enum ax_status walk_map(struct walk *w, const yaml_node_t *map,
			       const struct field *tab, size_t n_tab,
			       char *base)
{
	const yaml_node_pair_t *seen[MAX_FIELDS] = { 0 };
	const yaml_node_pair_t *p0 = map->data.mapping.pairs.start;
	const yaml_node_pair_t *p1 = map->data.mapping.pairs.top;
	enum ax_status st;

	assert(n_tab <= MAX_FIELDS);
	for (const yaml_node_pair_t *p = p0; p < p1; p++) {
		const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		if (k->type != YAML_SCALAR_NODE)
			return node_error(w, k, AX_ERR_INPUT,
					  "%s%skeys must be plain strings, got %s",
					  w->path, w->path[0] ? ": " : "",
					  kind_name(k));
		size_t i = 0;
		while (i < n_tab && !scalar_is(k, tab[i].key))
			i++;
		if (i == n_tab)
			return unknown_key(w, k, tab, n_tab);
		if (seen[i]) {
			char path[PATH_LEN];
			const yaml_node_t *first =
				yaml_document_get_node(w->doc, seen[i]->key);
			key_path(w, tab[i].key, path, sizeof path);
			return node_error(w, k, AX_ERR_INPUT,
					  "duplicate key '%s' (first given at line %d)",
					  path, node_pos(first).line);
		}
		seen[i] = p;
	}
	for (size_t i = 0; i < n_tab; i++)
		if (tab[i].early && seen[i] &&
		    (st = walk_present(w, &tab[i], seen[i], base)) != AX_OK)
			return st;
	if ((st = check_missing(w, map, tab, n_tab, seen, true)) != AX_OK)
		return st;
	for (const yaml_node_pair_t *p = p0; p < p1; p++) {
		size_t i = 0;
		while (seen[i] != p)
			i++;
		if (!tab[i].early && (st = walk_present(w, &tab[i], p, base)) != AX_OK)
			return st;
	}
	return check_missing(w, map, tab, n_tab, seen, false);
}

/* ---- loading ---------------------------------------------------------- */

/* "dir/wmt-lite-200.yaml" -> "wmt-lite-200" (truncated to fit). */
static void default_name(char *dst, size_t size, const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	size_t len;

	base = base ? base + 1 : (path ? path : "config");
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
		len -= 5;
	else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
		len -= 4;
	if (len >= size)
		len = size - 1;
	memcpy(dst, base, len);
	dst[len] = '\0';
}

static enum ax_status check_root(const yaml_document_t *doc,
				 const yaml_node_t *root, const char *file,
				 struct ax_diag *d)
{
	if (!root)
		return ax_cfg_pos_error(d, AX_ERR_INPUT, file, (struct pos){ 1, 1 },
					"the config is empty; expected a mapping of keys "
					"(family, task, embed_dim, ...)");
	if (root->type == YAML_MAPPING_NODE)
		return AX_OK;
	/* An empty document's null scalar is marked past its end: point at
	 * the document instead. */
	if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
		return ax_cfg_pos_error(d, AX_ERR_INPUT, file, mark_pos(doc->start_mark),
					"the YAML document is empty; expected a mapping of keys");
	return ax_cfg_pos_error(d, AX_ERR_INPUT, file, node_pos(root),
				"the top level must be a mapping of keys, got %s",
				kind_name(root));
}

/* Stages 3 and 4 on text that passed stages 1 and 2. */
static enum ax_status load_document(const struct ax_config_rules *r,
				    const char *text, size_t len,
				    const char *file, struct ax_config *cfg,
				    struct ax_diag *d)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	enum ax_status st;

	if (!yaml_parser_initialize(&parser))
		return ax_diag_set(d, AX_ERR_NOMEM, file, 0, 0,
				   "out of memory starting the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		/* yaml_parser_load frees the document on failure. */
		st = ax_cfg_parser_error(&parser, text, len, file, d);
		goto delete_parser;
	}
	struct pos *pos = calloc(sizeof *cfg, sizeof *pos);
	if (!pos) {
		st = ax_diag_set(d, AX_ERR_NOMEM, file, 0, 0,
				 "out of memory loading the config");
		goto delete_doc;
	}
	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	if ((st = check_root(&doc, root, file, d)) != AX_OK)
		goto free_pos;
	struct walk w = { .rules = r, .file = file, .doc = &doc, .cfg = cfg,
			  .pos = pos, .d = d };
	if ((st = walk_map(&w, root, root_fields, ARRAY_LEN(root_fields),
			   (char *)cfg)) != AX_OK)
		goto free_pos;
	struct ax_check c = { .rules = r, .cfg = cfg, .pos = pos, .file = file,
			      .d = d };
	st = ax_cfg_check_all(&c);
free_pos:
	free(pos);
delete_doc:
	yaml_document_delete(&doc);
delete_parser:
	yaml_parser_delete(&parser);
	return st;
}

static enum ax_status load_text(const struct ax_config_rules *r,
				const char *text, size_t len,
				const char *file, const char *name_source,
				struct ax_config *cfg, struct ax_diag *d)
{
	enum ax_status st;

	memset(cfg, 0, sizeof *cfg);
	if (len > CONFIG_MAX_BYTES)
		st = ax_diag_set(d, AX_ERR_LIMIT, file, 0, 0,
				 "the config is larger than %zu bytes (1 MiB)",
				 CONFIG_MAX_BYTES);
	else if ((st = ax_cfg_refuse_tabs(text, len, file, d)) == AX_OK &&
		 (st = ax_cfg_scan_events(text, len, file, d)) == AX_OK) {
		default_name(cfg->name, sizeof cfg->name, name_source);
		st = load_document(r, text, len, file, cfg, d);
	}
	if (st != AX_OK)
		memset(cfg, 0, sizeof *cfg);
	return st;
}

enum ax_status ax_config_load_with(const struct ax_config_rules *r,
				   const char *path, struct ax_config *cfg,
				   struct ax_diag *d)
{
	char *text;
	size_t len;
	enum ax_status st;

	memset(cfg, 0, sizeof *cfg);
	if ((st = ax_cfg_read_file(path, &text, &len, d)) != AX_OK)
		return st;
	st = load_text(r, text, len, path, path, cfg, d);
	free(text);
	return st;
}

enum ax_status ax_config_load_string_with(const struct ax_config_rules *r,
					  const char *text, size_t len,
					  const char *name,
					  struct ax_config *cfg,
					  struct ax_diag *d)
{
	return load_text(r, text ? text : "", text ? len : 0, name, name, cfg, d);
}
