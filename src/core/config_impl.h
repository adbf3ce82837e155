/*
 * config_impl.h - what the config_*.c files share inside the core:
 * source positions, the check state and the stage entry points. Not for
 * other layers (they use config.h, config_rules.h, models/model.h).
 */
#ifndef AX_CONFIG_IMPL_H
#define AX_CONFIG_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <yaml.h>

#include "config.h"
#include "config_rules.h"
#include "diag.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define CONFIG_MAX_BYTES ((size_t)1 << 20)  /* 1 MiB: far above any config */
#define CONFIG_MAX_DEPTH 16                 /* nested collections; schema uses 4 */
#define PATH_LEN 128                        /* a key path; ours are < 40 */

/* A 1-based source position; {0, 0} = unknown. */
struct pos {
	int line;
	int col;
};

static inline struct pos mark_pos(yaml_mark_t m)
{
	/* libyaml marks are 0-based. */
	return (struct pos){ (int)m.line + 1, (int)m.column + 1 };
}

static inline const char *enum_name(const char *const *names, int n, int v)
{
	return v >= 0 && v < n ? names[v] : "?";
}

/* The shortest %g text of v that reads back as v ("0.0005", "10",
 * "1e-08"), for messages. */
static inline void ax_cfg_num_text(char *buf, size_t size, double v)
{
	if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v) {
		snprintf(buf, size, "%.0f", v);   /* 20, not 2e+01 */
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* ax_diag_set() at a position. */
enum ax_status ax_cfg_pos_error(struct ax_diag *d, enum ax_status st,
				const char *file, struct pos p,
				const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The schema's range of a member, as the checks use it:
 * check_range(c, &g->embed_dim, RANGE(embed_dim), ...). */
#define RANGE_CONST(c, kind, key, member, ctype, min, max, aux, flags, rule, \
		    tag, doc)                                                \
	RANGE_CONST_##kind(member, min, max)
#define RANGE_CONST_I64(member, min, max) RANGE_CONST_INT(member, min, max)
#define RANGE_CONST_BOOL(member, min, max) RANGE_CONST_INT(member, min, max)
#define RANGE_CONST_ENUM(member, min, max) RANGE_CONST_INT(member, min, max)
#define RANGE_CONST_STR(member, min, max) RANGE_CONST_INT(member, min, max)
#define RANGE_CONST_LIST(member, min, max) RANGE_CONST_INT(member, min, max)
#define RANGE_CONST_F64(member, min, max)   /* not an integer constant */
#define RANGE_CONST_INT(member, min, max)                                    \
	RANGE_LO_##member = (min), RANGE_HI_##member = (max),
enum {
	AX_SCHEMA_IDENTITY(RANGE_CONST, _)
	AX_SCHEMA_ROOT(RANGE_CONST, _)
	AX_SCHEMA_VOCAB(RANGE_CONST, _)
	AX_SCHEMA_ADAPTIVE(RANGE_CONST, _)
	AX_SCHEMA_STACK(RANGE_CONST, _)
	AX_SCHEMA_LAYER_ALL(RANGE_CONST, _)
};
#define RANGE(member) RANGE_LO_##member, RANGE_HI_##member

/* ---- the loader's field tables (config_load.c) ----------------------- */

enum field_type {
	FT_I64,       /* int64_t */
	FT_F64,       /* double, finite */
	FT_BOOL,      /* bool */
	FT_ENUM,      /* an enum stored as int, spelled by `names` */
	FT_STR,       /* char[sizeof ax_config.name] */
	FT_LIST,      /* int64_t[max_count] plus an int count */
	FT_MAP,       /* a nested mapping walked with `sub` */
	FT_STACK,     /* encoder/decoder: a FT_MAP that also sets the stack */
};

/*
 * One key of a mapping: a schema row (schema.h), or a mapping that nests
 * rows. offset is from the mapping's base (struct ax_config for the root,
 * vocab and adaptive's parent, the stack for a stack), except for
 * per_layer fields, whose offset is into struct ax_layer_config.
 */
struct field {
	const char *key;
	enum field_type type;
	size_t offset;
	int64_t min, max;           /* FT_I64, FT_LIST elements */
	double fmin, fmax;          /* FT_F64 */
	bool required;              /* when rule is AX_RULE_NONE */
	bool per_layer;             /* scalar or one entry per layer */
	bool early;                 /* parsed first: other keys' rules read it */
	const char *const *names;   /* FT_ENUM */
	int n_names;
	const struct field *sub;    /* FT_MAP, FT_STACK */
	size_t n_sub;
	size_t count_offset;        /* FT_LIST: its int count */
	int max_count;              /* FT_LIST */
	bool has_flag;              /* FT_MAP: set a bool when present */
	size_t flag_offset;
	void (*init)(void *map);    /* FT_MAP: fills defaults when present */
	enum ax_side side;          /* FT_STACK */
	enum ax_rule rule;          /* who decides its presence */
};

/* The root mapping's table; the JSON writer walks it too. */
extern const struct field *const ax_cfg_root_fields;
extern const size_t ax_cfg_n_root_fields;

/* Whether f must, may or must not be given in cfg (stack `side`). */
enum ax_presence ax_cfg_presence(const struct ax_config_rules *r,
				 const struct ax_config *cfg, enum ax_side side,
				 const struct field *f, const char **why);

/* ---- stages 1 and 2 (config_yaml.c) ----------------------------------- */

/* Reads at most CONFIG_MAX_BYTES from path into a new buffer. */
enum ax_status ax_cfg_read_file(const char *path, char **text, size_t *len,
				struct ax_diag *d);
/* Refuses NUL bytes and tabs. */
enum ax_status ax_cfg_refuse_tabs(const char *text, size_t len,
				  const char *file, struct ax_diag *d);
/* The event scan: syntax, anchors, aliases, tags, documents, depth. */
enum ax_status ax_cfg_scan_events(const char *text, size_t len,
				  const char *file, struct ax_diag *d);
/* A libyaml parser's error as a diagnostic. */
enum ax_status ax_cfg_parser_error(const yaml_parser_t *p, const char *text,
				   size_t len, const char *file,
				   struct ax_diag *d);

/* ---- stage 4 (config_check.c, config_size.c) -------------------------- */

struct ax_check {
	const struct ax_config_rules *rules;
	const struct ax_config *cfg;
	const struct pos *pos;   /* per byte offset in *cfg, or NULL */
	const char *file;
	struct ax_diag *d;
};

/* Every check of a config, in order; the first failure is reported. */
enum ax_status ax_cfg_check_all(const struct ax_check *c);
/* The whole-model parameter bound (config_size.c). */
enum ax_status ax_cfg_check_size(const struct ax_check *c);

#endif
