/*
 * exec.h - reference inference over the op list.
 *
 * The executor walks the same ops the cost model counts, with real fp32
 * tensors in arenas planned once (plan.h): nothing is allocated after
 * ax_exec_init(). The kernels count their own work (kernels.h, struct
 * ax_k_work): the MACs they performed and the `exact` MACs they skipped
 * on zero padding. After every op the executor adds them to per-op
 * counters and checks performed + skipped against the cost model's
 * `exact` count of that op for this call (cost.h: the lengths, mode and
 * batch of the call, adaptive input in the bands of its tokens); a
 * mismatch fails the call with AX_ERR_INTERNAL. Ops also time themselves.
 *
 * Modes:
 *   AX_MODE_SEQUENCE     teacher-forced scoring of `batch` sentence pairs
 *                        (or LM sequences) of equal length at once: every
 *                        op runs on batch*S or batch*T rows.
 *   AX_MODE_INCREMENTAL  decoding: ax_exec_encode() runs the source-stream
 *                        ops once; each ax_exec_step() runs the target-
 *                        stream ops for `batch` rows (the beam), with
 *                        self-attention K/V caches (beam, max_tgt, w), a
 *                        ring of the last K-1 inputs per causal conv, and
 *                        the cross-attention K/V computed once and shared by
 *                        all beams. ax_exec_reorder() follows beam search.
 *
 * Token ids follow fairseq's dictionary (AX_TOKEN_*, graph.h): bos 0,
 * pad 1, eos 2, unk 3.
 */
#ifndef AX_EXEC_H
#define AX_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "cost.h"
#include "graph.h"
#include "plan.h"
#include "size.h"

/* The activations the int8 linears multiply with: fp32, or each input row
 * quantized to int8 at every call (dynamic, symmetric, per row; integer
 * dot products, vpdpbusd where the CPU has VNNI: kernels_q.h). int8
 * activations apply to the streaming kernel (fewer than
 * AX_KQ_TILED_MIN_N rows: decoding steps and beams); many rows go
 * through the dequantized tiles and sgemm in fp32 either way. */
enum ax_act { AX_ACT_FP32, AX_ACT_INT8, AX_ACT_COUNT };
extern const char *const ax_act_names[AX_ACT_COUNT];

struct ax_exec_opts {
	enum ax_mode mode;
	int64_t batch;     /* sequence: sentences per call; incremental: beam */
	int64_t max_src;   /* S capacity */
	int64_t max_tgt;   /* T capacity (incremental: the most steps) */
	int64_t max_bytes; /* refuse (AX_ERR_LIMIT) arenas above this;
			      0 = the machine's physical memory */
	enum ax_precision precision; /* weights of linears and embeddings
			      (ax_exec_set_precision); 0 = fp32 */
	enum ax_act act;   /* at int8: the activations; 0 = fp32; may be
			      changed between calls (x->o.act) */
};

struct ax_exec {
	const struct ax_graph *g;
	struct ax_exec_opts o;

	/* arenas (weights, norm_kernels, activations, rings, scratch) start
	 * on a 64-byte cache line */
	float *weights;          /* one fp32 arena for every parameter not
				    held at a reduced precision */
	int64_t n_weights;
	int64_t *param_off;      /* (n_params) offsets into weights; -1 for
				    a parameter held only quantized */
	float *norm_kernels;     /* softmaxed (H, K) of each LIGHTCONV op */
	int64_t *norm_off;       /* (n_ops) offsets into norm_kernels, -1 */

	struct ax_plan plan_src; /* source-stream tensors (all in sequence mode) */
	struct ax_plan plan_tgt; /* incremental: target-stream tensors */
	float *arena_src;
	float *arena_tgt;
	int64_t *ld;             /* (n_tensors) row stride of each tensor */
	bool *is_cache;          /* (n_tensors) incremental K/V cache tensors */

	float *rings;            /* incremental: conv rings, (beam, K-1, c) each */
	int64_t *ring_off;       /* (n_ops) offsets into rings, -1 */
	float *scratch;          /* attention scores, reorder copies */
	int64_t scratch_size;

	int64_t S, T;            /* lengths of the current call */
	int64_t step;            /* incremental: steps taken */
	struct ax_poly *op_exact;/* (n_ops) each op's `exact` MACs in this mode */
	int64_t *op_macs;        /* (n_ops) MACs performed since the last reset */
	int64_t *op_skipped;     /* (n_ops) `exact` MACs skipped on zero padding */
	double *op_seconds;      /* (n_ops) wall time since the last reset */
	bool timing;

	/* reduced precision (ax_exec_set_precision): the weights the
	 * LINEAR and EMBED ops read, quantized at load; they have no fp32
	 * storage */
	enum ax_precision precision;
	unsigned char *qweights; /* int8 (rows, cols) or bf16 (rows, cols)
				    per quantized parameter, 64-byte aligned */
	int64_t n_qbytes;        /* bytes of qweights */
	float *qscales;          /* int8: (rows) per quantized parameter */
	int64_t n_qscales;
	int64_t *qoff;           /* (n_params) byte offsets into qweights,
				    -1 = the parameter stays fp32 */
	int64_t *qscale_off;     /* (n_params) offsets into qscales */
	float *qtile;            /* (qtile_rows, i) dequantized weights for
				    sgemm on many rows (kernels_q.h) */
	int64_t qtile_floats;
};

enum ax_status ax_exec_init(struct ax_exec *x, const struct ax_graph *g,
			    const struct ax_exec_opts *o, struct ax_diag *d);
void ax_exec_free(struct ax_exec *x);

/* Deterministic weights from a seed: each tensor depends only on the seed
 * and its index. Weights ~ U(-1/sqrt(in), 1/sqrt(in)); LN gamma near 1;
 * embedding rows ~ U(-1/sqrt(d), 1/sqrt(d)) with the padding row zero. */
void ax_exec_init_weights(struct ax_exec *x, uint64_t seed);
/* The vocabulary bands of an ADAPTIVE_INPUT or ADAPTIVE_SOFTMAX op as the
 * executor builds them (tables and projections in x's weights arena;
 * docs/models.md §2.8); bands holds AX_MAX_CUTOFFS + 1. Returns their
 * count. */
struct ax_k_band;
int ax_exec_adaptive_bands(const struct ax_exec *x, const struct ax_op *op,
			   struct ax_k_band *bands);
/* The weights file (docs/weights-format.md) by parameter name. Saving
 * needs every fp32 value: at a reduced precision it fails (AX_ERR_INPUT),
 * since the quantized parameters' fp32 values were never kept. */
enum ax_status ax_exec_save_weights(const struct ax_exec *x, const char *path,
				    struct ax_diag *d);
enum ax_status ax_exec_load_weights(struct ax_exec *x, const char *path,
				    struct ax_diag *d);

/* Runs the LINEAR ops (weights) and EMBED ops (token tables) on weights
 * stored at precision p (docs/precision.md): each parameter that only
 * such ops read, and that ax_size_param_quantizable() allows (a tied
 * table is one parameter), is held only at p, with no fp32 storage;
 * ax_exec_init_weights() and ax_exec_load_weights() quantize it block by
 * block as they produce it. Everything else (biases, norms, conv kernels,
 * adaptive tables) stays in the fp32 arena.
 *
 * ax_exec_opts.precision lays the executor out at p from the start (what
 * `archex run` does: its memory never holds the fp32 copy). Changing the
 * precision of a live executor re-lays its weights and keeps their
 * values: fp32 -> p quantizes the fp32 arena (which is then freed), p ->
 * fp32 stores the dequantized values, p -> q goes through fp32. Call it
 * before running, not between steps. */
enum ax_status ax_exec_set_precision(struct ax_exec *x, enum ax_precision p,
				     struct ax_diag *d);
/* True if parameter p runs from a reduced-precision copy. */
bool ax_exec_param_quantized(const struct ax_exec *x, int32_t p);

/* Teacher-forced pass (mode sequence): src (batch, S) and tgt_in
 * (batch, T) token ids; LMs pass src = NULL, S = 0. On return
 * ax_exec_logprobs() points at (batch*T, V) log-probabilities. */
enum ax_status ax_exec_forward(struct ax_exec *x, const int32_t *src,
			       int64_t S, const int32_t *tgt_in, int64_t T,
			       struct ax_diag *d);

/* Incremental decoding. encode: src (S) ids, once per sentence; resets
 * the step counter and the rings. step: one token per beam row (batch
 * rows); then ax_exec_logprobs() points at (batch, V). */
enum ax_status ax_exec_encode(struct ax_exec *x, const int32_t *src, int64_t S,
			      struct ax_diag *d);
enum ax_status ax_exec_step(struct ax_exec *x, const int32_t *tokens,
			    struct ax_diag *d);
/* Beam search bookkeeping: new row i continues old row from[i]. */
void ax_exec_reorder(struct ax_exec *x, const int32_t *from);

const float *ax_exec_logprobs(const struct ax_exec *x);
int64_t ax_exec_vocab(const struct ax_exec *x);
/* The decoder's first input (graph.h start_token): eos for fairseq
 * families; 0 (which t2t embeds to the zero vector, its shifted-right
 * start) for the Evolved Transformer. */
int32_t ax_exec_start_token(const struct ax_exec *x);

/* MACs the kernels counted since the last reset, performed + skipped,
 * in total and per macs_by_kind: the `exact` count of what ran. */
int64_t ax_exec_macs(const struct ax_exec *x, int64_t *by_kind);
/* Of those, the ones skipped on zero padding (not performed). */
int64_t ax_exec_skipped(const struct ax_exec *x);
void ax_exec_reset_counters(struct ax_exec *x);

/* The memory an executor with these options holds, in bytes, as
 * ax_exec_init() lays it out (nothing is allocated but small tables):
 * `archex count` reports it and docs/precision.md compares it with the
 * peak RSS of `archex run`. Per beam: kv_cache / batch, conv_state /
 * batch. At o->precision: the quantized weights replace their fp32
 * storage, and the dequantization tile is in scratch. */
struct ax_exec_memory {
	int64_t weights;      /* every weight: the fp32 arena, the quantized
				 copies and their int8 scales */
	int64_t weights_fp32; /* of them, the fp32 arena (all at fp32) */
	int64_t activations;  /* the planned activation arenas (peak, with
				 reuse), self-attention caches excluded;
				 includes the encoder output and cross-
				 attention K/V kept while decoding */
	int64_t naive_activations; /* the same without reuse */
	int64_t kv_cache;     /* incremental: self-attention K/V, all beams */
	int64_t conv_state;   /* incremental: conv rings, all beams */
	int64_t scratch;      /* attention scores, reorder copies, normalised
				 lightweight kernels, dequantization tile */
	int64_t total;        /* all of the above but naive_activations */
};
enum ax_status ax_exec_memory(const struct ax_graph *g,
			      const struct ax_exec_opts *o,
			      struct ax_exec_memory *m, struct ax_diag *d);

/* A zeroed block of n floats (n + 1, so never size 0) at a 64-byte
 * (cache-line) boundary, or NULL; free() it. Every arena of the executor
 * and the trainer comes from here. */
float *ax_alloc_floats(int64_t n);

#endif
