/*
 * schema.h - the config schema: one row per field of a model config, as
 * X-macro lists. Everything that lists config fields is expanded from
 * these rows:
 *   - struct ax_config and its parts (config.h);
 *   - the loader's field tables and its range and enum checks
 *     (config_load.c, config_check.c);
 *   - the sweep's dotted paths (cfgpath.c: every row but IDENTITY's and
 *     ADAPTIVE's; `conv.*` and `conv_branch.*` both reach the CONV rows);
 *   - the config hash, the JSON writer, the fast evaluator's cache key and
 *     the sweep point id's words (config_out.c);
 *   - the runtime row table ax_schema[] (schema.c), which
 *     tests/test_schema.c checks against the structs and docs/config.md.
 * Which family reads which field, and the family-wide rules, are not
 * here: they are the family table's (models/rules.c), passed to the
 * loader as a struct ax_config_rules (config.h).
 *
 * A row:
 *   X(ctx, kind, key, member, ctype, min, max, aux, flags, rule, tag, doc)
 *   ctx     passed through from the list's caller (a base struct, ...)
 *   kind    I64 (int64_t), BOOL (bool), ENUM (an enum stored as int),
 *           STR (char[aux]) or LIST (int64_t member[aux] plus its count
 *           `int n_<member>s`, declared before it)
 *   key     the YAML key inside its mapping
 *   member  the struct member
 *   ctype   the member's C type (element type for STR and LIST)
 *   min,max the one valid range (LIST: of each element; STR: of the
 *           length in bytes; ENUM: 0..COUNT-1; BOOL: 0..1)
 *   aux     ENUM: its name table; STR, LIST: the capacity; else 0
 *   flags   AX_SF_* below
 *   rule    enum ax_rule: who decides whether the key is present. For a
 *           per-layer field it is its group (the family table says which
 *           groups a stack reads)
 *   tag     the short tag of sweep point names ("d" for embed_dim), or ""
 *   doc     one line for docs and tests
 *
 * One list per mapping, in struct order (the struct order is the hash
 * order). The lists and the structs they make:
 *   AX_SCHEMA_IDENTITY, AX_SCHEMA_ROOT, AX_SCHEMA_VOCAB
 *                                        struct ax_config's scalars
 *   AX_SCHEMA_ADAPTIVE                   struct ax_adaptive_config
 *   AX_SCHEMA_STACK                      struct ax_stack_config's scalars
 *   AX_SCHEMA_LAYER, AX_SCHEMA_ATT_BRANCH, AX_SCHEMA_CONV
 *                                        struct ax_layer_config
 *
 * To add a field: one row in the list of its mapping, plus the code that
 * uses it (a builder in models/, a cross-field check in config_check.c
 * or a family rule in models/rules.c) and its line in docs/config.md's
 * key tables (tests/test_schema.c fails without it). Adding a row changes
 * config hashes and sweep point ids of every config; bump the hash tag in
 * config_out.c if old hashes must not be compared with new ones.
 *
 * To add a section (the training fields of a later issue: optimizer,
 * schedule, dropout): one more list, e.g. AX_SCHEMA_TRAIN, with the same
 * columns, expanded into its struct with AX_SCHEMA_DECL below, a FT_MAP
 * row in config_load.c's root table, and its hash/JSON expansions in
 * config_out.c next to the existing ones.
 */
#ifndef AX_SCHEMA_H
#define AX_SCHEMA_H

/* Row flags. */
enum {
	AX_SF_EARLY = 1u << 0,    /* parsed before the other keys of its
				     mapping: presence rules read it */
	AX_SF_OPTIONAL = 1u << 1, /* may be absent (name: the file's base name) */
	AX_SF_LABEL = 1u << 2,    /* names the model, is not part of it: not
				     hashed, not in cache keys or point ids */
	AX_SF_ZERO = 1u << 3,     /* 0 means absent (an LM's encoder layers and
				     source vocabulary): the sweep paths
				     accept 0 (cfgpath.c), validation and the
				     loader do not */
};

/* Who decides whether a key is present (the loader), and for per-layer
 * fields which group of a family's layers reads them. AX_RULE_NONE keys
 * are required unless AX_SF_OPTIONAL; the norm and task rules are the
 * same for every family (config_load.c); the per-layer groups are the
 * family table's (models/rules.c, through struct ax_config_rules). */
enum ax_rule {
	AX_RULE_NONE,
	AX_RULE_FINAL_NORM,   /* required with norm: pre, forbidden with post */
	AX_RULE_TRANSLATION,  /* required for translation, forbidden for LMs */
	AX_RULE_ADAPTIVE,     /* optional for LMs, forbidden for translation */
	AX_RULE_FFN,          /* per-layer groups, from here on */
	AX_RULE_HEADS,        /* full-width attention heads */
	AX_RULE_ATT_BRANCH,   /* LSRA attention branch */
	AX_RULE_CONV,         /* a conv block or LSRA conv branch */
	AX_RULE_COUNT
};

/* The group bit of a per-layer rule, as struct ax_config_rules'
 * layer_uses() returns them. */
#define AX_USE(rule) (1u << (rule))

/* ---- the rows --------------------------------------------------------- */

/* What the model is; a sweep varies a model within its family and task,
 * so these have no sweep path. */
#define AX_SCHEMA_IDENTITY(X, c)                                               \
	X(c, STR, "name", name, char, 1, AX_NAME_LEN - 1, AX_NAME_LEN,         \
	  AX_SF_OPTIONAL | AX_SF_LABEL, AX_RULE_NONE, "",                      \
	  "model name for result rows; default: the file's base name")         \
	X(c, ENUM, "family", family, enum ax_family, 0, AX_FAMILY_COUNT - 1,   \
	  ax_family_names, AX_SF_EARLY, AX_RULE_NONE, "",                      \
	  "architecture family")                                               \
	X(c, ENUM, "task", task, enum ax_task, 0, AX_TASK_COUNT - 1,           \
	  ax_task_names, AX_SF_EARLY, AX_RULE_NONE, "",                        \
	  "translation (encoder-decoder) or language_model (decoder only)")

/* The other top-level scalars, and the vocab mapping's. */
#define AX_SCHEMA_ROOT(X, c)                                                   \
	X(c, I64, "embed_dim", embed_dim, int64_t, 1, AX_MAX_DIM, 0, 0,        \
	  AX_RULE_NONE, "d", "model width d")                                  \
	X(c, ENUM, "norm", norm, enum ax_norm, 0, AX_NORM_COUNT - 1,           \
	  ax_norm_names, AX_SF_EARLY, AX_RULE_NONE, "n",                       \
	  "LayerNorm placement: post or pre")                                  \
	X(c, BOOL, "final_norm", final_norm, bool, 0, 1, 0, 0,                 \
	  AX_RULE_FINAL_NORM, "fn", "a final LayerNorm per stack (pre-norm only)")

#define AX_SCHEMA_VOCAB(X, c)                                                  \
	X(c, I64, "source", vocab_source, int64_t, 1, AX_MAX_VOCAB, 0,         \
	  AX_SF_ZERO, AX_RULE_TRANSLATION, "vs",                               \
	  "source vocabulary V_src (0 for language models)")                   \
	X(c, I64, "target", vocab_target, int64_t, 1, AX_MAX_VOCAB, 0, 0,      \
	  AX_RULE_NONE, "vt", "target vocabulary V_tgt")                       \
	X(c, ENUM, "share", share, enum ax_share, 0, AX_SHARE_COUNT - 1,       \
	  ax_share_names, 0, AX_RULE_NONE, "s", "embedding sharing")

/* Adaptive input and softmax (Baevski & Auli; Grave et al.); the struct
 * also has `bool enabled`, set when the mapping is present. No sweep
 * paths. */
#define AX_SCHEMA_ADAPTIVE(X, c)                                               \
	X(c, LIST, "cutoffs", cutoff, int64_t, 1, AX_MAX_VOCAB, AX_MAX_CUTOFFS, \
	  0, AX_RULE_NONE, "",                                                 \
	  "band edges before V, ascending, each below vocab.target")           \
	X(c, I64, "factor", factor, int64_t, 1, AX_MAX_DIM, 0, 0,              \
	  AX_RULE_NONE, "", "band b has width d / factor^b")                   \
	X(c, BOOL, "tie_weights", tie_weights, bool, 0, 1, 0, 0,               \
	  AX_RULE_NONE, "", "output bands reuse the input tables")             \
	X(c, BOOL, "tie_proj", tie_proj, bool, 0, 1, 0, 0,                     \
	  AX_RULE_NONE, "", "output tails reuse the input projections")

#define AX_SCHEMA_STACK(X, c)                                                  \
	X(c, I64, "layers", layers, int64_t, 1, AX_MAX_LAYERS, 0,              \
	  AX_SF_EARLY | AX_SF_ZERO, AX_RULE_NONE, "L",                         \
	  "layers of the stack (0: stack absent, an LM's encoder)")

/* Per-layer fields, by the mapping that holds them in a stack. */
#define AX_SCHEMA_LAYER(X, c)                                                  \
	X(c, I64, "ffn_dim", ffn_dim, int64_t, 1, AX_MAX_DIM, 0, 0,            \
	  AX_RULE_FFN, "f", "FFN inner width f")                               \
	X(c, I64, "attention_heads", attention_heads, int64_t, 1, AX_MAX_DIM,  \
	  0, 0, AX_RULE_HEADS, "h", "full-width attention heads")

#define AX_SCHEMA_ATT_BRANCH(X, c)                                             \
	X(c, I64, "dim", attention_dim, int64_t, 1, AX_MAX_DIM, 0, 0,          \
	  AX_RULE_ATT_BRANCH, "a", "lite: attention-branch width")             \
	X(c, I64, "heads", attention_branch_heads, int64_t, 1, AX_MAX_DIM, 0,  \
	  0, AX_RULE_ATT_BRANCH, "ah", "lite: attention-branch heads")

/* Lite's conv_branch and LightConv's conv (models/ names the mapping). */
#define AX_SCHEMA_CONV(X, c)                                                   \
	X(c, ENUM, "type", conv_type, enum ax_conv_type, 0,                    \
	  AX_CONV_TYPE_COUNT - 1, ax_conv_type_names, 0, AX_RULE_CONV, "t",    \
	  "lightweight or dynamic convolution")                                \
	X(c, I64, "dim", conv_dim, int64_t, 1, AX_MAX_DIM, 0, 0, AX_RULE_CONV, \
	  "c", "lite: conv-branch width; lightconv: conv width c")             \
	X(c, I64, "heads", conv_heads, int64_t, 1, AX_MAX_DIM, 0, 0,           \
	  AX_RULE_CONV, "ch", "H of the light/dynamic conv")                   \
	X(c, BOOL, "glu", glu, bool, 0, 1, 0, 0, AX_RULE_CONV, "g",            \
	  "GLU after linear1")                                                 \
	X(c, I64, "kernel_size", kernel_size, int64_t, 1, AX_MAX_KERNEL, 0, 0, \
	  AX_RULE_CONV, "k", "kernel width K")

/* Every per-layer row, in struct ax_layer_config order. */
#define AX_SCHEMA_LAYER_ALL(X, c)                                              \
	AX_SCHEMA_LAYER(X, c) AX_SCHEMA_ATT_BRANCH(X, c) AX_SCHEMA_CONV(X, c)

/* ---- expansions ------------------------------------------------------- */

/* A struct member per row: AX_SCHEMA_ROOT(AX_SCHEMA_DECL, _). */
#define AX_SCHEMA_DECL(c, kind, key, member, ctype, min, max, aux, flags,     \
		       rule, tag, doc)                                         \
	AX_SCHEMA_DECL_##kind(member, ctype, aux)
#define AX_SCHEMA_DECL_I64(m, t, aux) t m;
#define AX_SCHEMA_DECL_BOOL(m, t, aux) t m;
#define AX_SCHEMA_DECL_ENUM(m, t, aux) t m;
#define AX_SCHEMA_DECL_STR(m, t, aux) t m[aux];
#define AX_SCHEMA_DECL_LIST(m, t, aux) int n_##m##s; t m[aux];

/* The int64 words a row's value takes in a fixed-size key: one, or a
 * LIST's count and every slot. `+ AX_SCHEMA_WORDS(...)` per row. */
#define AX_SCHEMA_WORDS(c, kind, key, member, ctype, min, max, aux, flags,    \
			rule, tag, doc)                                        \
	+((flags) & AX_SF_LABEL ? 0 : AX_SCHEMA_WORDS_##kind(aux))
#define AX_SCHEMA_WORDS_I64(aux) 1
#define AX_SCHEMA_WORDS_BOOL(aux) 1
#define AX_SCHEMA_WORDS_ENUM(aux) 1
#define AX_SCHEMA_WORDS_STR(aux) 0
#define AX_SCHEMA_WORDS_LIST(aux) (1 + (aux))

/* ---- the rows at run time (schema.c) ----------------------------------- */

enum ax_schema_kind {
	AX_SK_I64,
	AX_SK_BOOL,
	AX_SK_ENUM,
	AX_SK_STR,
	AX_SK_LIST,
	AX_SK_COUNT
};

/* The list a row is in, which is the mapping that holds its key. */
enum ax_schema_list {
	AX_SL_IDENTITY,
	AX_SL_ROOT,
	AX_SL_VOCAB,
	AX_SL_ADAPTIVE,
	AX_SL_STACK,
	AX_SL_LAYER,
	AX_SL_ATT_BRANCH,
	AX_SL_CONV,
	AX_SL_COUNT
};

struct ax_schema_row {
	enum ax_schema_list list;
	enum ax_schema_kind kind;
	const char *key;
	size_t offset, size;        /* the member in its struct */
	size_t count_offset;        /* AX_SK_LIST: its count member */
	int64_t min, max;
	const char *min_text, *max_text; /* as written in the row */
	const char *const *names;   /* AX_SK_ENUM */
	unsigned flags;             /* AX_SF_* */
	enum ax_rule rule;
	const char *tag;
	const char *doc;
};

/* Every row, list by list in struct order. */
extern const struct ax_schema_row ax_schema[];
extern const int ax_schema_n;

#endif
