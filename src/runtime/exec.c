/*
 * exec.c - the executor (see exec.h): one switch over op kinds, each case
 * resolving tensor pointers and row strides, calling a kernel
 * (src/kernels.h), and adding the MACs that kernel performed.
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
#include "util.h"
#include "weights.h"

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

/* Sentences an op's rows are split into, and rows per sentence. */
static int64_t per_sentence(const struct ax_exec *x, enum ax_len len)
{
	return len == AX_LEN_SRC ? x->S : x->T;
}

static const float *param(const struct ax_exec *x, const struct ax_op *op, int slot)
{
	return op->param[slot] >= 0 ? x->weights + x->param_off[op->param[slot]] : NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* --- set-up ------------------------------------------------------------ */

/* The vocabulary bands of an adaptive op (MODELS §2.8), from the op's
 * parameter slots: input op p[2b] = E_b, p[2b+1] = P_b (d, d_b); softmax
 * op p0 = E_0 (head), p1 = W_cls, and for b >= 1 p[2b] = E_b, p[2b+1] =
 * P_b, which is the input projection (d, d_b) when tied (owned by another
 * op), else an own (d_b, d) matrix. Pointers are NULL before the weight
 * arena exists (sizing only). */
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
			.table = x->weights ? x->weights + x->param_off[op->param[2 * b]] : NULL,
			.proj = x->weights && pj >= 0 ? x->weights + x->param_off[pj] : NULL,
			.proj_layout = op->kind == AX_OP_ADAPTIVE_INPUT || tied ?
				       AX_K_PROJ_D_DB : AX_K_PROJ_DB_D,
		};
		start += t->rows;
	}
	return nb;
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
	int64_t floats = sat_add(sat_add(x->n_weights, act), other);
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
			   gib(floats), gib(x->n_weights), gib(act), gib(other),
			   what, (double)limit / (1024.0 * 1024.0 * 1024.0));
}

enum ax_status ax_exec_init(struct ax_exec *x, const struct ax_graph *g,
			    const struct ax_exec_opts *o, struct ax_diag *d)
{
	memset(x, 0, sizeof *x);
	x->g = g;
	x->o = *o;
	int32_t nt = g->n_tensors, no = g->n_ops, np = g->n_params;
	bool inc = o->mode == AX_MODE_INCREMENTAL;
	if (o->batch < 1 || o->max_tgt < 1 || o->max_src < 0)
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "executor: batch and lengths must be positive");

	x->param_off = calloc((size_t)np + 1, sizeof *x->param_off);
	x->norm_off = calloc((size_t)no + 1, sizeof *x->norm_off);
	x->ring_off = calloc((size_t)no + 1, sizeof *x->ring_off);
	x->ld = calloc((size_t)nt + 1, sizeof *x->ld);
	x->is_cache = calloc((size_t)nt + 1, sizeof *x->is_cache);
	x->op_macs = calloc((size_t)no + 1, sizeof *x->op_macs);
	x->op_seconds = calloc((size_t)no + 1, sizeof *x->op_seconds);
	int64_t *rows_src = calloc((size_t)nt + 1, sizeof *rows_src);
	int64_t *rows_tgt = calloc((size_t)nt + 1, sizeof *rows_tgt);
	bool *keep = calloc((size_t)nt + 1, sizeof *keep);
	enum ax_status st = AX_ERR_NOMEM;
	if (!x->param_off || !x->norm_off || !x->ring_off || !x->ld ||
	    !x->is_cache || !x->op_macs || !x->op_seconds || !rows_src ||
	    !rows_tgt || !keep)
		goto fail_alloc;

	/* weights: one arena in parameter order */
	for (int32_t p = 0; p < np; p++) {
		x->param_off[p] = x->n_weights;
		x->n_weights += (g->params[p].rows * g->params[p].cols + 15) / 16 * 16;
	}
	/* normalised lightweight kernels, conv rings, scratch */
	int64_t n_norm = 0, n_ring = 0, scratch = 0;
	int64_t max_len = o->max_tgt > o->max_src ? o->max_tgt : o->max_src;
	int64_t max_rows = inc ? (o->batch > o->max_src ? o->batch : o->max_src) :
			   o->batch * max_len;
	for (int32_t i = 0; i < no; i++) {
		const struct ax_op *op = &g->ops[i];
		x->norm_off[i] = x->ring_off[i] = -1;
		int64_t w = g->tensors[op->out].width;
		int64_t need = 0;
		bool conv = op->kind == AX_OP_LIGHTCONV || op->kind == AX_OP_DYNCONV ||
			    op->kind == AX_OP_DWCONV || op->kind == AX_OP_CONV1D;
		if (op->kind == AX_OP_LIGHTCONV) {
			x->norm_off[i] = n_norm;
			n_norm += op->heads * op->kernel;
		}
		/* a causal conv decoding step by step keeps a ring of its
		 * last K-1 inputs per beam row */
		if (inc && conv && g->tensors[op->out].len == AX_LEN_TGT) {
			if (!op->causal && op->kernel > 1) {
				st = ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
						 "op %d: a non-causal conv cannot decode incrementally", i);
				goto fail;
			}
			x->ring_off[i] = n_ring;
			n_ring += o->batch * (op->kernel - 1) * g->tensors[op->in[0]].width;
		}
		switch (op->kind) {
		case AX_OP_ATTENTION:
			/* queries: a whole sentence (encoder, sequence mode) or
			 * the beam rows of a step; keys: up to max(S, T) */
			need = ax_k_attention_scratch(
				g->tensors[op->out].len == AX_LEN_SRC || !inc ? max_len : o->batch,
				max_len, op->heads);
			if (inc && op->causal) {
				x->is_cache[root(g, op->in[1])] = true;
				x->is_cache[root(g, op->in[2])] = true;
				/* ax_exec_reorder copies one cache through scratch */
				int64_t c = o->batch * o->max_tgt * w;
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
		scratch = need > scratch ? need : scratch;
	}
	x->scratch_size = scratch;

	/* activations: row capacities per stream; the caches hold max_tgt rows
	 * per beam; in incremental mode the source-stream tensors read by the
	 * decoder (cross-attention memory) stay alive across steps. */
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
		for (int32_t i = 0; i < no; i++) {
			const struct ax_op *op = &g->ops[i];
			if (g->tensors[op->out].len != AX_LEN_TGT)
				continue;
			for (int k = 0; k < AX_OP_MAX_IN; k++)
				if (op->in[k] >= 0 && g->tensors[op->in[k]].len == AX_LEN_SRC)
					keep[root(g, op->in[k])] = true;
		}
	st = ax_plan_build(&x->plan_src, g, rows_src, keep, d);
	if (st != AX_OK)
		goto fail;
	if (inc) {
		st = ax_plan_build(&x->plan_tgt, g, rows_tgt, keep, d);
		if (st != AX_OK)
			goto fail;
	}

	if ((st = check_memory(x, o, n_norm, n_ring, d)) != AX_OK)
		goto fail;
	st = AX_ERR_NOMEM;
	x->weights = calloc((size_t)x->n_weights + 1, sizeof *x->weights);
	x->norm_kernels = calloc((size_t)n_norm + 1, sizeof *x->norm_kernels);
	x->rings = calloc((size_t)n_ring + 1, sizeof *x->rings);
	x->scratch = calloc((size_t)x->scratch_size + 1, sizeof *x->scratch);
	x->arena_src = calloc((size_t)x->plan_src.total + 1, sizeof *x->arena_src);
	x->arena_tgt = calloc((size_t)x->plan_tgt.total + 1, sizeof *x->arena_tgt);
	if (!x->weights || !x->norm_kernels || !x->rings || !x->scratch ||
	    !x->arena_src || !x->arena_tgt)
		goto fail_alloc;
	free(rows_src);
	free(rows_tgt);
	free(keep);
	return AX_OK;

fail_alloc:
	ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0,
		    "executor: cannot allocate the weight and activation arenas");
fail:
	free(rows_src);
	free(rows_tgt);
	free(keep);
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
	free(x->op_macs);
	free(x->op_seconds);
	memset(x, 0, sizeof *x);
}

/* Softmax-normalise every lightweight kernel once per weight load. */
static void normalise_kernels(struct ax_exec *x)
{
	for (int32_t i = 0; i < x->g->n_ops; i++) {
		const struct ax_op *op = &x->g->ops[i];
		if (op->kind == AX_OP_LIGHTCONV)
			ax_k_lightconv_weights(x->norm_kernels + x->norm_off[i],
					       param(x, op, 0), op->heads, op->kernel);
	}
}

void ax_exec_init_weights(struct ax_exec *x, uint64_t seed)
{
	const struct ax_graph *g = x->g;
	for (int32_t p = 0; p < g->n_params; p++) {
		const struct ax_param *pp = &g->params[p];
		float *w = x->weights + x->param_off[p];
		int64_t n = pp->rows * pp->cols;
		bool gamma = pp->kind == AX_PARAM_NORM && pp->owner >= 0 &&
			     g->ops[pp->owner].param[0] == p;
		switch (pp->kind) {
		case AX_PARAM_EMBED_TABLE:
		case AX_PARAM_OUTPUT:
		case AX_PARAM_POSITION:
			ax_weights_init_uniform(w, n, 1.0f / sqrtf((float)pp->cols),
						seed, (uint64_t)p);
			/* fairseq zeroes the padding row of token tables */
			if (pp->kind == AX_PARAM_EMBED_TABLE && pp->rows > AX_TOKEN_PAD)
				memset(w + AX_TOKEN_PAD * pp->cols, 0,
				       (size_t)pp->cols * sizeof *w);
			break;
		case AX_PARAM_NORM:
			ax_weights_init_uniform(w, n, 0.1f, seed, (uint64_t)p);
			if (gamma)
				for (int64_t i = 0; i < n; i++)
					w[i] += 1.0f;
			break;
		case AX_PARAM_BIAS:
			ax_weights_init_uniform(w, n, 0.1f, seed, (uint64_t)p);
			break;
		case AX_PARAM_WEIGHT:
		case AX_PARAM_KIND_COUNT:
			ax_weights_init_uniform(w, n, 1.0f / sqrtf((float)pp->cols),
						seed, (uint64_t)p);
			break;
		}
	}
	normalise_kernels(x);
}

/* The parameter table as weights-file entries; names live in `names`. */
static struct ax_weights_entry *entries(const struct ax_exec *x, char (**names)[192])
{
	const struct ax_graph *g = x->g;
	struct ax_weights_entry *e = calloc((size_t)g->n_params + 1, sizeof *e);
	*names = calloc((size_t)g->n_params + 1, sizeof **names);
	if (!e || !*names) {
		free(e);
		free(*names);
		return NULL;
	}
	for (int32_t p = 0; p < g->n_params; p++) {
		ax_graph_param_name(g, p, (*names)[p], sizeof (*names)[p]);
		e[p] = (struct ax_weights_entry){
			.name = (*names)[p], .rows = g->params[p].rows,
			.cols = g->params[p].cols,
			.data = x->weights + x->param_off[p],
		};
	}
	return e;
}

enum ax_status ax_exec_save_weights(const struct ax_exec *x, const char *path,
				    struct ax_diag *d)
{
	char (*names)[192];
	struct ax_weights_entry *e = entries(x, &names);
	if (!e)
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	enum ax_status st = ax_weights_save(path, e, x->g->n_params, d);
	free(e);
	free(names);
	return st;
}

enum ax_status ax_exec_load_weights(struct ax_exec *x, const char *path,
				    struct ax_diag *d)
{
	char (*names)[192];
	struct ax_weights_entry *e = entries(x, &names);
	if (!e)
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	enum ax_status st = ax_weights_load(path, e, x->g->n_params, d);
	free(e);
	free(names);
	if (st == AX_OK)
		normalise_kernels(x);
	return st;
}

/* --- one op ------------------------------------------------------------ */

/* Runs op i. toks: token ids of the op's stream for EMBED (batch rows of
 * n tokens in sequence mode; one per beam row in incremental mode). */
static enum ax_status run_op(struct ax_exec *x, int32_t i, const int32_t *toks,
			     struct ax_diag *d)
{
	const struct ax_graph *g = x->g;
	const struct ax_op *op = &g->ops[i];
	const struct ax_tensor *ot = &g->tensors[op->out];
	float *out = tensor(x, op->out);
	int64_t ldo = x->ld[op->out];
	int64_t w = ot->width;
	int64_t n = rows(x, ot->len);
	bool inc = incremental(x);
	const float *in = op->in[0] >= 0 ? tensor(x, op->in[0]) : NULL;
	int64_t ldi = op->in[0] >= 0 ? x->ld[op->in[0]] : 0;
	int64_t macs = 0;

	switch (op->kind) {
	case AX_OP_EMBED: {
		/* fairseq: positions from padding_idx + 1; step t is at t + 2 */
		int64_t per = inc && ot->len == AX_LEN_TGT ? 1 : per_sentence(x, ot->len);
		int64_t pos0 = inc && ot->len == AX_LEN_TGT ? x->step : 0;
		const struct ax_param *tab = &g->params[op->param[0]];
		for (int64_t r = 0; r < n; r += per) {
			enum ax_status st = ax_k_embed(out + r * ldo, ldo, param(x, op, 0),
						       tab->rows, toks + r, per, w,
						       sqrtf((float)w), pos0,
						       (enum ax_sinusoid_kind)op->pos);
			if (st != AX_OK)
				return ax_diag_set(d, st, "", 0, 0,
						   "token id out of range 0..%lld",
						   (long long)tab->rows - 1);
		}
		/* t2t's encoder adds one row of the target-space table; we use
		 * row 0, t2t's generic space id (MODELS §6.1) */
		const float *space = param(x, op, 1);
		for (int64_t r = 0; space && r < n; r++)
			ax_k_add(out + r * ldo, ldo, out + r * ldo, ldo, space, w, 1, w, w);
		break;
	}
	case AX_OP_LINEAR: {
		int64_t k = g->tensors[op->in[0]].width;
		ax_k_linear(out, ldo, in, ldi, param(x, op, 0), param(x, op, 1), n, k, w);
		macs = n * k * w;
		break;
	}
	case AX_OP_LAYERNORM:
		ax_k_layernorm(out, ldo, in, ldi, param(x, op, 0), param(x, op, 1),
			       n, w, (float)op->eps);
		break;
	case AX_OP_ATTENTION: {
		const struct ax_tensor *kt = &g->tensors[op->in[1]];
		float *k = tensor(x, op->in[1]), *v = tensor(x, op->in[2]);
		int64_t ldk = x->ld[op->in[1]], ldv = x->ld[op->in[2]];
		if (inc && op->causal) {
			/* one query per beam row against its own cache: rows
			 * 0..step of (max_tgt, w) at beam b. The cache pointer
			 * is at the current step; step back to row 0. */
			int64_t nk = x->step + 1;
			k -= x->step * g->tensors[root(g, op->in[1])].width;
			v -= x->step * g->tensors[root(g, op->in[2])].width;
			int64_t kw = g->tensors[root(g, op->in[1])].width;
			int64_t vw = g->tensors[root(g, op->in[2])].width;
			for (int64_t b = 0; b < n; b++)
				ax_k_attention(out + b * ldo, ldo, tensor(x, op->in[0]) + b * x->ld[op->in[0]],
					       x->ld[op->in[0]], k + b * x->o.max_tgt * kw, kw,
					       v + b * x->o.max_tgt * vw, vw, 1, nk, w,
					       op->heads, true, x->step, x->scratch);
			macs = 2 * n * nk * w;
			(void)ldk, (void)ldv;
		} else if (inc) {
			/* cross-attention: all beams against the shared memory */
			int64_t nk = x->S;
			ax_k_attention(out, ldo, in, ldi, k, ldk, v, ldv, n, nk, w,
				       op->heads, false, 0, x->scratch);
			macs = 2 * n * nk * w;
		} else {
			int64_t nq = per_sentence(x, ot->len), nk = per_sentence(x, kt->len);
			for (int64_t b = 0; b < x->o.batch; b++)
				ax_k_attention(out + b * nq * ldo, ldo, in + b * nq * ldi, ldi,
					       k + b * nk * ldk, ldk, v + b * nk * ldv, ldv,
					       nq, nk, w, op->heads, op->causal, 0, x->scratch);
			macs = 2 * x->o.batch * nq * nk * w;
		}
		break;
	}
	case AX_OP_LIGHTCONV:
	case AX_OP_DYNCONV:
	case AX_OP_DWCONV:
	case AX_OP_CONV1D: {
		int64_t K = op->kernel, c_in = g->tensors[op->in[0]].width;
		const float *wt = op->kind == AX_OP_LIGHTCONV ?
				  x->norm_kernels + x->norm_off[i] : param(x, op, 0);
		const float *kl = op->kind == AX_OP_DYNCONV ? tensor(x, op->in[1]) : NULL;
		int64_t ldk = op->kind == AX_OP_DYNCONV ? x->ld[op->in[1]] : 0;
		if (x->ring_off[i] >= 0) {
			/* one step per beam row: the step kernel reads the ring,
			 * then the current input is pushed (kernels.h protocol) */
			int64_t R = K - 1, t = x->step;
			for (int64_t r = 0; r < n; r++) {
				float *ring = x->rings + x->ring_off[i] + r * R * c_in;
				float *y = out + r * ldo;
				const float *u = in + r * ldi;
				switch (op->kind) {
				case AX_OP_LIGHTCONV:
					ax_k_lightconv_step(y, u, ring, R, t, wt, w, op->heads, K);
					break;
				case AX_OP_DYNCONV:
					ax_k_dynconv_step(y, u, ring, R, t, kl + r * ldk, w,
							  op->heads, K, x->scratch);
					break;
				case AX_OP_DWCONV:
					ax_k_dwconv_step(y, u, ring, R, t, wt, w, K);
					break;
				default:
					ax_k_conv1d_step(y, u, ring, R, t, wt, param(x, op, 1),
							 c_in, w, K, x->scratch);
					break;
				}
				ax_k_ring_push(ring, R, c_in, u, t);
			}
		} else {
			int64_t per = per_sentence(x, ot->len);
			for (int64_t r = 0; r < n; r += per) {
				float *y = out + r * ldo;
				const float *u = in + r * ldi;
				switch (op->kind) {
				case AX_OP_LIGHTCONV:
					ax_k_lightconv(y, ldo, u, ldi, wt, per, w, op->heads,
						       K, op->pad_left);
					break;
				case AX_OP_DYNCONV:
					ax_k_dynconv(y, ldo, u, ldi, kl + r * ldk, ldk, per, w,
						     op->heads, K, op->pad_left, x->scratch);
					break;
				case AX_OP_DWCONV:
					ax_k_dwconv(y, ldo, u, ldi, wt, per, w, K, op->pad_left);
					break;
				default:
					ax_k_conv1d(y, ldo, u, ldi, wt, param(x, op, 1), per, c_in,
						    w, K, op->pad_left, x->scratch);
					break;
				}
			}
		}
		/* taps: c K per row (light/dyn/depthwise), K c_in o (standard) */
		macs = op->kind == AX_OP_CONV1D ? n * K * c_in * w : n * w * K;
		break;
	}
	case AX_OP_ADAPTIVE_INPUT: {
		struct ax_k_band bands[AX_MAX_CUTOFFS + 1];
		int nb = adaptive_bands(x, op, bands);
		int64_t per = inc ? 1 : per_sentence(x, ot->len);
		int64_t pos0 = inc ? x->step : 0;
		for (int64_t r = 0; r < n; r += per) {
			enum ax_status st = ax_k_adaptive_input(out + r * ldo, ldo, toks + r,
								bands, nb, per, w,
								sqrtf((float)w), pos0,
								(enum ax_sinusoid_kind)op->pos);
			if (st != AX_OK)
				return ax_diag_set(d, st, "", 0, 0, "token id out of range");
		}
		/* each token's own band: d_b x d */
		for (int64_t r = 0; r < n; r++)
			for (int b = nb - 1; b >= 0; b--)
				if (toks[r] >= bands[b].start) {
					macs += bands[b].dim * w;
					break;
				}
		break;
	}
	case AX_OP_ADAPTIVE_SOFTMAX: {
		struct ax_k_band bands[AX_MAX_CUTOFFS + 1];
		int nb = adaptive_bands(x, op, bands);
		int64_t dd = g->tensors[op->in[0]].width;
		ax_k_adaptive_log_softmax(out, ldo, in, ldi, bands, nb, param(x, op, 1),
					  n, dd, x->scratch);
		/* the full distribution: head d (size_0 + nb - 1), tails
		 * d d_b + d_b size_b */
		int64_t per_row = dd * (bands[0].size + nb - 1);
		for (int b = 1; b < nb; b++)
			per_row += dd * bands[b].dim + bands[b].dim * bands[b].size;
		macs = n * per_row;
		break;
	}
	case AX_OP_GLU:
		ax_k_glu(out, ldo, in, ldi, n, w);
		break;
	case AX_OP_RELU:
		ax_k_relu(out, ldo, in, ldi, n, w);
		break;
	case AX_OP_SWISH:
		ax_k_swish(out, ldo, in, ldi, n, w);
		break;
	case AX_OP_ADD: {
		int64_t w1 = g->tensors[op->in[1]].width;
		ax_k_add(out, ldo, in, ldi, tensor(x, op->in[1]), x->ld[op->in[1]], n, w, w1);
		break;
	}
	case AX_OP_LOG_SOFTMAX:
		ax_k_log_softmax(out, ldo, in, ldi, n, w);
		break;
	case AX_OP_KIND_COUNT:
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "the executor does not run '%s' ops yet",
				   (unsigned)op->kind < AX_OP_KIND_COUNT ?
				   ax_op_kind_names[op->kind] : "?");
	}
	x->op_macs[i] += macs;
	return AX_OK;
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
	bool lm = x->g->cfg && x->g->cfg->task == AX_TASK_LANGUAGE_MODEL;
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
	bool lm = x->g->cfg && x->g->cfg->task == AX_TASK_LANGUAGE_MODEL;
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
	const struct ax_graph *g = x->g;
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		if ((op->kind == AX_OP_EMBED || op->kind == AX_OP_ADAPTIVE_INPUT) &&
		    g->tensors[op->out].len == AX_LEN_TGT)
			return op->pos == AX_POS_T2T ? 0 : AX_TOKEN_EOS;
	}
	return AX_TOKEN_EOS;
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
		total += x->op_macs[i];
		if (by_kind)
			by_kind[x->g->ops[i].tag] += x->op_macs[i];
	}
	return total;
}

void ax_exec_reset_counters(struct ax_exec *x)
{
	memset(x->op_macs, 0, (size_t)x->g->n_ops * sizeof *x->op_macs);
	memset(x->op_seconds, 0, (size_t)x->g->n_ops * sizeof *x->op_seconds);
}
