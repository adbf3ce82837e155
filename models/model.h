/*
 * model.h - the models layer's public interface: loading and validating a
 * config with the family rules (rules.c), and the op list of a config,
 * built by the builder of its family (models.c's family table).
 */
#ifndef AX_MODEL_H
#define AX_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "config_rules.h"
#include "diag.h"
#include "graph.h"

/* The family table's rules, for the core's *_with() calls. */
extern const struct ax_config_rules ax_family_rules;

/* Loads and validates a YAML model config. On failure, d carries the
 * file, 1-based line and column, and a message. */
enum ax_status ax_config_load(const char *path, struct ax_config *cfg,
			      struct ax_diag *d);

/* The same from memory; `name` is used as the file name in diagnostics. */
enum ax_status ax_config_load_string(const char *text, size_t len,
				     const char *name, struct ax_config *cfg,
				     struct ax_diag *d);

/* Cross-field checks (heads divide widths, branches sum to d, ...), for
 * configs built or changed in code. Diagnostics carry no line. */
enum ax_status ax_config_validate(const struct ax_config *cfg,
				  struct ax_diag *d);

/* Writes the resolved config as one compact JSON object on one line, no
 * trailing newline (so it can be embedded in a JSON Lines record). Keys
 * mirror the YAML schema; per-layer fields are arrays with one entry per
 * layer, and keys the family or task does not read are left out, so the
 * output loads back with ax_config_load_string(). */
void ax_config_write_json(FILE *f, const struct ax_config *cfg);

/* Writes the resolved config as a YAML file that ax_config_load() reads
 * back to the same config (the same ax_config_hash, and the same train:
 * section when it has one): a comment line with the hash, then the keys
 * of ax_config_write_json() as block mappings; a per-layer field is one
 * value when every layer of the stack holds it, else a list. */
void ax_config_write_yaml(FILE *f, const struct ax_config *cfg);

/* ax_config_write_yaml() into path, atomically (atomic_io.h). A training
 * run writes RUN/config.yaml with it, beside RUN/weights. */
enum ax_status ax_config_save_yaml(const char *path,
				   const struct ax_config *cfg,
				   struct ax_diag *d);

/* The mapping that holds a per-layer group's fields in cfg's family
 * (AX_RULE_CONV: "conv_branch" for lite, "conv" for lightconv), or NULL
 * when the family has none. */
const char *ax_config_map_name(const struct ax_config *cfg, enum ax_rule rule);

/* Builds the op list for cfg with the builder of cfg->family
 * (models/models.c). cfg must outlive g. */
enum ax_status ax_model_build(const struct ax_config *cfg, struct ax_graph *g,
			      struct ax_diag *d);

/* The same, but builds layer l of a stack only when bit l of
 * keep[AX_SIDE_ENCODER] or keep[AX_SIDE_DECODER] is set (keep == NULL:
 * every layer). A left-out layer passes its input on: a layer maps
 * x(rows, d) to x(rows, d), so the ops after it see the shapes they see in
 * the whole model. The result is not the model; it lets an evaluator cost
 * one layer for several (src/fastcost.h). Errors as ax_model_build(). */
enum ax_status ax_model_build_layers(const struct ax_config *cfg,
				     struct ax_graph *g, const uint64_t *keep,
				     struct ax_diag *d);

#endif
