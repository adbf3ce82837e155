/*
 * config_out.c - what is computed from a whole config, all expanded from
 * the schema rows (schema.h): the FNV-1a config hash, the training
 * recipe's defaults and hash, the fixed-size key words of the fast
 * evaluator, the word sequence of sweep point ids, and the JSON and
 * YAML writers (which walk the loader's tables, so that they write
 * exactly the keys the loader accepts for the config). F64 fields enter every hash and
 * word as their IEEE bits (ax_f64_bits).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config_impl.h"
#include "json.h"
#include "util.h"

static int64_t clamp(int64_t n, int64_t hi)
{
	return n < 0 ? 0 : n > hi ? hi : n;
}

/* ---- hash --------------------------------------------------------------- */

/* A LIST: its count, then its values (at most cap). */
static uint64_t fnv_list(uint64_t h, int n, const int64_t *v, int cap)
{
	h = ax_fnv_i64(h, n);
	for (int64_t i = 0; i < clamp(n, cap); i++)
		h = ax_fnv_i64(h, v[i]);
	return h;
}

/* A row that is not part of the keys: a label, or a sparse row at its
 * default (numbers only: any other row is never skipped as sparse). */
#define SKIP_ROW(kind, p, member, aux, flags)                                \
	(((flags) & AX_SF_LABEL) ||                                            \
	 (((flags) & AX_SF_SPARSE) && AT_DEFAULT_##kind(p, member, aux)))
#define AT_DEFAULT_I64(p, m, aux) ((p)->m == (aux))
#define AT_DEFAULT_F64(p, m, aux) ((p)->m == (aux))
#define AT_DEFAULT_BOOL(p, m, aux) 0
#define AT_DEFAULT_ENUM(p, m, aux) 0
#define AT_DEFAULT_STR(p, m, aux) 0
#define AT_DEFAULT_LIST(p, m, aux) 0

#define HASH_ROW(p, kind, key, member, ctype, min, max, aux, flags, rule,     \
		 tag, doc)                                                     \
	if (!SKIP_ROW(kind, p, member, aux, flags))                            \
		h = HASH_##kind(h, p, member, aux);
#define HASH_I64(h, p, m, aux) ax_fnv_i64(h, (p)->m)
#define HASH_F64(h, p, m, aux) ax_fnv_i64(h, ax_f64_bits((p)->m))
#define HASH_BOOL(h, p, m, aux) ax_fnv_i64(h, (p)->m)
#define HASH_ENUM(h, p, m, aux) ax_fnv_i64(h, (p)->m)
#define HASH_STR(h, p, m, aux) ax_fnv_str(h, (p)->m)
#define HASH_LIST(h, p, m, aux) fnv_list(h, (p)->n_##m##s, (p)->m, aux)

static uint64_t hash_stack(uint64_t h, const struct ax_stack_config *s)
{
	AX_SCHEMA_STACK(HASH_ROW, s)
	for (int64_t i = 0; i < clamp(s->layers, AX_MAX_LAYERS); i++) {
		const struct ax_layer_config *l = &s->layer[i];
		AX_SCHEMA_LAYER_ALL(HASH_ROW, l)
	}
	return h;
}

/* Field by field in struct order, never the raw struct, so padding cannot
 * leak in; the adaptive fields only when enabled. The version tag must
 * change whenever old and new hashes must not be compared. */
uint64_t ax_config_hash(const struct ax_config *cfg)
{
	const struct ax_adaptive_config *a = &cfg->adaptive;
	uint64_t h = ax_fnv_str(AX_FNV_OFFSET, "archex-config-v1");

	AX_SCHEMA_IDENTITY(HASH_ROW, cfg)
	AX_SCHEMA_ROOT(HASH_ROW, cfg)
	AX_SCHEMA_VOCAB(HASH_ROW, cfg)
	h = ax_fnv_i64(h, a->enabled);
	if (a->enabled) {
		AX_SCHEMA_ADAPTIVE(HASH_ROW, a)
	}
	h = hash_stack(h, &cfg->encoder);
	return hash_stack(h, &cfg->decoder);
}

/* ---- the training recipe ------------------------------------------------ */

#define TRAIN_DEFAULT(t, kind, key, member, ctype, min, max, aux, flags,     \
		      rule, tag, doc)                                          \
	(t)->member = (aux);

void ax_config_train_default(struct ax_train_config *t)
{
	AX_SCHEMA_TRAIN(TRAIN_DEFAULT, t)
}

/* The recipe's own hash, tagged apart from the model's: trained results
 * are keyed by (ax_config_hash, ax_config_recipe_hash). */
uint64_t ax_config_recipe_hash(const struct ax_config *cfg)
{
	struct ax_train_config def;
	const struct ax_train_config *t = &cfg->train;
	uint64_t h = ax_fnv_str(AX_FNV_OFFSET, "archex-recipe-v1");

	if (!t->enabled) {
		memset(&def, 0, sizeof def);
		ax_config_train_default(&def);
		t = &def;
	}
	AX_SCHEMA_TRAIN(HASH_ROW, t)
	return h;
}

/* ---- cache-key words ---------------------------------------------------- */

#define WORD_ROW(p, kind, key, member, ctype, min, max, aux, flags, rule,     \
		 tag, doc)                                                     \
	if (!((flags) & AX_SF_LABEL))                                          \
		k = WORD_##kind(w, k, p, member, aux);
#define WORD_I64(w, k, p, m, aux) (w[k] = (p)->m, k + 1)
#define WORD_F64(w, k, p, m, aux) (w[k] = ax_f64_bits((p)->m), k + 1)
#define WORD_BOOL(w, k, p, m, aux) (w[k] = (p)->m, k + 1)
#define WORD_ENUM(w, k, p, m, aux) (w[k] = (p)->m, k + 1)
#define WORD_STR(w, k, p, m, aux) (k)
#define WORD_LIST(w, k, p, m, aux) word_list(w, k, (p)->n_##m##s, (p)->m, aux)

/* A LIST: its count and every slot, used or not (a fixed size). */
static int word_list(int64_t *w, int k, int n, const int64_t *v, int cap)
{
	w[k++] = n;
	for (int i = 0; i < cap; i++)
		w[k++] = v[i];
	return k;
}

void ax_config_top_words(const struct ax_config *cfg,
			 int64_t w[AX_CONFIG_TOP_WORDS])
{
	const struct ax_adaptive_config *a = &cfg->adaptive;
	int k = 0;

	AX_SCHEMA_IDENTITY(WORD_ROW, cfg)
	AX_SCHEMA_ROOT(WORD_ROW, cfg)
	AX_SCHEMA_VOCAB(WORD_ROW, cfg)
	w[k++] = a->enabled;
	AX_SCHEMA_ADAPTIVE(WORD_ROW, a)
	assert(k == AX_CONFIG_TOP_WORDS);
}

void ax_config_layer_words(const struct ax_layer_config *l,
			   int64_t w[AX_CONFIG_LAYER_WORDS])
{
	int k = 0;

	AX_SCHEMA_LAYER_ALL(WORD_ROW, l)
	assert(k == AX_CONFIG_LAYER_WORDS);
}

/* ---- point-id words ----------------------------------------------------- */

#define MIX_ROW(p, kind, key, member, ctype, min, max, aux, flags, rule,      \
		tag, doc)                                                      \
	if (!SKIP_ROW(kind, p, member, aux, flags))                            \
		h = MIX_##kind(h, p, member, aux);
#define MIX_I64(h, p, m, aux) ax_mix64(h, (p)->m)
#define MIX_F64(h, p, m, aux) ax_mix64(h, ax_f64_bits((p)->m))
#define MIX_BOOL(h, p, m, aux) ax_mix64(h, (p)->m)
#define MIX_ENUM(h, p, m, aux) ax_mix64(h, (p)->m)
#define MIX_STR(h, p, m, aux) (h)
#define MIX_LIST(h, p, m, aux) mix_list(h, (p)->n_##m##s, (p)->m, aux)

static uint64_t mix_list(uint64_t h, int n, const int64_t *v, int cap)
{
	h = ax_mix64(h, n);
	for (int i = 0; i < n && i < cap; i++)
		h = ax_mix64(h, v[i]);
	return h;
}

uint64_t ax_config_mix(uint64_t h, const struct ax_config *cfg)
{
	const struct ax_adaptive_config *a = &cfg->adaptive;

	AX_SCHEMA_IDENTITY(MIX_ROW, cfg)
	h = ax_mix64(h, a->enabled);
	if (a->enabled) {
		AX_SCHEMA_ADAPTIVE(MIX_ROW, a)
	}
	AX_SCHEMA_ROOT(MIX_ROW, cfg)
	AX_SCHEMA_VOCAB(MIX_ROW, cfg)
	for (int s = 0; s < AX_SIDE_COUNT; s++) {
		const struct ax_stack_config *st = s ? &cfg->decoder : &cfg->encoder;
		AX_SCHEMA_STACK(MIX_ROW, st)
		for (int64_t i = 0; i < clamp(st->layers, AX_MAX_LAYERS); i++) {
			const struct ax_layer_config *l = &st->layer[i];
			AX_SCHEMA_LAYER_ALL(MIX_ROW, l)
		}
	}
	/* the recipe, only when present: points without one keep their ids */
	if (cfg->train.enabled) {
		const struct ax_train_config *t = &cfg->train;
		h = ax_mix64(h, (int64_t)0x747261696e);   /* "train" */
		AX_SCHEMA_TRAIN(MIX_ROW, t)
	}
	return h;
}

/* ---- JSON --------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* One value of a leaf row at p. */
static void json_value(FILE *f, const struct field *fd, const char *p,
		       const char *base)
{
	switch (fd->type) {
	case FT_I64:
		fprintf(f, "%" PRId64, *(const int64_t *)p);
		break;
	case FT_F64: {
		char buf[40];
		ax_json_format_double(buf, sizeof buf, *(const double *)p);
		fputs(buf, f);
		break;
	}
	case FT_BOOL:
		fputs(*(const bool *)p ? "true" : "false", f);
		break;
	case FT_ENUM:
		fprintf(f, "\"%s\"", enum_name(fd->names, fd->n_names,
					       *(const int *)p));
		break;
	case FT_STR: {
		char s[AX_NAME_LEN];
		memcpy(s, p, sizeof s);
		s[sizeof s - 1] = '\0';
		json_string(f, s);
		break;
	}
	case FT_LIST: {
		int n = (int)clamp(*(const int *)(base + fd->count_offset),
				   fd->max_count);
		fputc('[', f);
		for (int i = 0; i < n; i++)
			fprintf(f, "%s%" PRId64, i ? "," : "",
				((const int64_t *)p)[i]);
		fputc(']', f);
		break;
	}
	default:
		break;
	}
}

struct json_walk {
	const struct ax_config_rules *rules;
	const struct ax_config *cfg;
	const struct ax_stack_config *stack;
	enum ax_side side;
};

/* Whether a table key is written for the config (the JSON writer's test). */
static bool present(const struct json_walk *w, const struct field *fd,
		    const char *base)
{
	const char *why;
	if (fd->has_flag)
		return *(const bool *)(base + fd->offset + fd->flag_offset);
	return ax_cfg_presence(w->rules, w->cfg, w->side, fd, &why) !=
	       AX_PRESENCE_FORBIDDEN;
}

/* {"key":value,...} over the keys of one table the config has (a
 * per-layer field as an array over the stack's layers). */
static void json_map(FILE *f, struct json_walk *w, const struct field *tab,
		     size_t n_tab, const char *base)
{
	bool first = true;

	fputc('{', f);
	for (size_t i = 0; i < n_tab; i++) {
		const struct field *fd = &tab[i];
		const char *p = base + fd->offset;
		if (!present(w, fd, base))
			continue;
		fprintf(f, "%s\"%s\":", first ? "" : ",", fd->key);
		first = false;
		if (fd->type == FT_STACK) {
			struct json_walk sub = *w;
			sub.stack = (const struct ax_stack_config *)p;
			sub.side = fd->side;
			json_map(f, &sub, fd->sub, fd->n_sub, p);
		} else if (fd->type == FT_MAP) {
			json_map(f, w, fd->sub, fd->n_sub, p);
		} else if (fd->per_layer) {
			int64_t n = clamp(w->stack->layers, AX_MAX_LAYERS);
			fputc('[', f);
			for (int64_t l = 0; l < n; l++) {
				if (l)
					fputc(',', f);
				json_value(f, fd, (const char *)&w->stack->layer[l] +
					   fd->offset, NULL);
			}
			fputc(']', f);
		} else {
			json_value(f, fd, p, base);
		}
	}
	fputc('}', f);
}

void ax_config_write_json_with(const struct ax_config_rules *r, FILE *f,
			       const struct ax_config *cfg)
{
	struct json_walk w = { .rules = r, .cfg = cfg };

	json_map(f, &w, ax_cfg_root_fields, ax_cfg_n_root_fields,
		 (const char *)cfg);
}

/* ---- YAML --------------------------------------------------------------- */

/* Whether every layer of the stack holds the same value of fd. */
static bool same_in_all_layers(const struct ax_stack_config *s,
			       const struct field *fd)
{
	int64_t n = clamp(s->layers, AX_MAX_LAYERS);
	size_t size = fd->type == FT_I64 ? sizeof(int64_t) :
		      fd->type == FT_F64 ? sizeof(double) :
		      fd->type == FT_BOOL ? sizeof(bool) : sizeof(int);
	for (int64_t l = 1; l < n; l++)
		if (memcmp((const char *)&s->layer[l] + fd->offset,
			   (const char *)&s->layer[0] + fd->offset, size))
			return false;
	return true;
}

/* A block mapping over the keys of one table the config has, indented
 * by `indent` spaces; the keys and values are the JSON writer's (JSON
 * scalars are YAML flow scalars). A per-layer field is one value when
 * every layer holds it, else a flow list with an entry per layer. */
static void yaml_map(FILE *f, struct json_walk *w, const struct field *tab,
		     size_t n_tab, const char *base, int indent)
{
	for (size_t i = 0; i < n_tab; i++) {
		const struct field *fd = &tab[i];
		const char *p = base + fd->offset;
		if (!present(w, fd, base))
			continue;
		fprintf(f, "%*s%s:", indent, "", fd->key);
		if (fd->type == FT_STACK || fd->type == FT_MAP) {
			struct json_walk sub = *w;
			if (fd->type == FT_STACK) {
				sub.stack = (const struct ax_stack_config *)p;
				sub.side = fd->side;
			}
			size_t k = 0;
			while (k < fd->n_sub && !present(&sub, &fd->sub[k], p))
				k++;
			fputs(k == fd->n_sub ? " {}\n" : "\n", f);
			yaml_map(f, &sub, fd->sub, fd->n_sub, p, indent + 2);
		} else if (fd->per_layer) {
			const struct ax_stack_config *s = w->stack;
			int64_t n = clamp(s->layers, AX_MAX_LAYERS);
			bool one = same_in_all_layers(s, fd);
			fputs(one ? " " : " [", f);
			for (int64_t l = 0; l < (one ? 1 : n); l++) {
				if (l)
					fputs(", ", f);
				json_value(f, fd, (const char *)&s->layer[l] +
					   fd->offset, NULL);
			}
			fputs(one ? "\n" : "]\n", f);
		} else {
			fputc(' ', f);
			json_value(f, fd, p, base);
			fputc('\n', f);
		}
	}
}

void ax_config_write_yaml_with(const struct ax_config_rules *r, FILE *f,
			       const struct ax_config *cfg)
{
	struct json_walk w = { .rules = r, .cfg = cfg };

	yaml_map(f, &w, ax_cfg_root_fields, ax_cfg_n_root_fields,
		 (const char *)cfg, 0);
}
