/*
 * exec.c - the executor (see exec.h): one switch over op kinds (run_op),
 * each case resolving tensor pointers and row strides and calling a
 * kernel (kernels.h) that counts its own work; check_work() then holds
 * that count against the cost model's `exact` count of the call.
 *
 * Tensor addressing: a root tensor lives at arena + plan offset with row
 * stride = its width; a view adds its column offset and keeps the root's
 * stride. In incremental mode a self-attention cache (beam, max_tgt, w)
 * is written one row per beam per step: row stride max_tgt*w, first row
 * at the current step.
 */
#include "exec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels.h"
#include "kernels_q.h"
#include "util.h"
#include "weights.h"

const char *const ax_act_names[AX_ACT_COUNT] = {
	[AX_ACT_FP32] = "fp32",
	[AX_ACT_INT8] = "int8",
};

/* --- small helpers ------------------------------------------------------ */

static int32_t root(const struct ax_graph *g, int32_t t)
{
	return g->tensors[t].parent >= 0 ? g->tensors[t].parent : t;
}

static bool incremental(const struct ax_exec *x)
{
	return x->o.mode == AX_MODE_INCREMENTAL;
}

/* Pointer to row 0 of tensor t for the current call. */
static float *tensor(const struct ax_exec *x, int32_t t)
{
	const struct ax_graph *g = x->g;
	bool tgt_plan = incremental(x) && g->tensors[t].len == AX_LEN_TGT;
	const struct ax_plan *p = tgt_plan ? &x->plan_tgt : &x->plan_src;
	float *base = tgt_plan ? x->arena_tgt : x->arena_src;
	float *ptr = base + p->offset[t];
	if (x->is_cache[root(g, t)])
		ptr += x->step * g->tensors[root(g, t)].width;
	return ptr;
}

/* Rows an op on stream len runs on in this call. */
static int64_t rows(const struct ax_exec *x, enum ax_len len)
{
	if (len == AX_LEN_SRC)
		return incremental(x) ? x->S : x->o.batch * x->S;
	return incremental(x) ? x->o.batch : x->o.batch * x->T;
}

/* Rows of one sentence on stream len in sequence mode: S or T. */
static int64_t sentence_rows(const struct ax_exec *x, enum ax_len len)
{
	return len == AX_LEN_SRC ? x->S : x->T;
}

/* A parameter's fp32 values; NULL if absent or held only quantized. */
static const float *param(const struct ax_exec *x, const struct ax_op *op, int slot)
{
	int32_t p = op->param[slot];
	return p >= 0 && x->param_off[p] >= 0 ? x->weights + x->param_off[p] : NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* --- set-up ------------------------------------------------------------ */

/* The vocabulary bands of an adaptive op (docs/models.md §2.8), from the op's
 * parameter slots: input op p[2b] = E_b, p[2b+1] = P_b (d, d_b); softmax
 * op p0 = E_0 (head), p1 = W_cls, and for b >= 1 p[2b] = E_b, p[2b+1] =
 * P_b, which is the input projection (d, d_b) when tied (owned by another
 * op), else an own (d_b, d) matrix. Pointers are NULL before the weight
 * arena exists (sizing only). */
/* Parameter p as a struct ax_k_qmat: its quantized copy and the
 * dequantization tile, or all NULL if p is held in fp32. */
static struct ax_k_qmat qmat(const struct ax_exec *x, int32_t p)
{
	if (p < 0 || !x->qweights || !ax_exec_param_quantized(x, p))
		return (struct ax_k_qmat){ 0 };
	const unsigned char *w = x->qweights + x->qoff[p];
	bool i8 = x->precision == AX_PREC_INT8;
	return (struct ax_k_qmat){
		.q = i8 ? (const int8_t *)w : NULL,
		.scale = i8 ? x->qscales + x->qscale_off[p] : NULL,
		.h = i8 ? NULL : (const uint16_t *)w,
		.tile = x->qtile, .tile_floats = x->qtile_floats,
	};
}

/* Parameter p's fp32 values; NULL if absent, held quantized or not yet
 * allocated. */
static const float *fp32_param(const struct ax_exec *x, int32_t p)
{
	return x->weights && p >= 0 && x->param_off[p] >= 0 ?
	       x->weights + x->param_off[p] : NULL;
}

static int adaptive_bands(const struct ax_exec *x, const struct ax_op *op,
			  struct ax_k_band *bands)
{
	const struct ax_graph *g = x->g;
	int nb = (int)op->bands;
	int64_t start = 0;
	for (int b = 0; b < nb; b++) {
		const struct ax_param *t = &g->params[op->param[2 * b]];
		int32_t pj = op->param[2 * b + 1];
		bool tied = pj >= 0 && g->params[pj].owner != (int32_t)(op - g->ops);
		bands[b] = (struct ax_k_band){
			.start = start, .size = t->rows, .dim = t->cols,
			.table = fp32_param(x, op->param[2 * b]),
			.proj = fp32_param(x, pj),
			.proj_layout = op->kind == AX_OP_ADAPTIVE_INPUT || tied ?
				       AX_K_PROJ_D_DB : AX_K_PROJ_DB_D,
			/* at a reduced precision; band 0 of the softmax: W_cls */
			.qtable = qmat(x, op->param[2 * b]),
			.qproj = qmat(x, pj),
		};
		start += t->rows;
	}
	return nb;
}


/* Public face of adaptive_bands() for the trainer (exec.h). */
int ax_exec_adaptive_bands(const struct ax_exec *x, const struct ax_op *op,
			   struct ax_k_band *bands)
{
	return adaptive_bands(x, op, bands);
}

static int64_t sat_add(int64_t a, int64_t b)
{
	return ax_sat_add(a, b);   /* the core's one copy (util.h) */
}

static double gib(int64_t floats)
{
	return (double)floats * sizeof(float) / (1024.0 * 1024.0 * 1024.0);
}

/* Refuses arenas that cannot fit: above o->max_bytes, or else the
 * physical memory, so that a huge beam, length or model gets a clear
 * error before any allocation instead of a failed (or overcommitted)
 * calloc. */
static enum ax_status check_memory(const struct ax_exec *x,
				   const struct ax_exec_opts *o,
				   int64_t n_norm, int64_t n_ring,
				   struct ax_diag *d)
{
	int64_t act = sat_add(x->plan_src.total, x->plan_tgt.total);
	int64_t other = sat_add(sat_add(n_norm, n_ring), x->scratch_size);
	int64_t wf = sat_add(sat_add(x->n_weights, x->n_qscales + x->qtile_floats),
			     (x->n_qbytes + 3) / 4);
	int64_t floats = sat_add(sat_add(wf, act), other);
	int64_t limit = o->max_bytes;
	const char *what = "the limit set";

	if (limit <= 0) {
		long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
		limit = pages > 0 && size > 0 && pages <= INT64_MAX / size ?
			(int64_t)pages * size : INT64_MAX;
		what = "this machine's physical memory";
	}
	if (floats <= limit / (int64_t)sizeof(float))
		return AX_OK;
	return ax_diag_set(d, AX_ERR_LIMIT, "", 0, 0,
			   "executor: this run needs %.3g GiB (weights %.3g, "
			   "activations and caches %.3g, scratch and conv state "
			   "%.3g), more than %s (%.3g GiB); use a smaller model, "
			   "beam, --max-len or shorter sentences",
			   gib(floats), gib(wf), gib(act), gib(other),
			   what, (double)limit / (1024.0 * 1024.0 * 1024.0));
}

float *ax_alloc_floats(int64_t n)
{
	size_t bytes = ((size_t)(n + 1) * sizeof(float) + 63) / 64 * 64;
	float *p = aligned_alloc(64, bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

/* Weight offsets: one arena in parameter order, each tensor starting on a
 * 16-float (64-byte) boundary of the aligned arena; a parameter held
 * quantized (plan_precision) has none. */
static void place_weights(struct ax_exec *x)
{
	const struct ax_graph *g = x->g;
	x->n_weights = 0;
	for (int32_t p = 0; p < g->n_params; p++) {
		x->param_off[p] = -1;
		if (ax_exec_param_quantized(x, p))
			continue;
		x->param_off[p] = x->n_weights;
		x->n_weights += (g->params[p].rows * g->params[p].cols + 15) / 16 * 16;
	}
}

/* Floats of scratch op i needs, with the max_len-long rows of sequence
 * mode or the beam rows of a step. */
static int64_t op_scratch(struct ax_exec *x, int32_t i, int64_t max_len,
			  int64_t max_rows)
{
	const struct ax_graph *g = x->g;
	const struct ax_exec_opts *o = &x->o;
	const struct ax_op *op = &g->ops[i];
	bool inc = o->mode == AX_MODE_INCREMENTAL;
	int64_t need = 0;
	switch (op->kind) {
	case AX_OP_ATTENTION:
		/* queries: a whole sentence (encoder, sequence mode) or the
		 * beam rows of a step; keys: up to max(S, T) */
		need = ax_k_attention_scratch(
			g->tensors[op->out].len == AX_LEN_SRC || !inc ? max_len : o->batch,
			max_len, op->heads);
		if (inc && op->causal) {
			/* ax_exec_reorder copies one cache through scratch */
			int64_t c = o->batch * o->max_tgt * g->tensors[op->out].width;
			need = c > need ? c : need;
		}
		break;
	case AX_OP_DYNCONV:
		need = ax_k_dynconv_scratch(op->heads, op->kernel);
		break;
	case AX_OP_CONV1D:
		need = ax_k_conv1d_scratch(max_rows, g->tensors[op->in[0]].width,
					   op->kernel);
		break;
	case AX_OP_ADAPTIVE_SOFTMAX: {
		struct ax_k_band bands[AX_MAX_CUTOFFS + 1];
		int nb = adaptive_bands(x, op, bands);
		need = ax_k_adaptive_softmax_scratch(max_rows, bands, nb);
		break;
	}
	default:
		break;
	}
	if (x->ring_off[i] >= 0) {   /* reorder copies one ring */
		int64_t c = o->batch * (op->kernel - 1) * g->tensors[op->in[0]].width;
		need = c > need ? c : need;
	}
	return need;
}

/* Per-op state: normalised lightweight kernels, conv rings, the K/V
 * caches of causal self-attention (incremental), the scratch size, and
 * each op's `exact` MAC polynomial for the per-call check. */
static enum ax_status place_op_state(struct ax_exec *x, int64_t *n_norm,
				     int64_t *n_ring, struct ax_diag *d)
{
	const struct ax_graph *g = x->g;
	const struct ax_exec_opts *o = &x->o;
	bool inc = o->mode == AX_MODE_INCREMENTAL;
	int64_t max_len = o->max_tgt > o->max_src ? o->max_tgt : o->max_src;
	int64_t max_rows = inc ? (o->batch > o->max_src ? o->batch : o->max_src) :
			   o->batch * max_len;
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		struct ax_op_cost c;
		ax_cost_op(g, i, AX_CONVENTION_EXACT, o->mode, &c);
		x->op_exact[i] = c.macs;
		x->norm_off[i] = x->ring_off[i] = -1;
		bool conv = op->kind == AX_OP_LIGHTCONV || op->kind == AX_OP_DYNCONV ||
			    op->kind == AX_OP_DWCONV || op->kind == AX_OP_CONV1D;
		if (op->kind == AX_OP_LIGHTCONV) {
			x->norm_off[i] = *n_norm;
			*n_norm += op->heads * op->kernel;
		}
		/* a causal conv decoding step by step keeps a ring of its
		 * last K-1 inputs per beam row */
		if (inc && conv && g->tensors[op->out].len == AX_LEN_TGT) {
			if (!op->causal && op->kernel > 1)
				return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
						   "op %d: a non-causal conv cannot decode incrementally", i);
			x->ring_off[i] = *n_ring;
			*n_ring += o->batch * (op->kernel - 1) * g->tensors[op->in[0]].width;
		}
		if (inc && op->kind == AX_OP_ATTENTION && op->causal) {
			x->is_cache[root(g, op->in[1])] = true;
			x->is_cache[root(g, op->in[2])] = true;
		}
		int64_t need = op_scratch(x, i, max_len, max_rows);
		x->scratch_size = need > x->scratch_size ? need : x->scratch_size;
	}
	return AX_OK;
}

/* Activations: row capacities per stream; the caches hold max_tgt rows
 * per beam; in incremental mode the source-stream tensors read by the
 * decoder (cross-attention memory) stay alive across steps. */
static enum ax_status plan_activations(struct ax_exec *x, struct ax_diag *d)
{
	const struct ax_graph *g = x->g;
	const struct ax_exec_opts *o = &x->o;
	int32_t nt = g->n_tensors;
	bool inc = o->mode == AX_MODE_INCREMENTAL;
	int64_t *rows_src = calloc((size_t)nt + 1, sizeof *rows_src);
	int64_t *rows_tgt = calloc((size_t)nt + 1, sizeof *rows_tgt);
	bool *keep = calloc((size_t)nt + 1, sizeof *keep);
	enum ax_status st = AX_ERR_NOMEM;
	if (!rows_src || !rows_tgt || !keep) {
		ax_diag_set(d, st, "", 0, 0,
			    "executor: cannot allocate the weight and activation arenas");
		goto out;
	}
	for (int32_t t = 0; t < nt; t++) {
		const struct ax_tensor *tt = &g->tensors[t];
		x->ld[t] = g->tensors[root(g, t)].width;
		if (tt->len == AX_LEN_SRC) {
			rows_src[t] = inc ? o->max_src : o->batch * o->max_src;
		} else if (!inc) {
			rows_src[t] = o->batch * o->max_tgt;
		} else {
			rows_tgt[t] = x->is_cache[t] ? o->batch * o->max_tgt : o->batch;
			keep[t] = x->is_cache[t];
		}
	}
	for (int32_t t = 0; t < nt; t++)
		if (x->is_cache[root(g, t)])
			x->ld[t] = o->max_tgt * g->tensors[root(g, t)].width;
	if (inc)
		for (int32_t i = 0; i < g->n_ops; i++) {
			const struct ax_op *op = &g->ops[i];
			if (g->tensors[op->out].len != AX_LEN_TGT)
				continue;
			for (int k = 0; k < AX_OP_MAX_IN; k++)
				if (op->in[k] >= 0 && g->tensors[op->in[k]].len == AX_LEN_SRC)
					keep[root(g, op->in[k])] = true;
		}
	st = ax_plan_build(&x->plan_src, g, rows_src, keep, d);
	if (st == AX_OK && inc)
		st = ax_plan_build(&x->plan_tgt, g, rows_tgt, keep, d);
out:
	free(rows_src);
	free(rows_tgt);
	free(keep);
	return st;
}

static enum ax_status plan_precision(struct ax_exec *x, enum ax_precision prec,
				     struct ax_diag *d);
static bool alloc_copies(struct ax_exec *x);

enum ax_status ax_exec_init(struct ax_exec *x, const struct ax_graph *g,
			    const struct ax_exec_opts *o, struct ax_diag *d)
{
	memset(x, 0, sizeof *x);
	x->g = g;
	x->o = *o;
	int32_t nt = g->n_tensors, no = g->n_ops, np = g->n_params;
	if (o->batch < 1 || o->max_tgt < 1 || o->max_src < 0)
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "executor: batch and lengths must be positive");

	x->param_off = calloc((size_t)np + 1, sizeof *x->param_off);
	x->norm_off = calloc((size_t)no + 1, sizeof *x->norm_off);
	x->ring_off = calloc((size_t)no + 1, sizeof *x->ring_off);
	x->ld = calloc((size_t)nt + 1, sizeof *x->ld);
	x->is_cache = calloc((size_t)nt + 1, sizeof *x->is_cache);
	x->op_exact = calloc((size_t)no + 1, sizeof *x->op_exact);
	x->op_macs = calloc((size_t)no + 1, sizeof *x->op_macs);
	x->op_skipped = calloc((size_t)no + 1, sizeof *x->op_skipped);
	x->op_seconds = calloc((size_t)no + 1, sizeof *x->op_seconds);
	enum ax_status st = AX_ERR_NOMEM;
	if (!x->param_off || !x->norm_off || !x->ring_off || !x->ld ||
	    !x->is_cache || !x->op_exact || !x->op_macs || !x->op_skipped ||
	    !x->op_seconds)
		goto fail_alloc;

	int64_t n_norm = 0, n_ring = 0;
	if ((st = plan_precision(x, o->precision, d)) != AX_OK)
		goto fail;
	place_weights(x);
	if ((st = place_op_state(x, &n_norm, &n_ring, d)) != AX_OK ||
	    (st = plan_activations(x, d)) != AX_OK ||
	    (st = check_memory(x, o, n_norm, n_ring, d)) != AX_OK)
		goto fail;
	st = AX_ERR_NOMEM;
	x->weights = ax_alloc_floats(x->n_weights);
	x->norm_kernels = ax_alloc_floats(n_norm);
	x->rings = ax_alloc_floats(n_ring);
	x->scratch = ax_alloc_floats(x->scratch_size);
	x->arena_src = ax_alloc_floats(x->plan_src.total);
	x->arena_tgt = ax_alloc_floats(x->plan_tgt.total);
	if (!x->weights || !x->norm_kernels || !x->rings || !x->scratch ||
	    !x->arena_src || !x->arena_tgt || !alloc_copies(x))
		goto fail_alloc;
	return AX_OK;

fail_alloc:
	ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0,
		    "executor: cannot allocate the weight and activation arenas");
fail:
	ax_exec_free(x);
	return st;
}

void ax_exec_free(struct ax_exec *x)
{
	free(x->weights);
	free(x->param_off);
	free(x->norm_kernels);
	free(x->norm_off);
	ax_plan_free(&x->plan_src);
	ax_plan_free(&x->plan_tgt);
	free(x->arena_src);
	free(x->arena_tgt);
	free(x->ld);
	free(x->is_cache);
	free(x->rings);
	free(x->ring_off);
	free(x->scratch);
	free(x->op_exact);
	free(x->op_macs);
	free(x->op_skipped);
	free(x->op_seconds);
	free(x->qweights);
	free(x->qscales);
	free(x->qoff);
	free(x->qscale_off);
	free(x->qtile);
	memset(x, 0, sizeof *x);
}

/* ax_exec_init()'s layout without its arenas: the same placement and
 * plans, then the sizes. */
enum ax_status ax_exec_memory(const struct ax_graph *g,
			      const struct ax_exec_opts *o,
			      struct ax_exec_memory *m, struct ax_diag *d)
{
	struct ax_exec x;
	memset(&x, 0, sizeof x);
	memset(m, 0, sizeof *m);
	x.g = g;
	x.o = *o;
	int32_t nt = g->n_tensors, no = g->n_ops, np = g->n_params;
	if (o->batch < 1 || o->max_tgt < 1 || o->max_src < 0)
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "executor: batch and lengths must be positive");
	x.param_off = calloc((size_t)np + 1, sizeof *x.param_off);
	x.norm_off = calloc((size_t)no + 1, sizeof *x.norm_off);
	x.ring_off = calloc((size_t)no + 1, sizeof *x.ring_off);
	x.ld = calloc((size_t)nt + 1, sizeof *x.ld);
	x.is_cache = calloc((size_t)nt + 1, sizeof *x.is_cache);
	x.op_exact = calloc((size_t)no + 1, sizeof *x.op_exact);
	enum ax_status st = AX_ERR_NOMEM;
	int64_t n_norm = 0, n_ring = 0;
	if (!x.param_off || !x.norm_off || !x.ring_off || !x.ld || !x.is_cache ||
	    !x.op_exact) {
		ax_diag_set(d, st, "", 0, 0, "executor: out of memory");
		goto out;
	}
	if ((st = plan_precision(&x, o->precision, d)) != AX_OK)
		goto out;
	place_weights(&x);
	if ((st = place_op_state(&x, &n_norm, &n_ring, d)) != AX_OK ||
	    (st = plan_activations(&x, d)) != AX_OK)
		goto out;
	int64_t kv = 0;
	for (int32_t t = 0; t < nt; t++)
		if (x.is_cache[t] && g->tensors[t].parent < 0)
			kv += x.plan_tgt.rows[t] * g->tensors[t].width;
	m->weights_fp32 = (int64_t)sizeof(float) * x.n_weights;
	m->weights = m->weights_fp32 + x.n_qbytes +
		     (int64_t)sizeof(float) * x.n_qscales;
	m->kv_cache = (int64_t)sizeof(float) * kv;
	m->activations = (int64_t)sizeof(float) *
			 (x.plan_src.total + x.plan_tgt.total - kv);
	m->naive_activations = (int64_t)sizeof(float) *
			       (x.plan_src.naive_total + x.plan_tgt.naive_total - kv);
	m->conv_state = (int64_t)sizeof(float) * n_ring;
	m->scratch = (int64_t)sizeof(float) *
		     (x.scratch_size + n_norm + x.qtile_floats);
	m->total = m->weights + m->activations + m->kv_cache + m->conv_state +
		   m->scratch;
out:
	ax_exec_free(&x);
	return st;
}

/* --- reduced precision ------------------------------------------------ */

/* True if p is quantizable (size.h) and read only as the weight of a
 * LINEAR, the table of an EMBED, or a table or projection of an adaptive
 * input or softmax (W_cls too): the ops with reduced-precision kernels.
 * A tied table (one parameter read by an EMBED and the output LINEAR, or
 * by the adaptive input and softmax) qualifies once. */
static bool q_candidate(const struct ax_graph *g, int32_t p)
{
	if (!ax_size_param_quantizable(g, p))
		return false;
	bool read = false;
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		for (int k = 0; k < AX_OP_MAX_PARAMS; k++) {
			if (op->param[k] != p)
				continue;
			bool adaptive = op->kind == AX_OP_ADAPTIVE_INPUT ||
					op->kind == AX_OP_ADAPTIVE_SOFTMAX;
			if (!adaptive && (k != 0 || (op->kind != AX_OP_LINEAR &&
						     op->kind != AX_OP_EMBED)))
				return false;
			read = true;
		}
	}
	return read;
}

/* Forgets the reduced-precision layout and frees its copies. */
static void drop_precision(struct ax_exec *x)
{
	free(x->qweights);
	free(x->qscales);
	free(x->qoff);
	free(x->qscale_off);
	free(x->qtile);
	x->qweights = NULL;
	x->qscales = x->qtile = NULL;
	x->qoff = x->qscale_off = NULL;
	x->qtile_floats = x->n_qbytes = x->n_qscales = 0;
	x->precision = AX_PREC_FP32;
}

/* The layout of the quantized copies at prec (nothing allocated but the
 * offset tables): which parameters, their byte and scale offsets, and
 * the dequantization tile. fp32 lays out nothing. */
static enum ax_status plan_precision(struct ax_exec *x, enum ax_precision prec,
				     struct ax_diag *d)
{
	const struct ax_graph *g = x->g;
	if (prec < 0 || prec >= AX_PREC_COUNT)
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0, "unknown precision %d",
				   (int)prec);
	if (prec == AX_PREC_FP32)
		return AX_OK;
	x->qoff = calloc((size_t)g->n_params + 1, sizeof *x->qoff);
	x->qscale_off = calloc((size_t)g->n_params + 1, sizeof *x->qscale_off);
	if (!x->qoff || !x->qscale_off) {
		drop_precision(x);
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "executor: out of memory");
	}
	int64_t max_in = 1, per = prec == AX_PREC_INT8 ? 1 : 2;
	for (int32_t p = 0; p < g->n_params; p++) {
		const struct ax_param *pp = &g->params[p];
		x->qoff[p] = x->qscale_off[p] = -1;
		if (!q_candidate(g, p))
			continue;
		x->qoff[p] = x->n_qbytes;
		x->n_qbytes += (per * pp->rows * pp->cols + 63) / 64 * 64;
		x->qscale_off[p] = x->n_qscales;
		x->n_qscales += prec == AX_PREC_INT8 ? pp->rows : 0;
		max_in = pp->cols > max_in ? pp->cols : max_in;
	}
	x->qtile_floats = ax_kq_tile_rows(max_in) * max_in;
	/* also the scratch of the int8 x int8 kernel (smaller in practice) */
	int64_t dyn = (ax_kq_dyn_scratch(AX_KQ_TILED_MIN_N, max_in) + 3) / 4;
	x->qtile_floats = dyn > x->qtile_floats ? dyn : x->qtile_floats;
	x->precision = prec;
	return AX_OK;
}

/* The copies plan_precision laid out; true if none are needed. */
static bool alloc_copies(struct ax_exec *x)
{
	if (x->precision == AX_PREC_FP32)
		return true;
	size_t bytes = (size_t)(x->n_qbytes + 64) / 64 * 64;
	x->qweights = aligned_alloc(64, bytes);
	if (x->qweights)   /* the alignment padding too */
		memset(x->qweights, 0, bytes);
	x->qscales = ax_alloc_floats(x->n_qscales);
	x->qtile = ax_alloc_floats(x->qtile_floats);
	return x->qweights && x->qscales && x->qtile;
}

/* Rows [r0, r0 + n) of quantized parameter p from their fp32 values w
 * (n, cols): int8 per output channel (row), or bf16 rounded to nearest
 * even. */
static void quantize_rows(struct ax_exec *x, int32_t p, int64_t r0, int64_t n,
			  const float *w)
{
	int64_t c = x->g->params[p].cols;
	if (x->precision == AX_PREC_INT8)
		ax_q8_quantize((int8_t *)(x->qweights + x->qoff[p]) + r0 * c,
			       x->qscales + x->qscale_off[p] + r0, w, n, c);
	else
		ax_bf16_from_f32((uint16_t *)(x->qweights + x->qoff[p]) + r0 * c,
				 w, n * c);
}

/* Quantized parameter p's values as fp32 into w (rows, cols). */
static void dequantize(const struct ax_exec *x, int32_t p, float *w)
{
	int64_t r = x->g->params[p].rows, c = x->g->params[p].cols;
	const unsigned char *q = x->qweights + x->qoff[p];
	for (int64_t k = 0; k < r * c; k++)
		w[k] = x->precision == AX_PREC_INT8 ?
		       x->qscales[x->qscale_off[p] + k / c] * (float)((const int8_t *)q)[k] :
		       ax_bf16_to_f32(((const uint16_t *)q)[k]);
}

/* Moves the weights of x (laid out as `old`, whose arenas it takes over)
 * into x's new layout: fp32 to fp32 copied, fp32 to quantized quantized,
 * quantized to fp32 dequantized. */
static void move_weights(struct ax_exec *x, const struct ax_exec *old)
{
	const struct ax_graph *g = x->g;
	for (int32_t p = 0; p < g->n_params; p++) {
		int64_t r = g->params[p].rows, n = r * g->params[p].cols;
		bool was_q = ax_exec_param_quantized(old, p);
		if (ax_exec_param_quantized(x, p))
			quantize_rows(x, p, 0, r, old->weights + old->param_off[p]);
		else if (was_q)
			dequantize(old, p, x->weights + x->param_off[p]);
		else
			memcpy(x->weights + x->param_off[p],
			       old->weights + old->param_off[p], (size_t)n * sizeof(float));
	}
}

/* One step of ax_exec_set_precision: fp32 -> prec or prec -> fp32. On
 * failure x is left as it was. */
static enum ax_status relayout(struct ax_exec *x, enum ax_precision prec,
			       struct ax_diag *d)
{
	struct ax_exec old = *x;
	x->param_off = calloc((size_t)x->g->n_params + 1, sizeof *x->param_off);
	x->weights = NULL;
	x->qweights = NULL;
	x->qscales = x->qtile = NULL;
	x->qoff = x->qscale_off = NULL;
	x->qtile_floats = x->n_qbytes = x->n_qscales = 0;
	x->precision = AX_PREC_FP32;
	enum ax_status st = x->param_off ? plan_precision(x, prec, d) :
			    ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "executor: out of memory");
	if (st == AX_OK) {
		place_weights(x);
		x->weights = ax_alloc_floats(x->n_weights);
		if (!x->weights || !alloc_copies(x))
			st = ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0,
					 "executor: cannot allocate the %s weights",
					 ax_precision_names[prec]);
	}
	struct ax_exec *lost = &old;
	if (st == AX_OK)
		move_weights(x, &old);
	else
		lost = x;
	free(lost->weights);
	free(lost->param_off);
	drop_precision(lost);
	if (st != AX_OK)
		*x = old;
	return st;
}

enum ax_status ax_exec_set_precision(struct ax_exec *x, enum ax_precision prec,
				     struct ax_diag *d)
{
	if (prec < 0 || prec >= AX_PREC_COUNT)
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0, "unknown precision %d",
				   (int)prec);
	if (prec == x->precision)
		return AX_OK;
	enum ax_status st = AX_OK;
	if (x->precision != AX_PREC_FP32)
		st = relayout(x, AX_PREC_FP32, d);
	if (st == AX_OK && prec != AX_PREC_FP32)
		st = relayout(x, prec, d);
	if (st == AX_OK)
		x->o.precision = prec;
	return st;
}

bool ax_exec_param_quantized(const struct ax_exec *x, int32_t p)
{
	return x->qoff && x->qoff[p] >= 0;
}

/* --- weights ---------------------------------------------------------- */

static void normalise_kernels(struct ax_exec *x)
{
	for (int32_t i = 0; i < x->g->n_ops; i++) {
		const struct ax_op *op = &x->g->ops[i];
		if (op->kind == AX_OP_LIGHTCONV)
			ax_k_lightconv_weights(x->norm_kernels + x->norm_off[i],
					       param(x, op, 0), op->heads, op->kernel);
	}
}

/* Rows [r0, r0 + n) of parameter p's initial values into w (n, cols). */
static void init_rows(const struct ax_graph *g, int32_t p, uint64_t seed,
		      int64_t r0, int64_t n, float *w)
{
	const struct ax_param *pp = &g->params[p];
	int64_t c = pp->cols, k0 = r0 * c, len = n * c;
	bool gamma = pp->kind == AX_PARAM_NORM && pp->owner >= 0 &&
		     g->ops[pp->owner].param[0] == p;
	switch (pp->kind) {
	case AX_PARAM_EMBED_TABLE:
	case AX_PARAM_OUTPUT:
	case AX_PARAM_POSITION:
		ax_weights_init_uniform_at(w, len, k0, 1.0f / sqrtf((float)c),
					   seed, (uint64_t)p);
		/* fairseq zeroes the padding row of token tables */
		if (pp->kind == AX_PARAM_EMBED_TABLE && pp->rows > AX_TOKEN_PAD &&
		    r0 <= AX_TOKEN_PAD && AX_TOKEN_PAD < r0 + n)
			memset(w + (AX_TOKEN_PAD - r0) * c, 0, (size_t)c * sizeof *w);
		break;
	case AX_PARAM_NORM:
		ax_weights_init_uniform_at(w, len, k0, 0.1f, seed, (uint64_t)p);
		if (gamma)
			for (int64_t i = 0; i < len; i++)
				w[i] += 1.0f;
		break;
	case AX_PARAM_BIAS:
		ax_weights_init_uniform_at(w, len, k0, 0.1f, seed, (uint64_t)p);
		break;
	case AX_PARAM_WEIGHT:
	case AX_PARAM_KIND_COUNT:
		ax_weights_init_uniform_at(w, len, k0, 1.0f / sqrtf((float)c),
					   seed, (uint64_t)p);
		break;
	}
}

void ax_exec_init_weights(struct ax_exec *x, uint64_t seed)
{
	const struct ax_graph *g = x->g;
	for (int32_t p = 0; p < g->n_params; p++) {
		int64_t rows = g->params[p].rows, c = g->params[p].cols;
		if (!ax_exec_param_quantized(x, p)) {
			init_rows(g, p, seed, 0, rows, x->weights + x->param_off[p]);
			continue;
		}
		/* a block of whole rows at a time through the dequantization
		 * tile (at least one row of the widest quantized input) */
		int64_t per = x->qtile_floats / c;
		for (int64_t r0 = 0; r0 < rows; r0 += per) {
			int64_t n = rows - r0 < per ? rows - r0 : per;
			init_rows(g, p, seed, r0, n, x->qtile);
			quantize_rows(x, p, r0, n, x->qtile);
		}
	}
	normalise_kernels(x);
}

/* A quantized parameter loaded block by block (ax_weights_entry.sink). */
struct q_sink {
	struct ax_exec *x;
	int32_t p;
};

static void sink_rows(void *ctx, int64_t r0, int64_t n, const float *block)
{
	const struct q_sink *s = ctx;
	quantize_rows(s->x, s->p, r0, n, block);
}

/* The parameter table as weights-file entries; names live in `names`,
 * the sinks of quantized parameters in `sinks` (loading only). */
static struct ax_weights_entry *entries(const struct ax_exec *x, char (**names)[192],
					struct q_sink **sinks)
{
	const struct ax_graph *g = x->g;
	struct ax_weights_entry *e = calloc((size_t)g->n_params + 1, sizeof *e);
	*names = calloc((size_t)g->n_params + 1, sizeof **names);
	*sinks = calloc((size_t)g->n_params + 1, sizeof **sinks);
	if (!e || !*names || !*sinks) {
		free(e);
		free(*names);
		free(*sinks);
		return NULL;
	}
	for (int32_t p = 0; p < g->n_params; p++) {
		ax_graph_param_name(g, p, (*names)[p], sizeof (*names)[p]);
		bool q = ax_exec_param_quantized(x, p);
		(*sinks)[p] = (struct q_sink){ .x = (struct ax_exec *)x, .p = p };
		e[p] = (struct ax_weights_entry){
			.name = (*names)[p], .rows = g->params[p].rows,
			.cols = g->params[p].cols,
			.data = q ? NULL : x->weights + x->param_off[p],
			.sink = q ? sink_rows : NULL, .ctx = q ? &(*sinks)[p] : NULL,
		};
	}
	return e;
}

enum ax_status ax_exec_save_weights(const struct ax_exec *x, const char *path,
				    struct ax_diag *d)
{
	if (x->precision != AX_PREC_FP32)
		return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
				   "cannot save %s weights: a reduced-precision "
				   "executor keeps no fp32 copy of its quantized "
				   "weights; save from an fp32 one",
				   ax_precision_names[x->precision]);
	char (*names)[192];
	struct q_sink *sinks;
	struct ax_weights_entry *e = entries(x, &names, &sinks);
	if (!e)
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	enum ax_status st = ax_weights_save(path, e, x->g->n_params, d);
	free(e);
	free(names);
	free(sinks);
	return st;
}

enum ax_status ax_exec_load_weights(struct ax_exec *x, const char *path,
				    struct ax_diag *d)
{
	char (*names)[192];
	struct q_sink *sinks;
	struct ax_weights_entry *e = entries(x, &names, &sinks);
	if (!e)
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	enum ax_status st = ax_weights_load(path, e, x->g->n_params, d);
	free(e);
	free(names);
	free(sinks);
	if (st == AX_OK)
		normalise_kernels(x);
	return st;
}

/* --- one op ------------------------------------------------------------ */

/* What every op runner below reads: op i's output and first input with
 * their row strides, the output width and the rows of this call. */
struct op_io {
	int32_t i;
	const struct ax_op *op;
	float *out;
	int64_t ldo, w, n;
	const float *in;
	int64_t ldi;
};

static enum ax_status run_embed(struct ax_exec *x, const struct op_io *io,
				const int32_t *toks, struct ax_diag *d)
{
	const struct ax_graph *g = x->g;
	const struct ax_op *op = io->op;
	bool step = incremental(x) && g->tensors[op->out].len == AX_LEN_TGT;
	/* fairseq: positions from padding_idx + 1; step t is at t + 2 */
	int64_t per = step ? 1 : sentence_rows(x, g->tensors[op->out].len);
	int64_t pos0 = step ? x->step : 0;
	const struct ax_param *tab = &g->params[op->param[0]];
	int32_t p = op->param[0];
	bool q = ax_exec_param_quantized(x, p);
	const void *qt = q ? x->qweights + x->qoff[p] : NULL;
	for (int64_t r = 0; r < io->n; r += per) {
		float *y = io->out + r * io->ldo, sc = sqrtf((float)io->w);
		enum ax_sinusoid_kind kind = (enum ax_sinusoid_kind)op->pos;
		enum ax_status st =
			!q ? ax_k_embed(y, io->ldo, param(x, op, 0), tab->rows,
					toks + r, per, io->w, sc, pos0, kind) :
			x->precision == AX_PREC_INT8 ?
			ax_k_embed_q8(y, io->ldo, qt, x->qscales + x->qscale_off[p],
				      tab->rows, toks + r, per, io->w, sc, pos0, kind) :
			ax_k_embed_bf16(y, io->ldo, qt, tab->rows, toks + r, per,
					io->w, sc, pos0, kind);
		if (st != AX_OK)
			return ax_diag_set(d, st, "", 0, 0,
					   "token id out of range 0..%lld",
					   (long long)tab->rows - 1);
	}
	/* t2t's encoder adds one row of the target-space table; we use row
	 * 0, t2t's generic space id (docs/models.md §6.1) */
	const float *space = param(x, op, 1);
	for (int64_t r = 0; space && r < io->n; r++)
		ax_k_add(io->out + r * io->ldo, io->ldo, io->out + r * io->ldo,
			 io->ldo, space, io->w, 1, io->w, io->w);
	return AX_OK;
}

/* A linear on fp32 weights, or on the reduced-precision copy: the
 * streaming kernels for a few rows (a decoding step), dequantized tiles
 * through sgemm for many (kernels_q.h). */
static void run_linear(struct ax_exec *x, const struct op_io *io,
		       struct ax_k_work *work)
{
	const struct ax_op *op = io->op;
	int32_t p = op->param[0];
	int64_t i = x->g->tensors[op->in[0]].width;
	const float *b = param(x, op, 1);
	if (!ax_exec_param_quantized(x, p)) {
		ax_k_linear(io->out, io->ldo, io->in, io->ldi, param(x, op, 0), b,
			    io->n, i, io->w, work);
		return;
	}
	const void *qw = x->qweights + x->qoff[p];
	bool many = io->n >= AX_KQ_TILED_MIN_N;
	int64_t tile_rows = x->qtile_floats / i;
	if (x->precision == AX_PREC_INT8) {
		const float *s = x->qscales + x->qscale_off[p];
		if (many)
			ax_k_linear_q8_tiled(io->out, io->ldo, io->in, io->ldi, qw,
					     s, b, io->n, i, io->w, x->qtile,
					     tile_rows, work);
		else if (x->o.act == AX_ACT_INT8)   /* qtile as its scratch */
			ax_k_linear_q8_dyn(io->out, io->ldo, io->in, io->ldi, qw,
					   s, b, io->n, i, io->w, x->qtile, work);
		else
			ax_k_linear_q8(io->out, io->ldo, io->in, io->ldi, qw, s, b,
				       io->n, i, io->w, work);
	} else if (many) {
		ax_k_linear_bf16_tiled(io->out, io->ldo, io->in, io->ldi, qw, b,
				       io->n, i, io->w, x->qtile, tile_rows, work);
	} else {
		ax_k_linear_bf16(io->out, io->ldo, io->in, io->ldi, qw, b, io->n,
				 i, io->w, work);
	}
}

static void run_attention(struct ax_exec *x, const struct op_io *io,
			  struct ax_k_work *work)
{
	const struct ax_graph *g = x->g;
	const struct ax_op *op = io->op;
	float *k = tensor(x, op->in[1]), *v = tensor(x, op->in[2]);
	int64_t ldk = x->ld[op->in[1]], ldv = x->ld[op->in[2]];
	if (incremental(x) && op->causal) {
		/* one query per beam row against its own cache: rows 0..step
		 * of (max_tgt, w) at beam b. The cache pointer is at the
		 * current step; step back to row 0. */
		int64_t kw = g->tensors[root(g, op->in[1])].width;
		int64_t vw = g->tensors[root(g, op->in[2])].width;
		k -= x->step * kw;
		v -= x->step * vw;
		for (int64_t b = 0; b < io->n; b++)
			ax_k_attention(io->out + b * io->ldo, io->ldo,
				       io->in + b * io->ldi, io->ldi,
				       k + b * x->o.max_tgt * kw, kw,
				       v + b * x->o.max_tgt * vw, vw, 1,
				       x->step + 1, io->w, op->heads, true,
				       x->step, x->scratch, work);
	} else if (incremental(x)) {
		/* cross-attention: all beams against the shared memory */
		ax_k_attention(io->out, io->ldo, io->in, io->ldi, k, ldk, v, ldv,
			       io->n, x->S, io->w, op->heads, false, 0,
			       x->scratch, work);
	} else {
		/* one sentence at a time: its queries against its keys */
		int64_t nq = sentence_rows(x, g->tensors[op->out].len);
		int64_t nk = sentence_rows(x, g->tensors[op->in[1]].len);
		for (int64_t b = 0; b < x->o.batch; b++)
			ax_k_attention(io->out + b * nq * io->ldo, io->ldo,
				       io->in + b * nq * io->ldi, io->ldi,
				       k + b * nk * ldk, ldk, v + b * nk * ldv,
				       ldv, nq, nk, io->w, op->heads, op->causal,
				       0, x->scratch, work);
	}
}

/* A causal conv decoding: one step per beam row; the step kernel reads
 * the ring, then the current input is pushed (kernels.h protocol). */
static void run_conv_step(struct ax_exec *x, const struct op_io *io,
			  const float *wt, const float *kl, int64_t ldk,
			  struct ax_k_work *work)
{
	const struct ax_op *op = io->op;
	int64_t K = op->kernel, c_in = x->g->tensors[op->in[0]].width;
	int64_t R = K - 1, t = x->step;
	for (int64_t r = 0; r < io->n; r++) {
		float *ring = x->rings + x->ring_off[io->i] + r * R * c_in;
		float *y = io->out + r * io->ldo;
		const float *u = io->in + r * io->ldi;
		switch (op->kind) {
		case AX_OP_LIGHTCONV:
			ax_k_lightconv_step(y, u, ring, R, t, wt, io->w, op->heads,
					    K, work);
			break;
		case AX_OP_DYNCONV:
			ax_k_dynconv_step(y, u, ring, R, t, kl + r * ldk, io->w,
					  op->heads, K, x->scratch, work);
			break;
		case AX_OP_DWCONV:
			ax_k_dwconv_step(y, u, ring, R, t, wt, io->w, K, work);
			break;
		default:
			ax_k_conv1d_step(y, u, ring, R, t, wt, param(x, op, 1),
					 c_in, io->w, K, x->scratch, work);
			break;
		}
		ax_k_ring_push(ring, R, c_in, u, t);
	}
}

/* A conv over whole sentences, one at a time (padding at each end). */
static void run_conv_seq(struct ax_exec *x, const struct op_io *io,
			 const float *wt, const float *kl, int64_t ldk,
			 struct ax_k_work *work)
{
	const struct ax_op *op = io->op;
	int64_t K = op->kernel, c_in = x->g->tensors[op->in[0]].width;
	int64_t per = sentence_rows(x, x->g->tensors[op->out].len);
	for (int64_t r = 0; r < io->n; r += per) {
		float *y = io->out + r * io->ldo;
		const float *u = io->in + r * io->ldi;
		switch (op->kind) {
		case AX_OP_LIGHTCONV:
			ax_k_lightconv(y, io->ldo, u, io->ldi, wt, per, io->w,
				       op->heads, K, op->pad_left, work);
			break;
		case AX_OP_DYNCONV:
			ax_k_dynconv(y, io->ldo, u, io->ldi, kl + r * ldk, ldk, per,
				     io->w, op->heads, K, op->pad_left, x->scratch,
				     work);
			break;
		case AX_OP_DWCONV:
			ax_k_dwconv(y, io->ldo, u, io->ldi, wt, per, io->w, K,
				    op->pad_left, work);
			break;
		default:
			ax_k_conv1d(y, io->ldo, u, io->ldi, wt, param(x, op, 1), per,
				    c_in, io->w, K, op->pad_left, x->scratch, work);
			break;
		}
	}
}

static void run_conv(struct ax_exec *x, const struct op_io *io,
		     struct ax_k_work *work)
{
	const struct ax_op *op = io->op;
	const float *wt = op->kind == AX_OP_LIGHTCONV ?
			  x->norm_kernels + x->norm_off[io->i] : param(x, op, 0);
	const float *kl = op->kind == AX_OP_DYNCONV ? tensor(x, op->in[1]) : NULL;
	int64_t ldk = op->kind == AX_OP_DYNCONV ? x->ld[op->in[1]] : 0;
	if (x->ring_off[io->i] >= 0)
		run_conv_step(x, io, wt, kl, ldk, work);
	else
		run_conv_seq(x, io, wt, kl, ldk, work);
}

static enum ax_status run_adaptive_input(struct ax_exec *x, const struct op_io *io,
					 const int32_t *toks,
					 struct ax_k_work *work,
					 struct ax_diag *d)
{
	const struct ax_op *op = io->op;
	struct ax_k_band bands[AX_MAX_CUTOFFS + 1];
	int nb = adaptive_bands(x, op, bands);
	int64_t per = incremental(x) ? 1 : sentence_rows(x, x->g->tensors[op->out].len);
	int64_t pos0 = incremental(x) ? x->step : 0;
	for (int64_t r = 0; r < io->n; r += per) {
		enum ax_status st = ax_k_adaptive_input(
			io->out + r * io->ldo, io->ldo, toks + r, bands, nb, per,
			io->w, sqrtf((float)io->w), pos0,
			(enum ax_sinusoid_kind)op->pos, work);
		if (st != AX_OK)
			return ax_diag_set(d, st, "", 0, 0, "token id out of range");
	}
	return AX_OK;
}

static void run_adaptive_softmax(struct ax_exec *x, const struct op_io *io,
				 struct ax_k_work *work)
{
	const struct ax_op *op = io->op;
	struct ax_k_band bands[AX_MAX_CUTOFFS + 1];
	int nb = adaptive_bands(x, op, bands);
	ax_k_adaptive_log_softmax(io->out, io->ldo, io->in, io->ldi, bands, nb,
				  param(x, op, 1), io->n,
				  x->g->tensors[op->in[0]].width, x->scratch, work);
}

/* The `exact` MACs op i must account for in this call (cost.h): sequence
 * mode, batch sentences of (S, T); incremental, the source once or one
 * step t -> t+1 per beam row; plus, for adaptive input, the correction
 * from band 0 to the bands of this call's tokens. */
static int64_t call_exact(const struct ax_exec *x, int32_t i,
			  const int32_t *toks, int64_t n)
{
	const struct ax_graph *g = x->g;
	const struct ax_poly *p = &x->op_exact[i];
	int64_t v;
	if (!incremental(x))
		v = x->o.batch * ax_poly_eval(p, x->S, x->T);
	else if (g->tensors[g->ops[i].out].len == AX_LEN_SRC)
		v = ax_poly_eval(p, x->S, 0);
	else
		v = x->o.batch * (ax_poly_eval(p, x->S, x->step + 1) -
				  ax_poly_eval(p, x->S, x->step));
	return v + ax_cost_adaptive_input_op_delta(g, i, toks, n);
}

/* The kernels' count against the cost model's, on every call. */
static enum ax_status check_work(struct ax_exec *x, int32_t i,
				 const struct ax_k_work *work,
				 const int32_t *toks, int64_t n,
				 struct ax_diag *d)
{
	int64_t want = call_exact(x, i, toks, n);
	x->op_macs[i] += work->macs;
	x->op_skipped[i] += work->skipped;
	if (work->macs + work->skipped == want)
		return AX_OK;
	const struct ax_op *op = &x->g->ops[i];
	char name[160];
	ax_graph_name(op->scope, op->layer, op->block, op->role, name, sizeof name);
	return ax_diag_set(d, AX_ERR_INTERNAL, "", 0, 0,
			   "op %d (%s, %s): its kernels counted %lld MACs "
			   "(%lld performed + %lld skipped), but the cost "
			   "model's exact count is %lld",
			   i, name, ax_op_kind_names[op->kind],
			   (long long)(work->macs + work->skipped),
			   (long long)work->macs, (long long)work->skipped,
			   (long long)want);
}

/* Runs op i. toks: token ids of the op's stream for EMBED and
 * ADAPTIVE_INPUT (batch rows of n tokens in sequence mode; one per beam
 * row in incremental mode). */
static enum ax_status run_op(struct ax_exec *x, int32_t i, const int32_t *toks,
			     struct ax_diag *d)
{
	const struct ax_graph *g = x->g;
	const struct ax_op *op = &g->ops[i];
	const struct ax_tensor *ot = &g->tensors[op->out];
	const struct op_io io = {
		.i = i, .op = op, .out = tensor(x, op->out),
		.ldo = x->ld[op->out], .w = ot->width, .n = rows(x, ot->len),
		.in = op->in[0] >= 0 ? tensor(x, op->in[0]) : NULL,
		.ldi = op->in[0] >= 0 ? x->ld[op->in[0]] : 0,
	};
	struct ax_k_work work = { 0 };
	enum ax_status st = AX_OK;

	switch (op->kind) {
	case AX_OP_EMBED:
		st = run_embed(x, &io, toks, d);
		break;
	case AX_OP_LINEAR:
		run_linear(x, &io, &work);
		break;
	case AX_OP_LAYERNORM:
		ax_k_layernorm(io.out, io.ldo, io.in, io.ldi, param(x, op, 0),
			       param(x, op, 1), io.n, io.w, (float)op->eps);
		break;
	case AX_OP_ATTENTION:
		run_attention(x, &io, &work);
		break;
	case AX_OP_LIGHTCONV:
	case AX_OP_DYNCONV:
	case AX_OP_DWCONV:
	case AX_OP_CONV1D:
		run_conv(x, &io, &work);
		break;
	case AX_OP_ADAPTIVE_INPUT:
		st = run_adaptive_input(x, &io, toks, &work, d);
		break;
	case AX_OP_ADAPTIVE_SOFTMAX:
		run_adaptive_softmax(x, &io, &work);
		break;
	case AX_OP_GLU:
		ax_k_glu(io.out, io.ldo, io.in, io.ldi, io.n, io.w);
		break;
	case AX_OP_RELU:
		ax_k_relu(io.out, io.ldo, io.in, io.ldi, io.n, io.w);
		break;
	case AX_OP_SWISH:
		ax_k_swish(io.out, io.ldo, io.in, io.ldi, io.n, io.w);
		break;
	case AX_OP_ADD:
		ax_k_add(io.out, io.ldo, io.in, io.ldi, tensor(x, op->in[1]),
			 x->ld[op->in[1]], io.n, io.w, g->tensors[op->in[1]].width);
		break;
	case AX_OP_LOG_SOFTMAX:
		ax_k_log_softmax(io.out, io.ldo, io.in, io.ldi, io.n, io.w);
		break;
	case AX_OP_KIND_COUNT:
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "the executor does not run '%s' ops yet",
				   (unsigned)op->kind < AX_OP_KIND_COUNT ?
				   ax_op_kind_names[op->kind] : "?");
	}
	if (st != AX_OK)
		return st;
	return check_work(x, i, &work, toks, io.n, d);
}

/* Runs the ops whose output is on stream `len` (all ops if len < 0). */
static enum ax_status run_ops(struct ax_exec *x, int len, const int32_t *src,
			      const int32_t *tgt, struct ax_diag *d)
{
	const struct ax_graph *g = x->g;
	for (int32_t i = 0; i < g->n_ops; i++) {
		enum ax_len l = g->tensors[g->ops[i].out].len;
		if (len >= 0 && (int)l != len)
			continue;
		double t0 = x->timing ? now() : 0;
		enum ax_status st = run_op(x, i, l == AX_LEN_SRC ? src : tgt, d);
		if (st != AX_OK)
			return st;
		if (x->timing)
			x->op_seconds[i] += now() - t0;
	}
	return AX_OK;
}

enum ax_status ax_exec_forward(struct ax_exec *x, const int32_t *src,
			       int64_t S, const int32_t *tgt_in, int64_t T,
			       struct ax_diag *d)
{
	if (incremental(x))
		return ax_diag_set(d, AX_ERR_INTERNAL, "", 0, 0,
				   "ax_exec_forward needs a sequence-mode executor");
	bool lm = !x->g->has_encoder;
	if (T < 1 || T > x->o.max_tgt || (!lm && (S < 1 || S > x->o.max_src)))
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "lengths S=%lld T=%lld outside 1..%lld / 1..%lld",
				   (long long)S, (long long)T,
				   (long long)x->o.max_src, (long long)x->o.max_tgt);
	x->S = lm ? 0 : S;
	x->T = T;
	return run_ops(x, -1, src, tgt_in, d);
}

enum ax_status ax_exec_encode(struct ax_exec *x, const int32_t *src, int64_t S,
			      struct ax_diag *d)
{
	if (!incremental(x))
		return ax_diag_set(d, AX_ERR_INTERNAL, "", 0, 0,
				   "ax_exec_encode needs an incremental executor");
	bool lm = !x->g->has_encoder;
	if (!lm && (S < 1 || S > x->o.max_src))
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "source length %lld outside 1..%lld",
				   (long long)S, (long long)x->o.max_src);
	x->S = lm ? 0 : S;
	x->T = 1;
	x->step = 0;
	for (int32_t i = 0; i < x->g->n_ops; i++)
		if (x->ring_off[i] >= 0) {
			const struct ax_op *op = &x->g->ops[i];
			memset(x->rings + x->ring_off[i], 0,
			       (size_t)(x->o.batch * (op->kernel - 1) *
					x->g->tensors[op->in[0]].width) * sizeof(float));
		}
	return lm ? AX_OK : run_ops(x, AX_LEN_SRC, src, NULL, d);
}

enum ax_status ax_exec_step(struct ax_exec *x, const int32_t *tokens,
			    struct ax_diag *d)
{
	if (x->step >= x->o.max_tgt)
		return ax_diag_set(d, AX_ERR_LIMIT, "", 0, 0,
				   "decoding longer than the planned %lld steps",
				   (long long)x->o.max_tgt);
	enum ax_status st = run_ops(x, AX_LEN_TGT, NULL, tokens, d);
	if (st == AX_OK)
		x->step++;
	return st;
}

void ax_exec_reorder(struct ax_exec *x, const int32_t *from)
{
	const struct ax_graph *g = x->g;
	int64_t beam = x->o.batch;
	/* caches: (beam, max_tgt, w), rows 0..step-1 in use */
	for (int32_t t = 0; t < g->n_tensors; t++) {
		if (!x->is_cache[t] || g->tensors[t].parent >= 0)
			continue;
		int64_t w = g->tensors[t].width, block = x->o.max_tgt * w;
		float *base = x->arena_tgt + x->plan_tgt.offset[t];
		memcpy(x->scratch, base, (size_t)(beam * block) * sizeof(float));
		for (int64_t b = 0; b < beam; b++)
			memcpy(base + b * block, x->scratch + from[b] * block,
			       (size_t)(x->step * w) * sizeof(float));
	}
	for (int32_t i = 0; i < g->n_ops; i++) {
		if (x->ring_off[i] < 0)
			continue;
		const struct ax_op *op = &g->ops[i];
		int64_t block = (op->kernel - 1) * g->tensors[op->in[0]].width;
		float *base = x->rings + x->ring_off[i];
		memcpy(x->scratch, base, (size_t)(beam * block) * sizeof(float));
		for (int64_t b = 0; b < beam; b++)
			memcpy(base + b * block, x->scratch + from[b] * block,
			       (size_t)block * sizeof(float));
	}
}

const float *ax_exec_logprobs(const struct ax_exec *x)
{
	return tensor(x, x->g->logits);
}

int32_t ax_exec_start_token(const struct ax_exec *x)
{
	return x->g->start_token;
}

int64_t ax_exec_vocab(const struct ax_exec *x)
{
	return x->g->tensors[x->g->logits].width;
}

int64_t ax_exec_macs(const struct ax_exec *x, int64_t *by_kind)
{
	int64_t total = 0;
	if (by_kind)
		memset(by_kind, 0, AX_KIND_COUNT * sizeof *by_kind);
	for (int32_t i = 0; i < x->g->n_ops; i++) {
		int64_t m = x->op_macs[i] + x->op_skipped[i];
		total += m;
		if (by_kind)
			by_kind[x->g->ops[i].tag] += m;
	}
	return total;
}

int64_t ax_exec_skipped(const struct ax_exec *x)
{
	int64_t total = 0;
	for (int32_t i = 0; i < x->g->n_ops; i++)
		total += x->op_skipped[i];
	return total;
}

void ax_exec_reset_counters(struct ax_exec *x)
{
	size_t n = (size_t)x->g->n_ops;
	memset(x->op_macs, 0, n * sizeof *x->op_macs);
	memset(x->op_skipped, 0, n * sizeof *x->op_skipped);
	memset(x->op_seconds, 0, n * sizeof *x->op_seconds);
}
