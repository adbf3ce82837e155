/*
 * size.h - model size in bytes per storage precision, and a magnitude-
 * pruning size estimate (docs/precision.md).
 *
 * Every stored parameter of the op list counts (whatever the counting
 * convention says about params). The "quantizable" ones are the ones
 * `--precision` applies to: weight matrices of linears, token embedding
 * tables, the output projection and the adaptive input/softmax tables
 * and projections. Biases, norms, conv kernels and learned position
 * tables stay fp32 at every precision.
 *
 *   fp32   4 bytes per parameter
 *   bf16   2 per quantizable weight (fp16: the same), 4 per other
 *   int8   1 per quantizable weight plus one fp32 scale per output
 *          channel (row of an (out, in) matrix; row of an embedding
 *          table), 4 per other
 *
 * Pruning at sparsity s keeps n_keep = n - floor(s * n) of the n
 * quantizable weights (the largest magnitudes); the kept values are stored
 * at the precision, and their positions by the smaller of two index
 * formats, per matrix:
 *   bitmap   one bit per dense position: ceil(rows * cols / 8) bytes
 *   csr16    a 16-bit column index per kept weight plus a 32-bit row
 *            start per row: 2 * n_keep + 4 * (rows + 1) bytes (cols must
 *            fit 16 bits, else csr32 with 4-byte indices)
 * The other parameters are never pruned.
 */
#ifndef AX_SIZE_H
#define AX_SIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "graph.h"

enum ax_precision {
	AX_PREC_FP32,
	AX_PREC_BF16,   /* and fp16: the same bytes */
	AX_PREC_INT8,
	AX_PREC_COUNT
};
extern const char *const ax_precision_names[AX_PREC_COUNT];

struct ax_model_size {
	int64_t params;              /* every stored parameter */
	int64_t quantizable;         /* of them, those --precision applies to */
	int64_t quantized_rows;      /* output channels: int8 scales */
	int64_t bytes[AX_PREC_COUNT];        /* dense */
	double sparsity;             /* 0 = no pruning estimate */
	int64_t kept;                /* quantizable weights kept */
	int64_t index_bytes;         /* position index of the kept weights */
	int64_t pruned_bytes[AX_PREC_COUNT]; /* values + index + other params */
};

/* True if --precision applies to parameter p (see above). */
bool ax_size_param_quantizable(const struct ax_graph *g, int32_t p);

/* Sizes of g's parameters; sparsity in [0, 1) (0: no estimate). */
void ax_size_model(const struct ax_graph *g, double sparsity,
		   struct ax_model_size *s);

#endif
