/*
 * size.c - model bytes per precision and the pruning estimate (size.h).
 */
#include "size.h"

#include <assert.h>
#include <math.h>

const char *const ax_precision_names[AX_PREC_COUNT] = {
	[AX_PREC_FP32] = "fp32",
	[AX_PREC_BF16] = "bf16",
	[AX_PREC_INT8] = "int8",
};
static_assert(sizeof ax_precision_names / sizeof ax_precision_names[0] ==
	      AX_PREC_COUNT, "every precision needs a name");

/* Bytes per quantizable value at each precision. */
static const int64_t value_bytes[AX_PREC_COUNT] = { 4, 2, 1 };

bool ax_size_param_quantizable(const struct ax_graph *g, int32_t p)
{
	const struct ax_param *pp = &g->params[p];
	switch (pp->kind) {
	case AX_PARAM_EMBED_TABLE:
	case AX_PARAM_OUTPUT:
		return true;
	case AX_PARAM_WEIGHT: {
		if (pp->owner < 0 || pp->cols < 2)
			return false;
		enum ax_op_kind k = g->ops[pp->owner].kind;
		return k == AX_OP_LINEAR || k == AX_OP_ADAPTIVE_INPUT ||
		       k == AX_OP_ADAPTIVE_SOFTMAX || k == AX_OP_EMBED;
	}
	default:
		return false;
	}
}

/* Index bytes for one (rows, cols) matrix keeping `kept` weights. */
static int64_t index_bytes(int64_t rows, int64_t cols, int64_t kept)
{
	int64_t bitmap = (rows * cols + 7) / 8;
	int64_t csr = (cols <= 65536 ? 2 : 4) * kept + 4 * (rows + 1);
	return bitmap < csr ? bitmap : csr;
}

void ax_size_model(const struct ax_graph *g, double sparsity,
		   struct ax_model_size *s)
{
	*s = (struct ax_model_size){ .sparsity = sparsity };
	int64_t other = 0;
	for (int32_t p = 0; p < g->n_params; p++) {
		const struct ax_param *pp = &g->params[p];
		int64_t n = pp->rows * pp->cols;
		s->params += n;
		if (!ax_size_param_quantizable(g, p)) {
			other += n;
			continue;
		}
		s->quantizable += n;
		s->quantized_rows += pp->rows;
		int64_t keep = n - (int64_t)floor(sparsity * (double)n);
		s->kept += keep;
		if (sparsity > 0)
			s->index_bytes += index_bytes(pp->rows, pp->cols, keep);
	}
	for (int k = 0; k < AX_PREC_COUNT; k++) {
		int64_t scales = k == AX_PREC_INT8 ? 4 * s->quantized_rows : 0;
		s->bytes[k] = 4 * other + value_bytes[k] * s->quantizable + scales;
		s->pruned_bytes[k] = sparsity > 0 ?
			4 * other + value_bytes[k] * s->kept + scales + s->index_bytes :
			s->bytes[k];
	}
}
