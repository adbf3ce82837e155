/*
 * graph.c - the op list's storage, name tables and naming (see graph.h).
 * Arrays grow by doubling and survive ax_graph_reset(), so rebuilding a
 * model in a sweep allocates nothing once the arrays are warm.
 */
#include "graph.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ax_mode_names[] = {
	[AX_MODE_SEQUENCE] = "sequence",
	[AX_MODE_INCREMENTAL] = "incremental",
};
static_assert(sizeof ax_mode_names / sizeof ax_mode_names[0] == AX_MODE_COUNT,
	      "every mode needs a name");

const char *const ax_op_kind_names[] = {
	[AX_OP_EMBED] = "embed",
	[AX_OP_LINEAR] = "linear",
	[AX_OP_LAYERNORM] = "layernorm",
	[AX_OP_ATTENTION] = "attention",
	[AX_OP_LIGHTCONV] = "lightconv",
	[AX_OP_DYNCONV] = "dynconv",
	[AX_OP_DWCONV] = "dwconv",
	[AX_OP_CONV1D] = "conv1d",
	[AX_OP_GLU] = "glu",
	[AX_OP_RELU] = "relu",
	[AX_OP_SWISH] = "swish",
	[AX_OP_ADD] = "add",
	[AX_OP_LOG_SOFTMAX] = "log_softmax",
	[AX_OP_ADAPTIVE_INPUT] = "adaptive_input",
	[AX_OP_ADAPTIVE_SOFTMAX] = "adaptive_softmax",
};
static_assert(sizeof ax_op_kind_names / sizeof ax_op_kind_names[0] ==
		      AX_OP_KIND_COUNT, "every op kind needs a name");

const char *const ax_cost_kind_names[] = {
	[AX_KIND_ATTENTION_PROJ] = "attention_proj",
	[AX_KIND_ATTENTION_MATMUL] = "attention_matmul",
	[AX_KIND_CONV] = "conv",
	[AX_KIND_CONV_PROJ] = "conv_proj",
	[AX_KIND_CONV_KERNELGEN] = "conv_kernelgen",
	[AX_KIND_FFN] = "ffn",
	[AX_KIND_GLU] = "glu",
	[AX_KIND_EMBED_PROJ] = "embed_proj",
	[AX_KIND_OUTPUT_PROJ] = "output_proj",
	[AX_KIND_NORM] = "norm",
	[AX_KIND_ELEMENTWISE] = "elementwise",
};
static_assert(sizeof ax_cost_kind_names / sizeof ax_cost_kind_names[0] ==
		      AX_KIND_COUNT, "every cost kind needs a name");

const char *const ax_param_kind_names[] = {
	[AX_PARAM_WEIGHT] = "weight",
	[AX_PARAM_BIAS] = "bias",
	[AX_PARAM_NORM] = "norm",
	[AX_PARAM_EMBED_TABLE] = "embed_table",
	[AX_PARAM_OUTPUT] = "output",
	[AX_PARAM_POSITION] = "position",
};
static_assert(sizeof ax_param_kind_names / sizeof ax_param_kind_names[0] ==
		      AX_PARAM_KIND_COUNT, "every param kind needs a name");

const char *const ax_scope_names[] = {
	[AX_SCOPE_EMBED] = "embed",
	[AX_SCOPE_ENCODER] = "enc",
	[AX_SCOPE_DECODER] = "dec",
	[AX_SCOPE_OUTPUT] = "out",
};
static_assert(sizeof ax_scope_names / sizeof ax_scope_names[0] ==
		      AX_SCOPE_COUNT, "every scope needs a name");

void ax_graph_init(struct ax_graph *g)
{
	memset(g, 0, sizeof *g);
	g->enc_out = -1;
	g->logits = -1;
	g->start_token = AX_TOKEN_EOS;
}

void ax_graph_free(struct ax_graph *g)
{
	free(g->ops);
	free(g->tensors);
	free(g->params);
	ax_graph_init(g);
}

void ax_graph_reset(struct ax_graph *g)
{
	g->cfg = NULL;
	g->n_ops = g->n_tensors = g->n_params = 0;
	g->enc_out = -1;
	g->logits = -1;
	g->has_encoder = false;
	g->enc_layers = g->dec_layers = 0;
	g->start_token = AX_TOKEN_EOS;
}

void ax_graph_name(enum ax_scope scope, int layer, const char *block,
		   const char *role, char *buf, size_t size)
{
	const char *s = (unsigned)scope < AX_SCOPE_COUNT ? ax_scope_names[scope] : "?";
	char at[16] = "";
	if (layer >= 0)
		snprintf(at, sizeof at, ".%d", layer);
	snprintf(buf, size, "%s%s%s%s%s%s", s, at, block ? "." : "",
		 block ? block : "", role ? "." : "", role ? role : "");
}

void ax_graph_param_name(const struct ax_graph *g, int32_t p, char *buf,
			 size_t size)
{
	const struct ax_param *x = &g->params[p];
	/* a bias, or the beta of a LayerNorm (its second parameter) */
	bool bias = x->kind == AX_PARAM_BIAS ||
		    (x->kind == AX_PARAM_NORM && x->owner >= 0 &&
		     g->ops[x->owner].param[1] == p);
	char base[192];
	ax_graph_name(x->scope, x->layer, x->block, x->role, base, sizeof base);
	snprintf(buf, size, "%s.%s", base, bias ? "bias" : "weight");
}
