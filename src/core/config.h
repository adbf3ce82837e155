/*
 * config.h - a validated model description (struct ax_config), its name
 * tables, hash and cache-key words.
 *
 * The struct is fixed-size and owns no memory, so sweeps can copy it and
 * change fields freely; ax_config_validate() (models/model.h) re-checks a
 * changed copy. Every per-layer field lives in struct ax_layer_config,
 * one per layer, so heterogeneous (HAT-style) stacks need nothing
 * special. The fields are the rows of schema.h; the YAML schema is
 * documented in docs/config.md. Which fields a family reads (others stay
 * zero and must be absent from the YAML) is the family table's
 * (models/rules.c).
 */
#ifndef AX_CONFIG_H
#define AX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "schema.h"

#define AX_MAX_LAYERS 64          /* per stack */
#define AX_MAX_CUTOFFS 8          /* adaptive input/softmax band edges */
#define AX_MAX_DIM ((int64_t)1 << 20)     /* any width */
#define AX_MAX_VOCAB ((int64_t)1 << 24)
#define AX_MAX_KERNEL 1023
#define AX_NAME_LEN 128           /* name, with its NUL */
/* An upper bound of a model's parameters (about 1.1e12, 4.4 TB of fp32)
 * beyond which the loader refuses it: below it every params and MACs
 * coefficient fits in int64 with room to spare (config_size.c). */
#define AX_MAX_PARAMS ((int64_t)1 << 40)

enum ax_family {
	AX_FAMILY_TRANSFORMER,
	AX_FAMILY_LITE,
	AX_FAMILY_LIGHTCONV,
	AX_FAMILY_EVOLVED,
	AX_FAMILY_COUNT
};

enum ax_task {
	AX_TASK_TRANSLATION,     /* encoder-decoder */
	AX_TASK_LANGUAGE_MODEL,  /* decoder only */
	AX_TASK_COUNT
};

/* Embedding sharing, as fairseq's flags. */
enum ax_share {
	AX_SHARE_NONE,     /* source table, target table, separate output */
	AX_SHARE_DECODER,  /* --share-decoder-input-output-embed */
	AX_SHARE_ALL,      /* --share-all-embeddings */
	AX_SHARE_COUNT
};

enum ax_norm {
	AX_NORM_POST,      /* x = LN(x + f(x)); fairseq default */
	AX_NORM_PRE,       /* x = x + f(LN(x)) */
	AX_NORM_COUNT
};

enum ax_conv_type {
	AX_CONV_LIGHTWEIGHT,
	AX_CONV_DYNAMIC,
	AX_CONV_TYPE_COUNT
};

enum ax_side {
	AX_SIDE_ENCODER,
	AX_SIDE_DECODER,
	AX_SIDE_COUNT
};

/* The structs are generated from the schema rows (schema.h): a field is
 * one row there. */
struct ax_layer_config {
	AX_SCHEMA_LAYER_ALL(AX_SCHEMA_DECL, _)
};

struct ax_stack_config {
	AX_SCHEMA_STACK(AX_SCHEMA_DECL, _)
	struct ax_layer_config layer[AX_MAX_LAYERS];
};

struct ax_adaptive_config {
	bool enabled;                   /* the `adaptive` mapping is present */
	AX_SCHEMA_ADAPTIVE(AX_SCHEMA_DECL, _)
};

/* The training recipe (`train:`), not part of the model: see schema.h.
 * A loaded config without the section has enabled false and every field
 * zero; ax_config_train_default() gives the values it stands for. */
struct ax_train_config {
	bool enabled;                   /* the `train` mapping is present */
	AX_SCHEMA_TRAIN(AX_SCHEMA_DECL, _)
};

struct ax_config {
	AX_SCHEMA_IDENTITY(AX_SCHEMA_DECL, _)
	AX_SCHEMA_ROOT(AX_SCHEMA_DECL, _)
	AX_SCHEMA_VOCAB(AX_SCHEMA_DECL, _)
	struct ax_adaptive_config adaptive;
	struct ax_stack_config encoder; /* layers == 0 for language models */
	struct ax_stack_config decoder;
	struct ax_train_config train;   /* last: the model's bytes come first */
};

/* Name tables for the enums, as the YAML spells them. */
extern const char *const ax_family_names[AX_FAMILY_COUNT];
extern const char *const ax_task_names[AX_TASK_COUNT];
extern const char *const ax_share_names[AX_SHARE_COUNT];
extern const char *const ax_norm_names[AX_NORM_COUNT];
extern const char *const ax_conv_type_names[AX_CONV_TYPE_COUNT];
extern const char *const ax_side_names[AX_SIDE_COUNT];

/* Stages 1 and 2 of the loader for any YAML file archex reads (configs,
 * sweeps): at most max_bytes, no NUL bytes or tabs, valid syntax, one
 * document, no anchors, aliases or tags, nesting at most 16 deep. After
 * it, yaml_parser_load() builds a small tree (no billion laughs, no deep
 * recursion). Errors carry file:line:col. */
enum ax_status ax_yaml_precheck(const char *text, size_t len,
				const char *file, size_t max_bytes,
				struct ax_diag *d);

/* A stable 64-bit FNV-1a hash of the fields that define the model
 * (every schema row but the name and the training recipe, in struct
 * order), for result provenance. */
uint64_t ax_config_hash(const struct ax_config *cfg);

/* The recipe's defaults (every TRAIN row's aux), enabled left false. */
void ax_config_train_default(struct ax_train_config *t);

/* A stable 64-bit FNV-1a hash of the resolved training recipe: the TRAIN
 * rows of cfg->train when enabled, else their defaults (so `train: {}`
 * and no section hash alike). F64 fields hash their IEEE bits. */
uint64_t ax_config_recipe_hash(const struct ax_config *cfg);

/* The fields that define the model as fixed-size int64 words, for cache
 * keys compared word by word (no padding): the top-level and adaptive
 * rows (every cutoff slot), and one layer's rows. */
#define AX_CONFIG_TOP_WORDS                                                    \
	(AX_SCHEMA_IDENTITY(AX_SCHEMA_WORDS, _)                                \
	 AX_SCHEMA_ROOT(AX_SCHEMA_WORDS, _) AX_SCHEMA_VOCAB(AX_SCHEMA_WORDS, _) \
	 + 1 AX_SCHEMA_ADAPTIVE(AX_SCHEMA_WORDS, _))
#define AX_CONFIG_LAYER_WORDS (0 AX_SCHEMA_LAYER_ALL(AX_SCHEMA_WORDS, _))
void ax_config_top_words(const struct ax_config *cfg,
			 int64_t w[AX_CONFIG_TOP_WORDS]);
void ax_config_layer_words(const struct ax_layer_config *l,
			   int64_t w[AX_CONFIG_LAYER_WORDS]);

/* Mixes the fields that define the model into h with ax_mix64(), in the
 * order sweep point ids have always used: family and task, the adaptive
 * settings (only when enabled), the other top-level fields, then per
 * stack its layer count and every field of each layer; then, only when
 * the train section is present, a marker and its rows (F64 as bits). */
uint64_t ax_config_mix(uint64_t h, const struct ax_config *cfg);

/* The loader, the validator and the JSON writer need the family rules
 * (which keys a family reads, its cross-field rules); they are the
 * models layer's, which passes them in: see config_rules.h, and
 * models/model.h for ax_config_load(), ax_config_validate() and
 * ax_config_write_json(). */

#endif
