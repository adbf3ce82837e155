/*
 * config.h - a validated model description (struct ax_config) and its
 * YAML loader.
 *
 * The struct is fixed-size and owns no memory, so sweeps can copy it and
 * change fields freely; ax_config_validate() re-checks a changed copy.
 * Every per-layer field lives in struct ax_layer_config, one per layer,
 * so heterogeneous (HAT-style) stacks need nothing special. The YAML
 * schema is documented in docs/config.md.
 *
 * Which fields a family reads (others stay zero and must be absent from
 * the YAML):
 *   transformer: ffn_dim, attention_heads (self and cross, as fairseq)
 *   lite:        ffn_dim, attention_dim, attention_branch_heads,
 *                conv_type, conv_dim, conv_heads, glu, kernel_size;
 *                decoder attention_heads = cross-attention heads
 *   lightconv:   ffn_dim, conv_type, conv_dim, conv_heads, glu,
 *                kernel_size; decoder attention_heads = cross heads
 *   evolved:     attention_heads (widths are multiples of embed_dim)
 */
#ifndef AX_CONFIG_H
#define AX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"

#define AX_MAX_LAYERS 64          /* per stack */
#define AX_MAX_CUTOFFS 8          /* adaptive input/softmax band edges */
#define AX_MAX_DIM ((int64_t)1 << 20)     /* any width */
#define AX_MAX_VOCAB ((int64_t)1 << 24)
#define AX_MAX_KERNEL 1023
/* An upper bound of a model's parameters (about 1.1e12, 4.4 TB of fp32)
 * beyond which the loader refuses it: below it every params and MACs
 * coefficient fits in int64 with room to spare (config.c check_size). */
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

struct ax_layer_config {
	int64_t ffn_dim;                /* f */
	int64_t attention_heads;        /* full-width attention heads */
	int64_t attention_dim;          /* lite: attention-branch width */
	int64_t attention_branch_heads; /* lite: attention-branch heads */
	enum ax_conv_type conv_type;    /* lite, lightconv */
	int64_t conv_dim;               /* lite: conv-branch width; lightconv: c */
	int64_t conv_heads;             /* H of the light/dynamic conv */
	bool glu;                       /* GLU after linear1 */
	int64_t kernel_size;            /* K */
};

struct ax_stack_config {
	int64_t layers;                 /* 0 = stack absent (LM encoder) */
	struct ax_layer_config layer[AX_MAX_LAYERS];
};

/* Adaptive input and adaptive softmax (Baevski & Auli; Grave et al.). */
struct ax_adaptive_config {
	bool enabled;
	int n_cutoffs;                    /* cutoffs before V, e.g. 2 */
	int64_t cutoff[AX_MAX_CUTOFFS];   /* ascending, each < vocab_target */
	int64_t factor;                   /* band b has width d / factor^b */
	bool tie_weights;                 /* output bands reuse input tables */
	bool tie_proj;                    /* output tails reuse input projections */
};

struct ax_config {
	char name[128];                 /* defaults to the file's base name */
	enum ax_family family;
	enum ax_task task;
	int64_t embed_dim;              /* d */
	enum ax_norm norm;
	bool final_norm;                /* a final LN per stack (pre-norm only) */
	int64_t vocab_source;           /* 0 for language models */
	int64_t vocab_target;
	enum ax_share share;
	struct ax_adaptive_config adaptive;
	struct ax_stack_config encoder; /* layers == 0 for language models */
	struct ax_stack_config decoder;
};

/* Name tables for the enums, as the YAML spells them. */
extern const char *const ax_family_names[AX_FAMILY_COUNT];
extern const char *const ax_task_names[AX_TASK_COUNT];
extern const char *const ax_share_names[AX_SHARE_COUNT];
extern const char *const ax_norm_names[AX_NORM_COUNT];
extern const char *const ax_conv_type_names[AX_CONV_TYPE_COUNT];
extern const char *const ax_side_names[AX_SIDE_COUNT];

/* Loads and validates a YAML model config. On failure, d carries the
 * file, 1-based line and column, and a message. */
enum ax_status ax_config_load(const char *path, struct ax_config *cfg,
			      struct ax_diag *d);

/* The same from memory; `name` is used as the file name in diagnostics. */
enum ax_status ax_config_load_string(const char *text, size_t len,
				     const char *name, struct ax_config *cfg,
				     struct ax_diag *d);

/* Stages 1 and 2 of the loader for any YAML file archex reads (configs,
 * sweeps): at most max_bytes, no NUL bytes or tabs, valid syntax, one
 * document, no anchors, aliases or tags, nesting at most 16 deep. After
 * it, yaml_parser_load() builds a small tree (no billion laughs, no deep
 * recursion). Errors carry file:line:col. */
enum ax_status ax_yaml_precheck(const char *text, size_t len,
				const char *file, size_t max_bytes,
				struct ax_diag *d);

/* Cross-field checks (heads divide widths, branches sum to d, ...), for
 * configs built or changed in code. Diagnostics carry no line. */
enum ax_status ax_config_validate(const struct ax_config *cfg,
				  struct ax_diag *d);

/* A stable 64-bit FNV-1a hash of the fields that define the model
 * (not the name), for result provenance and sweep point ids. */
uint64_t ax_config_hash(const struct ax_config *cfg);

/* Writes the resolved config as one compact JSON object on one line, no
 * trailing newline (so it can be embedded in a JSON Lines record). Keys
 * mirror the YAML schema; per-layer fields are arrays with one entry per
 * layer, and keys the family or task does not read are left out, so the
 * output loads back with ax_config_load_string(). */
void ax_config_write_json(FILE *f, const struct ax_config *cfg);

#endif
