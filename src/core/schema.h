/*
 * schema.h - the config schema: one row per field of a model config, as
 * X-macro lists. Everything that lists config fields is expanded from
 * these rows:
 *   - struct ax_config and its parts (config.h);
 *   - the loader's field tables and its range and enum checks
 *     (config_load.c, config_check.c);
 *   - the sweep's dotted paths (cfgpath.c: every row but IDENTITY's and
 *     ADAPTIVE's; `conv.*` and `conv_branch.*` both reach the CONV rows,
 *     `train.*` the TRAIN rows);
 *   - the config hash, the JSON writer, the fast evaluator's cache key and
 *     the sweep point id's words (config_out.c), and the TRAIN rows'
 *     recipe hash and defaults;
 *   - the runtime row table ax_schema[] (schema.c), which
 *     tests/test_schema.c checks against the structs and docs/config.md.
 * Which family reads which field, and the family-wide rules, are not
 * here: they are the family table's (models/rules.c), passed to the
 * loader as a struct ax_config_rules (config.h).
 *
 * A row:
 *   X(ctx, kind, key, member, ctype, min, max, aux, flags, rule, tag, doc)
 *   ctx     passed through from the list's caller (a base struct, ...)
 *   kind    I64 (int64_t), F64 (double, finite), BOOL (bool), ENUM (an
 *           enum stored as int), STR (char[aux]) or LIST (int64_t
 *           member[aux] plus its count `int n_<member>s`, declared
 *           before it). Where a fixed-size int64 word holds an F64 (cache
 *           keys, point ids, sweep axis values) it holds its IEEE-754
 *           bits; the config hash takes those bits little-endian.
 *   key     the YAML key inside its mapping
 *   member  the struct member
 *   ctype   the member's C type (element type for STR and LIST)
 *   min,max the one valid range (LIST: of each element; STR: of the
 *           length in bytes; ENUM: 0..COUNT-1; BOOL: 0..1)
 *   aux     ENUM: its name table; STR, LIST: the capacity; I64, F64:
 *           the default of an optional key (the TRAIN rows'; 0 for
 *           required keys); BOOL: 0
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
 *   AX_SCHEMA_TRAIN                      struct ax_train_config
 *
 * The TRAIN rows are the training recipe (`train:`, optional, every key
 * optional with a default), not the model: they are not in the config
 * hash nor the fast evaluator's cache key; they have their own recipe
 * hash (ax_config_recipe_hash), and they enter the JSON writer and the
 * sweep point id only when the section is present (train.enabled), so a
 * config without one keeps its hash, ids and outputs.
 *
 * To add a field: one row in the list of its mapping, plus the code that
 * uses it (a builder in models/, a cross-field check in config_check.c
 * or a family rule in models/rules.c) and its line in docs/config.md's
 * key tables (tests/test_schema.c fails without it). Adding a row of a
 * model list changes config hashes and sweep point ids of every config
 * (a TRAIN row: recipe hashes, and the ids of points with a train
 * section); bump the hash tag in config_out.c if old hashes must not be
 * compared with new ones, or flag a number row AX_SF_SPARSE so it joins
 * the keys only when set away from its default and every earlier key
 * (trained results, resumable sweeps) stays valid, as the two dropout
 * rows added to AX_SCHEMA_TRAIN after the first trained studies are.
 *
 * To add a section: one more list with the same columns, as
 * AX_SCHEMA_TRAIN was added: its struct with AX_SCHEMA_DECL below, an
 * AX_SL_* value and ROW_* lines in schema.c, a FT_MAP row in
 * config_load.c's root table, its hash/JSON expansions in config_out.c,
 * and its paths in cfgpath.c.
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
	AX_SF_SPARSE = 1u << 4,   /* a row added after results were keyed by
				     these hashes: it joins the config hash,
				     the recipe hash and the point id only
				     when it differs from its default, so
				     every earlier key stays valid (number
				     rows only) */
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

/* The training recipe (`train:`; src/train reads it through
 * ax_train_hparams_from_config). Every key is optional; aux is its
 * default, which equals `archex train`'s flag default. */
#define AX_TRAIN_MAX_COUNT ((int64_t)1 << 60)   /* updates, seeds */
#define AX_TRAIN_MAX_TOKENS ((int64_t)1 << 24)  /* a batch's tokens */
#define AX_SCHEMA_TRAIN(X, c)                                                  \
	X(c, F64, "lr", lr, double, 0, 10, 5e-4, AX_SF_OPTIONAL, AX_RULE_NONE, \
	  "lr", "peak learning rate (after warmup)")                          \
	X(c, I64, "warmup", warmup, int64_t, 0, AX_TRAIN_MAX_COUNT, 4000,      \
	  AX_SF_OPTIONAL, AX_RULE_NONE, "wu",                                  \
	  "linear warmup updates of the inverse-sqrt schedule")                \
	X(c, F64, "warmup_init_lr", warmup_init_lr, double, 0, 10, 0,          \
	  AX_SF_OPTIONAL, AX_RULE_NONE, "wil", "learning rate at update 0")    \
	X(c, F64, "beta1", beta1, double, 0, 0.9999, 0.9, AX_SF_OPTIONAL,      \
	  AX_RULE_NONE, "b1", "AdamW first-moment decay")                     \
	X(c, F64, "beta2", beta2, double, 0, 0.9999, 0.98, AX_SF_OPTIONAL,     \
	  AX_RULE_NONE, "b2", "AdamW second-moment decay")                    \
	X(c, F64, "adam_eps", adam_eps, double, 0, 1, 1e-8, AX_SF_OPTIONAL,    \
	  AX_RULE_NONE, "eps", "AdamW denominator epsilon")                   \
	X(c, F64, "weight_decay", weight_decay, double, 0, 1, 1e-4,            \
	  AX_SF_OPTIONAL, AX_RULE_NONE, "wd",                                  \
	  "AdamW decoupled weight decay of weights and tables")                \
	X(c, F64, "clip_norm", clip_norm, double, 0, 1e9, 0, AX_SF_OPTIONAL,   \
	  AX_RULE_NONE, "clip", "global gradient-norm bound, 0 = off")         \
	X(c, F64, "label_smoothing", label_smoothing, double, 0, 0.999, 0.1,   \
	  AX_SF_OPTIONAL, AX_RULE_NONE, "ls", "label smoothing epsilon")       \
	X(c, F64, "dropout", dropout, double, 0, 0.99, 0.1, AX_SF_OPTIONAL,    \
	  AX_RULE_NONE, "dr", "embedding and residual dropout")                \
	X(c, F64, "attention_dropout", attention_dropout, double, 0, 0.99, 0,  \
	  AX_SF_OPTIONAL, AX_RULE_NONE, "adr", "dropout on attention weights") \
	X(c, F64, "activation_dropout", activation_dropout, double, 0, 0.99,   \
	  0, AX_SF_OPTIONAL, AX_RULE_NONE, "xdr",                              \
	  "dropout after the FFN activation")                                  \
	X(c, F64, "weight_dropout", weight_dropout, double, 0, 0.99, 0,        \
	  AX_SF_OPTIONAL, AX_RULE_NONE, "wdr",                                 \
	  "DropConnect on the light and dynamic conv kernels")                 \
	X(c, F64, "input_dropout", input_dropout, double, 0, 0.99, 0,         \
	  AX_SF_OPTIONAL | AX_SF_SPARSE, AX_RULE_NONE, "idr",                                 \
	  "dropout on the input of LightConv's conv blocks")                   \
	X(c, F64, "adaptive_softmax_dropout", adaptive_softmax_dropout,        \
	  double, 0, 0.99, 0, AX_SF_OPTIONAL | AX_SF_SPARSE, AX_RULE_NONE,     \
	  "asdr",            \
	  "dropout in the adaptive softmax: its input and each tail")          \
	X(c, I64, "max_tokens", max_tokens, int64_t, 2, AX_TRAIN_MAX_TOKENS,   \
	  4096, AX_SF_OPTIONAL, AX_RULE_NONE, "mt",                            \
	  "tokens per batch (each stream)")                                    \
	X(c, I64, "seed", seed, int64_t, 0, AX_TRAIN_MAX_COUNT, 1,             \
	  AX_SF_OPTIONAL, AX_RULE_NONE, "seed",                                \
	  "weights, batch order and dropout")

/* Every per-layer row, in struct ax_layer_config order. */
#define AX_SCHEMA_LAYER_ALL(X, c)                                              \
	AX_SCHEMA_LAYER(X, c) AX_SCHEMA_ATT_BRANCH(X, c) AX_SCHEMA_CONV(X, c)

/* ---- expansions ------------------------------------------------------- */

/* A struct member per row: AX_SCHEMA_ROOT(AX_SCHEMA_DECL, _). */
#define AX_SCHEMA_DECL(c, kind, key, member, ctype, min, max, aux, flags,     \
		       rule, tag, doc)                                         \
	AX_SCHEMA_DECL_##kind(member, ctype, aux)
#define AX_SCHEMA_DECL_I64(m, t, aux) t m;
#define AX_SCHEMA_DECL_F64(m, t, aux) t m;
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
#define AX_SCHEMA_WORDS_F64(aux) 1
#define AX_SCHEMA_WORDS_BOOL(aux) 1
#define AX_SCHEMA_WORDS_ENUM(aux) 1
#define AX_SCHEMA_WORDS_STR(aux) 0
#define AX_SCHEMA_WORDS_LIST(aux) (1 + (aux))

/* A row's range as designated initializers of a struct with members
 * min, max (int64_t) and fmin, fmax (double): F64 rows set the latter. */
#define AX_SCHEMA_RANGE(kind, lo, hi) AX_SCHEMA_RANGE_##kind(lo, hi)
#define AX_SCHEMA_RANGE_I64(lo, hi) .min = (lo), .max = (hi),
#define AX_SCHEMA_RANGE_F64(lo, hi) .fmin = (lo), .fmax = (hi),
#define AX_SCHEMA_RANGE_BOOL(lo, hi) .min = (lo), .max = (hi),
#define AX_SCHEMA_RANGE_ENUM(lo, hi) .min = (lo), .max = (hi),
#define AX_SCHEMA_RANGE_STR(lo, hi) .min = (lo), .max = (hi),
#define AX_SCHEMA_RANGE_LIST(lo, hi) .min = (lo), .max = (hi),

/* ---- the rows at run time (schema.c) ----------------------------------- */

enum ax_schema_kind {
	AX_SK_I64,
	AX_SK_F64,
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
	AX_SL_TRAIN,
	AX_SL_COUNT
};

struct ax_schema_row {
	enum ax_schema_list list;
	enum ax_schema_kind kind;
	const char *key;
	size_t offset, size;        /* the member in its struct */
	size_t count_offset;        /* AX_SK_LIST: its count member */
	int64_t min, max;           /* all kinds but F64 */
	double fmin, fmax;          /* AX_SK_F64 */
	int64_t def;                /* AX_SK_I64: the default (aux) */
	double fdef;                /* AX_SK_F64: the default (aux) */
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
