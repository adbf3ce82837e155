/*
 * model.h - the models layer's public interface: the op list of a config,
 * built by the builder of its family (models.c's family table).
 */
#ifndef AX_MODEL_H
#define AX_MODEL_H

#include <stdint.h>

#include "config.h"
#include "diag.h"
#include "graph.h"

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
