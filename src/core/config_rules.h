/*
 * config_rules.h - the loader, validator and JSON writer of the core,
 * parameterised by the family rules, which live above the core (the
 * family table in models/). The models layer fills a struct
 * ax_config_rules and wraps these calls as ax_config_load(),
 * ax_config_load_string(), ax_config_validate() and
 * ax_config_write_json() (models/model.h); everything else calls those.
 *
 * Loading runs in stages; each stops at the first error and reports it as
 * file:line:col (1-based) in the caller's struct ax_diag:
 *   1. read the file (at most 1 MiB) and refuse NUL bytes and tabs;
 *   2. scan the event stream once: syntax errors, and refuse anchors,
 *      aliases, tags, a second document and deep nesting (config_yaml.c);
 *   3. load the document and walk it with one field table per mapping,
 *      generated from the schema (config_load.c): unknown, duplicate,
 *      missing and family-irrelevant keys, types, ranges, per-layer lists;
 *   4. run the cross-field checks that ax_config_validate() runs, with the
 *      position the walker recorded for every value it stored
 *      (config_check.c, then the family hooks, then config_size.c).
 */
#ifndef AX_CONFIG_RULES_H
#define AX_CONFIG_RULES_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "diag.h"
#include "schema.h"

enum ax_presence {
	AX_PRESENCE_OPTIONAL,
	AX_PRESENCE_REQUIRED,
	AX_PRESENCE_FORBIDDEN,
};

/* A validation in progress: the config, where each value was read (if
 * loaded from a file) and the diagnostic (config_check.c). */
struct ax_check;

/* The family rules. Every hook must accept any family value, in range or
 * not (the JSON writer runs on unchecked configs). */
struct ax_config_rules {
	/* AX_USE() bits of the per-layer groups a stack of cfg reads. */
	unsigned (*layer_uses)(const struct ax_config *cfg, enum ax_side side);
	/* Why a stack of cfg does not read group `rule` (for messages). */
	const char *(*why_unused)(const struct ax_config *cfg,
				  enum ax_side side, enum ax_rule rule);
	/* Whether key, a per-layer field or the mapping of a per-layer
	 * group (rule >= AX_RULE_FFN), must or must not be given in a stack;
	 * *why says why, or is left NULL. */
	enum ax_presence (*presence)(const struct ax_config *cfg,
				     enum ax_side side, enum ax_rule rule,
				     const char *key, const char **why);
	/* The mapping that holds group `rule`'s per-layer fields in cfg's
	 * family ("attention_branch"; "conv_branch" or "conv"), or NULL. */
	const char *(*map_name)(const struct ax_config *cfg, enum ax_rule rule);
	/* Family-wide rules; run after the enums and embed_dim are checked. */
	enum ax_status (*check_config)(const struct ax_check *c);
	/* One layer's family rules, after the generic checks of the groups
	 * it reads and before the unread-fields check. */
	enum ax_status (*check_layer)(const struct ax_check *c,
				      enum ax_side side, int64_t i);
	/* k of the size bound's k (d+1)^2 per layer with full-width
	 * attention (config_size.c). */
	int64_t (*attention_bound)(const struct ax_config *cfg);
};

enum ax_status ax_config_load_with(const struct ax_config_rules *r,
				   const char *path, struct ax_config *cfg,
				   struct ax_diag *d);
enum ax_status ax_config_load_string_with(const struct ax_config_rules *r,
					  const char *text, size_t len,
					  const char *name,
					  struct ax_config *cfg,
					  struct ax_diag *d);
enum ax_status ax_config_validate_with(const struct ax_config_rules *r,
				       const struct ax_config *cfg,
				       struct ax_diag *d);
void ax_config_write_json_with(const struct ax_config_rules *r, FILE *f,
			       const struct ax_config *cfg);
void ax_config_write_yaml_with(const struct ax_config_rules *r, FILE *f,
			       const struct ax_config *cfg);

/* ---- for the family hooks --------------------------------------------- */

const struct ax_config *ax_check_config(const struct ax_check *c);

/* Fails the check at the position recorded for *field (a member of the
 * checked config, or NULL; no position in ax_config_validate()). */
enum ax_status ax_check_fail(const struct ax_check *c, const void *field,
			     enum ax_status st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "decoder.conv_branch.dim[3]" (group NULL: "decoder.ffn_dim[3]"). */
void ax_layer_path(char *buf, size_t size, enum ax_side side,
		   const char *group, const char *key, int64_t i);

#endif
