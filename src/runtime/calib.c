/*
 * calib.c - the microbenchmarks of `archex calibrate` and the fit of a
 * device file's figures from them (calib.h).
 */
#include "calib.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "exec.h"
#include "kernels.h"
#include "kernels_q.h"

#define D 512             /* model width of the typical shapes */
#define HEADS 8
#define ROWS 32           /* rows of an encoder pass (S ~ 30) */
#define TAPS 7

/* One benchmarked call: a kernel, its buffers and its shape. */
enum job_kind {
	J_LINEAR, J_Q8, J_BF16, J_Q8_TILED, J_BF16_TILED, J_ATTN,
	J_LIGHT_STEP, J_LIGHT, J_DYN, J_LN, J_LOGSM, J_RELU, J_ADD, J_EMBED,
	J_SET,
};

#define MAX_SET 512       /* matrices in one bandwidth working set */
#define CURVE_SWEEPS 2    /* measurements of each bandwidth point a pass */
/* Working sets of a bandwidth curve grow by this factor (256 KiB .. 256
 * MiB: 11 points). The rate falls off a cliff where the shared last-level
 * cache stops holding the set (between 64 and 128 MiB on the Xeon of
 * devices/), which points 4x apart, read log-linearly between, missed by
 * up to 40%. */
#define CURVE_STEP 2
#define MAX_MEASURES 128  /* measurements in one pass */

struct bufs {
	float *w;          /* (big) fp32 weights */
	int8_t *q;         /* int8 weights, scales in qs */
	float *qs;
	uint16_t *h;       /* bf16 weights */
	float *x, *y, *z;  /* activations: (ROWS, 4 D) each at least */
	float *tile;       /* tiled-kernel scratch */
	int64_t tile_rows;
	float *scratch;    /* attention / dynconv scratch */
	void *qscratch;    /* the int8 kernel's activation scratch */
	int64_t w_floats;  /* of w */
	int64_t q_bytes;   /* of q and h; qs holds q_bytes / 64 scales */
	/* J_SET: one-row linears over consecutive (o, i) matrices of w, q
	 * or h (set_prec), a decoder step's mix of shapes */
	enum ax_precision set_prec;
	int n_set;
	int64_t set_i[MAX_SET], set_o[MAX_SET];
};

struct job {
	enum job_kind kind;
	int64_t n, i, o;   /* rows, in, out (linears); Nq, Nk, w (attention) */
	const float *w;    /* the weights of this call (the curve walks them) */
	int64_t h;         /* attention heads; 0 = HEADS */
};

/* The int8 linear decoding runs: with the activations exec.c gives int8
 * by default (16-bit), so calibrate times the kernel `run` uses. */
static void q8_linear(const struct bufs *b, const int8_t *q, const float *qs,
		      int64_t n, int64_t i, int64_t o)
{
	if (ax_exec_act(AX_PREC_INT8, AX_ACT_DEFAULT) == AX_ACT_INT16)
		ax_k_linear_q8_a16(b->y, o, b->x, i, q, qs, NULL, n, i, o,
				   b->qscratch, NULL);
	else
		ax_k_linear_q8(b->y, o, b->x, i, q, qs, NULL, n, i, o, NULL);
}

static void run_set(const struct bufs *b)
{
	int64_t off = 0, rows = 0;   /* weights and rows so far */
	for (int k = 0; k < b->n_set; k++) {
		int64_t i = b->set_i[k], o = b->set_o[k];
		if (b->set_prec == AX_PREC_INT8)
			q8_linear(b, b->q + off, b->qs + rows, 1, i, o);
		else if (b->set_prec == AX_PREC_BF16)
			ax_k_linear_bf16(b->y, o, b->x, i, b->h + off, NULL, 1, i, o, NULL);
		else
			ax_k_linear(b->y, o, b->x, i, b->w + off, NULL, 1, i, o, NULL);
		off += i * o;
		rows += o;
	}
}

static void run_job(const struct bufs *b, const struct job *j)
{
	int32_t tok = 5;
	switch (j->kind) {
	case J_LINEAR: ax_k_linear(b->y, j->o, b->x, j->i, j->w, NULL, j->n, j->i, j->o, NULL); break;
	case J_Q8: q8_linear(b, b->q, b->qs, j->n, j->i, j->o); break;
	case J_BF16: ax_k_linear_bf16(b->y, j->o, b->x, j->i, b->h, NULL, j->n, j->i, j->o, NULL); break;
	case J_Q8_TILED:
		ax_k_linear_q8_tiled(b->y, j->o, b->x, j->i, b->q, b->qs, NULL, j->n, j->i,
				     j->o, b->tile, b->tile_rows, NULL);
		break;
	case J_BF16_TILED:
		ax_k_linear_bf16_tiled(b->y, j->o, b->x, j->i, b->h, NULL, j->n, j->i, j->o,
				       b->tile, b->tile_rows, NULL);
		break;
	case J_ATTN:
		ax_k_attention(b->y, j->o, b->x, j->o, b->z, j->o, b->z, j->o, j->n, j->i,
			       j->o, j->h ? j->h : HEADS, false, 0, b->scratch, NULL);
		break;
	case J_LIGHT_STEP:
		ax_k_lightconv_step(b->y, b->x, b->z, TAPS, 9, b->w, D, HEADS, TAPS, NULL);
		break;
	case J_LIGHT: ax_k_lightconv(b->y, D, b->x, D, b->w, j->n, D, HEADS, TAPS, TAPS / 2, NULL); break;
	case J_DYN:
		ax_k_dynconv(b->y, D, b->x, D, b->z, HEADS * TAPS, j->n, D, HEADS, TAPS,
			     TAPS / 2, b->scratch, NULL);
		break;
	case J_LN: ax_k_layernorm(b->y, j->o, b->x, j->o, b->w, b->w, j->n, j->o, 1e-5f); break;
	case J_LOGSM: ax_k_log_softmax(b->y, j->o, b->x, j->o, j->n, j->o); break;
	case J_RELU: ax_k_relu(b->y, j->o, b->x, j->o, j->n, j->o); break;
	case J_ADD: ax_k_add(b->y, j->o, b->x, j->o, b->z, j->o, j->n, j->o, j->o); break;
	case J_EMBED:
		(void)ax_k_embed(b->y, j->o, b->w, 1000, &tok, 1, j->o, 22.6f, 3,
				 AX_SINUSOID_FAIRSEQ);
		break;
	case J_SET:
		run_set(b);
		break;
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Seconds per call: the fastest of 5 batches of about budget/5 each (the
 * least disturbed by other processes on a shared machine). */
static double time_job(const struct bufs *b, const struct job *j, double budget)
{
	run_job(b, j);   /* warm the caches and the thread pool */
	double t0 = now();
	run_job(b, j);
	double one = now() - t0;
	int64_t reps = one > 0 ? (int64_t)(budget / 5 / one) : 1000;
	if (reps < 1)
		reps = 1;
	if (reps > 1000000)
		reps = 1000000;
	double batch[5];
	for (int k = 0; k < 5; k++) {
		t0 = now();
		for (int64_t r = 0; r < reps; r++)
			run_job(b, j);
		batch[k] = (now() - t0) / (double)reps;
	}
	qsort(batch, 5, sizeof batch[0], cmp_double);
	return batch[0];
}

/* Log-sums of the fitted efficiencies, per precision, kind, bound. */
struct fit {
	double sum[AX_PREC_COUNT][AX_DEV_KIND_COUNT][2];
	int n[AX_PREC_COUNT][AX_DEV_KIND_COUNT][2];
};

/* A call of F flops and B bytes (weights wset of them, 0 for none) took
 * t: the efficiency that makes the model's bound equal t - overhead. */
/* The same for `calls` calls taking t in all (each with its fixed
 * costs), fitting the bound `bound` (0 compute, 1 memory) or, for -1,
 * the one the plain roofline says. */
static void fit_calls(struct fit *fit, const struct ax_device *dev,
		      enum ax_precision p, enum ax_dev_kind k, double F,
		      double B, double wset, double t, int calls, int bound)
{
	double tt = t - calls * (dev->overhead_s + dev->eff[p][k].call_s);
	if (tt <= 0.05 * t)
		return;   /* overhead-dominated: nothing to learn */
	double tc = F / dev->peak_flops;
	double tm = B / ax_device_bandwidth_prec(dev, p, wset > 0 ? wset : B);
	int m = bound >= 0 ? bound : tc >= tm ? 0 : 1;
	fit->sum[p][k][m] += log((m ? tm : tc) / tt);
	fit->n[p][k][m]++;
}

static void fit_call(struct fit *fit, const struct ax_device *dev,
		     enum ax_precision p, enum ax_dev_kind k, double F,
		     double B, double wset, double t)
{
	fit_calls(fit, dev, p, k, F, B, wset, t, 1, -1);
}

static void fit_finish(const struct fit *fit, struct ax_device *dev)
{
	for (int p = 0; p < AX_PREC_COUNT; p++)
		for (int k = 0; k < AX_DEV_KIND_COUNT; k++)
			for (int m = 0; m < 2; m++) {
				if (!fit->n[p][k][m])
					continue;
				double e = exp(fit->sum[p][k][m] / fit->n[p][k][m]);
				double hi = m ? 10.0 : 1.5;
				e = e < 1e-4 ? 1e-4 : e > hi ? hi : e;
				if (m)
					dev->eff[p][k].memory = e;
				else
					dev->eff[p][k].compute = e;
			}
}

static void fill(float *v, int64_t n)
{
	for (int64_t k = 0; k < n; k++)
		v[k] = 0.01f * (float)((k * 7919) % 201 - 100);
}

static void free_bufs(struct bufs *b)
{
	free(b->w);
	free(b->q);
	free(b->qs);
	free(b->h);
	free(b->x);
	free(b->y);
	free(b->z);
	free(b->tile);
	free(b->scratch);
	free(b->qscratch);
}

#define ACT_FLOATS ((int64_t)1 << 18)
#define QMAX ((int64_t)D * 8192)    /* the largest reduced-precision matrix */

/* w_floats of fp32 weights, q_bytes (>= QMAX) of int8 and of bf16 */
static bool alloc_bufs(struct bufs *b, int64_t w_floats, int64_t q_bytes)
{
	*b = (struct bufs){ 0 };
	b->tile_rows = ax_kq_tile_rows(4 * D);
	b->q_bytes = q_bytes;
	b->w_floats = w_floats;
	b->w = malloc((size_t)w_floats * sizeof *b->w);
	b->q = malloc((size_t)q_bytes);
	b->qs = malloc((size_t)(q_bytes / 64) * sizeof *b->qs);
	b->h = malloc((size_t)q_bytes);
	b->x = malloc(ACT_FLOATS * sizeof(float));
	b->y = malloc(ACT_FLOATS * sizeof(float));
	b->z = malloc(ACT_FLOATS * sizeof(float));
	b->tile = malloc((size_t)(b->tile_rows * 4 * D) * sizeof(float));
	b->scratch = malloc(65536 * sizeof(float));
	b->qscratch = malloc((size_t)ax_kq_a16_scratch(ROWS, QMAX / D));
	if (!b->w || !b->q || !b->qs || !b->h || !b->x || !b->y || !b->z ||
	    !b->tile || !b->scratch || !b->qscratch)
		return false;
	fill(b->w, w_floats);
	fill(b->x, ACT_FLOATS);
	fill(b->z, ACT_FLOATS);
	/* from w's values, chunk by chunk: int8 in rows of 64 (sets), then
	 * rows of D (single matrices); any finite scales time the same */
	for (int64_t off = 0; off < q_bytes; off += w_floats) {
		int64_t n = q_bytes - off < w_floats ? q_bytes - off : w_floats;
		ax_q8_quantize(b->q + off, b->qs + off / 64, b->w, n / 64, 64);
		if (off < q_bytes / 2)
			ax_bf16_from_f32(b->h + off, b->w,
					 q_bytes / 2 - off < n ? q_bytes / 2 - off : n);
	}
	ax_q8_quantize(b->q, b->qs, b->w, 8192, D);
	return true;
}

struct ctx {
	const struct ax_calib_opts *o;
	struct bufs b;
	struct ax_device *dev;
	struct fit fit;
	double budget;     /* seconds per measurement */
	int done, total;
	int passes;        /* of every measurement; the fastest counts */
	int index;         /* the measurement's place in this pass */
	double best[MAX_MEASURES];   /* its fastest time over the passes */
};

/* Times job j. Every pass of the calibration makes the same
 * measurements in the same order; each returns the fastest time of its
 * place over the passes so far, so a burst of other load (minutes long
 * on a shared machine) spoils one pass of a shape, not the figure. */
static double measure(struct ctx *c, const char *what, struct job j)
{
	if (c->o->progress)
		c->o->progress(c->o->progress_ctx, what, c->done, c->total);
	c->done++;
	if (!j.w)
		j.w = c->b.w;
	double t = time_job(&c->b, &j, c->budget);
	int k = c->index++;
	assert(k < MAX_MEASURES);
	if (c->best[k] == 0 || t < c->best[k])
		c->best[k] = t;
	return c->best[k];
}

/* The working set nearest below `set` bytes at precision p made of
 * decoder layers of width d (q, k, v, out (d, d), fc1 (4d, d), fc2
 * (d, 4d): 12 d^2 weights a layer), d the widest of 64..512 that fits
 * once (or `width` if not 0); into b's J_SET list. Returns its bytes. */
static double make_set(struct bufs *b, int64_t set, enum ax_precision p,
		       int64_t width)
{
	static const int64_t vb[AX_PREC_COUNT] = { 4, 2, 1 };
	int64_t d = 64, lb = 12 * vb[p];
	while (d < 512 && lb * (2 * d) * (2 * d) <= set)
		d *= 2;
	if (width)
		d = width;
	int64_t layers = set / (lb * d * d);
	if (layers < 1)
		layers = 1;
	if (layers > MAX_SET / 6)
		layers = MAX_SET / 6;
	int64_t cap = p == AX_PREC_FP32 ? 4 * b->w_floats : b->q_bytes;
	while (layers > 1 && layers * lb * d * d > cap)   /* the buffer's size */
		layers--;
	assert(lb * d * d <= cap);
	static const int in_mul[6] = { 1, 1, 1, 1, 1, 4 }, out_mul[6] = { 1, 1, 1, 1, 4, 1 };
	b->n_set = 0;
	b->set_prec = p;
	for (int64_t l = 0; l < layers; l++)
		for (int k = 0; k < 6; k++) {
			b->set_i[b->n_set] = in_mul[k] * d;
			b->set_o[b->n_set] = out_mul[k] * d;
			b->n_set++;
		}
	return (double)(lb * layers * d * d) + (p == AX_PREC_INT8 ? 4.0 * 9 * layers * d : 0);
}

/* The bandwidth curve at precision p: one-row linears through p's
 * kernel over working sets of 256 KiB .. max_set, each a decoder step's
 * mix of matrix shapes, in CURVE_SWEEPS sweeps, the best of each point
 * (a burst of other traffic spoils one sweep's point, not all); the
 * fixed costs per call are taken off. Into *n, cb[] and cw[]. */
static void measure_curve(struct ctx *c, enum ax_precision p, int64_t max_set,
			  int *n, double *cb, double *cw)
{
	const struct ax_device *dev = c->dev;
	char what[32];
	snprintf(what, sizeof what, "%s bandwidth", ax_precision_names[p]);
	for (int k = 0; k < AX_DEV_MAX_CURVE; k++)
		cw[k] = 0;
	for (int sweep = 0; sweep < CURVE_SWEEPS; sweep++) {
		int k = 0;
		for (int64_t set = (int64_t)256 << 10; set <= max_set;
		     set *= CURVE_STEP, k++) {
			double bytes = make_set(&c->b, set, p, 0);
			double t = measure(c, what, (struct job){ J_SET, 1, 0, 0, NULL, 0 });
			double tt = t - c->b.n_set * (dev->overhead_s +
						      dev->eff[p][AX_DEV_GEMV].call_s);
			double bw = bytes / (tt > 0 ? tt : t);
			cb[k] = bytes;
			if (bw > cw[k])
				cw[k] = bw;
		}
		*n = k;
	}
}

/* The fixed cost of a one-row linear at p whose weights stream from
 * beyond L2 (memory latency, prefetch ramp-up, the kernel's set-up),
 * beyond overhead_s: two sets of about 16 MiB, of width-512 and of
 * width-64 matrices (6 calls against hundreds), both t = calls * c +
 * bytes * tau; solved for c. Into eff[p][gemv].call_s. */
static void stream_call_cost(struct ctx *c, enum ax_precision p)
{
	double n[2], W[2], t[2];
	static const int64_t width[2] = { 512, 64 };
	for (int k = 0; k < 2; k++) {
		W[k] = make_set(&c->b, (int64_t)16 << 20, p, width[k]);
		n[k] = c->b.n_set;
		t[k] = measure(c, "streaming calls", (struct job){ J_SET, 1, 0, 0, NULL, 0 });
	}
	double call = (t[1] * W[0] - t[0] * W[1]) / (n[1] * W[0] - n[0] * W[1]) -
		      c->dev->overhead_s;
	c->dev->eff[p][AX_DEV_GEMV].call_s = call > 0 ? call : 0;
}

/* Peak, overhead and the bandwidth curve: one-row fp32 linears (sgemv)
 * streaming working sets of growing size, each a decoder step's mix of
 * matrix shapes, as the model reads it (bw at the weights a step
 * streams). */
static void measure_roof(struct ctx *c, int64_t max_set)
{
	struct ax_device *dev = c->dev;
	double t = measure(c, "sgemm peak", (struct job){ J_LINEAR, 256, 1024, 1024, NULL, 0 });
	dev->peak_flops = 2.0 * 256 * 1024 * 1024 / t;
	double tiny[4] = {
		measure(c, "overhead: linear", (struct job){ J_LINEAR, 1, 8, 8, NULL, 0 }),
		measure(c, "overhead: layernorm", (struct job){ J_LN, 1, 0, 8, NULL, 0 }),
		measure(c, "overhead: relu", (struct job){ J_RELU, 1, 0, 8, NULL, 0 }),
		measure(c, "overhead: add", (struct job){ J_ADD, 1, 0, 8, NULL, 0 }),
	};
	qsort(tiny, 4, sizeof tiny[0], cmp_double);
	dev->overhead_s = 0.5 * (tiny[1] + tiny[2]);
	stream_call_cost(c, AX_PREC_FP32);
	measure_curve(c, AX_PREC_FP32, max_set, &dev->n_curve, dev->curve_bytes,
		      dev->curve_bw);
	dev->bandwidth = dev->curve_bw[dev->n_curve - 1];
}

/* A linear of n rows, (i -> o), at precision p, timed and fitted to
 * `bound` (fit_calls). */
static void linear_case(struct ctx *c, enum ax_precision p, int64_t n,
			int64_t i, int64_t o, int bound)
{
	static const double vb[AX_PREC_COUNT] = { 4, 2, 1 };
	static const enum job_kind one[AX_PREC_COUNT] = { J_LINEAR, J_BF16, J_Q8 };
	static const enum job_kind many[AX_PREC_COUNT] = { J_LINEAR, J_BF16_TILED, J_Q8_TILED };
	char what[64];
	snprintf(what, sizeof what, "%s linear %lldx%lldx%lld", ax_precision_names[p],
		 (long long)n, (long long)i, (long long)o);
	enum job_kind jk = n >= AX_KQ_TILED_MIN_N ? many[p] : one[p];
	double t = measure(c, what, (struct job){ jk, n, i, o, NULL, 0 });
	double wbytes = vb[p] * (double)(i * o) + (p == AX_PREC_INT8 ? 4.0 * o : 0);
	double F = 2.0 * (double)(n * i * o);
	double B = wbytes + 4.0 * (double)(n * (i + o));
	fit_calls(&c->fit, c->dev, p, ax_dev_kind_of(AX_OP_LINEAR, n), F, B, wbytes,
		  t, 1, bound);
}

/* One-row linears at a reduced precision p: the fixed cost per call
 * beyond fp32's (at 64 x 64), p's own bandwidth curve (its kernels may
 * convert slower than memory streams, most in cache) and the memory
 * efficiency against it at the decoder's shapes (near 1: a check). */
static void gemv_reduced(struct ctx *c, enum ax_precision p, int64_t set)
{
	struct ax_device *dev = c->dev;
	stream_call_cost(c, p);
	struct ax_dev_curve *q = &dev->qcurve[p];
	measure_curve(c, p, set, &q->n, q->bytes, q->bw);
	linear_case(c, p, 1, D, D, 1);
	linear_case(c, p, 1, D, 4 * D, 1);
	linear_case(c, p, 1, 4 * D, D, 1);
}

/* An attention call's cost per head and per score: one query over 8 and
 * over 512 keys, 8 heads of one channel each, so the FLOPs are nothing
 * and the difference is the scores'. */
static void attention_fixed(struct ctx *c)
{
	struct ax_device *dev = c->dev;
	double t8 = measure(c, "attention heads", (struct job){ J_ATTN, 1, 8, 8, NULL, 8 });
	double t512 = measure(c, "attention scores", (struct job){ J_ATTN, 1, 512, 8, NULL, 8 });
	double sc = (t512 - t8) / (8.0 * (512 - 8));
	dev->attn_score_s = sc > 0 ? sc : 0;
	double h = (t8 - dev->overhead_s - 64 * dev->attn_score_s) / 8;
	dev->attn_head_s = h > 0 ? h : 0;
}

/* The kernels without weights to quantize: fp32 only. Counts as cost.c. */
static void other_cases(struct ctx *c)
{
	const double w = D, H = HEADS, K = TAPS, N = ROWS;
	struct ax_device *dev = c->dev;
	struct fit *f = &c->fit;
	enum ax_precision p = AX_PREC_FP32;
	attention_fixed(c);
	double h1 = H * dev->attn_head_s;   /* an attention call's fixed part */
	for (int64_t nk = 8; nk <= 32; nk *= 4) {   /* a decoder step's self-attention */
		double t = measure(c, "attention step", (struct job){ J_ATTN, 1, nk, D, NULL, 0 });
		fit_call(f, dev, p, AX_DEV_ATTENTION, 4 * w * nk + w + 5 * H * nk,
			 16 * w + 8 * H * nk, 0,
			 t - h1 - H * (double)nk * dev->attn_score_s);
	}
	double t = measure(c, "attention pass", (struct job){ J_ATTN, ROWS, ROWS, D, NULL, 0 });
	fit_call(f, dev, p, AX_DEV_ATTENTION, 4 * w * N * N + w * N + 5 * H * N * N,
		 16 * w * N + 8 * H * N * N, 0, t - h1 - H * N * N * dev->attn_score_s);
	t = measure(c, "lightconv step", (struct job){ J_LIGHT_STEP, 1, 0, D, NULL, 0 });
	fit_call(f, dev, p, AX_DEV_CONV, 2 * w * K, 8 * w + 4 * H * K, 0, t);
	t = measure(c, "lightconv pass", (struct job){ J_LIGHT, ROWS, 0, D, NULL, 0 });
	fit_call(f, dev, p, AX_DEV_CONV, 2 * N * w * K + 5 * H * K,
		 8 * N * w + 4 * H * K, 0, t);
	t = measure(c, "dynconv pass", (struct job){ J_DYN, ROWS, 0, D, NULL, 0 });
	fit_call(f, dev, p, AX_DEV_CONV, 2 * N * w * K + 5 * N * H * K,
		 4 * N * (2 * w + H * K), 0, t);
	for (int64_t n = 1; n <= ROWS; n *= ROWS) {
		double r = (double)n;
		t = measure(c, "layernorm", (struct job){ J_LN, n, 0, D, NULL, 0 });
		fit_call(f, dev, p, AX_DEV_NORM, 7 * r * w, 8 * r * w + 8 * w, 0, t);
		t = measure(c, "relu", (struct job){ J_RELU, n, 0, 4 * D, NULL, 0 });
		fit_call(f, dev, p, AX_DEV_ELEMENTWISE, 4 * r * w, 32 * r * w, 0, t);
		t = measure(c, "add", (struct job){ J_ADD, n, 0, D, NULL, 0 });
		fit_call(f, dev, p, AX_DEV_ELEMENTWISE, r * w, 12 * r * w, 0, t);
	}
	t = measure(c, "log-softmax", (struct job){ J_LOGSM, 1, 0, 16384, NULL, 0 });
	fit_call(f, dev, p, AX_DEV_NORM, 5 * 16384.0, 8 * 16384.0, 0, t);
	t = measure(c, "embedding", (struct job){ J_EMBED, 1, 0, D, NULL, 0 });
	fit_call(f, dev, p, AX_DEV_EMBED, 2 * w, 8 * w + 4, 0, t);
}

/* The probes' sentence: PROBE_S source rows (eos included), PROBE_L
 * forced tokens + eos = PROBE_L + 1 decoding steps. */
#define PROBE_S 16
#define PROBE_L 15

/* One probe (calib.h): its sentence decoded through ax_exec/ax_decode as
 * `archex run` does, the fastest of 5 batches; its predicted time with
 * the figures fitted so far (no executor or search costs yet) and its op
 * calls and steps. */
static enum ax_status run_probe(struct ctx *c, const struct ax_graph *g,
				double *resid, double *calls, double *steps,
				struct ax_diag *d)
{
	struct ax_exec x;
	struct ax_decoder dec = { 0 };
	struct ax_exec_opts eo = { .mode = AX_MODE_INCREMENTAL, .batch = 1,
				   .max_src = PROBE_S, .max_tgt = PROBE_L + 1 };
	struct ax_decode_opts dopt = { .beam = 1, .lenpen = 1, .max_len = PROBE_L,
				       .min_len = PROBE_L };
	enum ax_status st = ax_exec_init(&x, g, &eo, d);
	if (st == AX_OK)
		st = ax_decoder_init(&dec, &dopt, d);
	if (st != AX_OK) {
		ax_exec_free(&x);
		return st;
	}
	ax_exec_init_weights(&x, 1);
	int32_t src[PROBE_S];
	for (int k = 0; k < PROBE_S; k++)   /* ids 4..11, eos last */
		src[k] = k == PROBE_S - 1 ? AX_TOKEN_EOS : 4 + k % 8;
	int64_t S = g->has_encoder ? PROBE_S : 0;
	if (c->o->progress)
		c->o->progress(c->o->progress_ctx, "executor probe", c->done, c->total);
	c->done++;
	st = ax_decode(&dec, &x, src, S, d);   /* warm up */
	double best = INFINITY;
	int64_t reps = 1;
	for (int k = 0; k < 6 && st == AX_OK; k++) {
		double t0 = now();
		for (int64_t r = 0; r < reps && st == AX_OK; r++)
			st = ax_decode(&dec, &x, src, S, d);
		double per = (now() - t0) / (double)reps;
		if (k == 0)   /* the first batch sizes the other five */
			reps = per > 0 ? 1 + (int64_t)(c->budget / 5 / per) : 1000;
		else if (per < best)
			best = per;
	}
	*steps = (double)x.step;
	ax_decoder_free(&dec);
	ax_exec_free(&x);
	if (st != AX_OK)
		return st;
	struct ax_latency l;
	ax_latency_predict(g, AX_MODE_INCREMENTAL, S, (int64_t)*steps, AX_PREC_FP32,
			   c->dev, &l);
	*resid = best - 1e-3 * l.total_ms;
	*calls = (double)l.calls;
	return AX_OK;
}

/* The executor's cost per op call and the search's per step and per
 * vocabulary entry, from what the kernels' model leaves unexplained in
 * three probes: probes 0 and 1 differ in op calls only, 0 and 2 in the
 * target vocabulary only (calib.h). */
static enum ax_status measure_exec(struct ctx *c, struct ax_diag *d)
{
	double r[3], n[3], T[3], V[3];
	for (int pass = 0; pass < c->passes; pass++)   /* the fastest counts */
		for (int k = 0; k < 3; k++) {
			double rk;
			enum ax_status st = run_probe(c, c->o->probe[k], &rk, &n[k],
						      &T[k], d);
			if (st != AX_OK)
				return st;
			r[k] = pass == 0 || rk < r[k] ? rk : r[k];
			const struct ax_graph *g = c->o->probe[k];
			V[k] = (double)g->tensors[g->logits].width;
		}
	if (n[1] == n[0] || V[2] == V[0] || n[2] != n[0] || T[0] != T[1] ||
	    T[0] != T[2])
		return ax_diag_set(d, AX_ERR_INTERNAL, "", 0, 0,
				   "calibration probes of unusable shapes");
	struct ax_device *dev = c->dev;
	double v = (r[2] - r[0]) / (T[0] * (V[2] - V[0]));
	dev->step_vocab_s = v > 0 ? v : 0;
	double e = (r[1] - r[0]) / (n[1] - n[0]);
	dev->exec_op_s = e > 0 ? e : 0;
	double s = (r[0] - n[0] * dev->exec_op_s - T[0] * V[0] * dev->step_vocab_s) / T[0];
	dev->step_s = s > 0 ? s : 0;
	return AX_OK;
}

static void progress_count(struct ctx *c, int n_curve)
{
	int per_pass = 5 + 2 + CURVE_SWEEPS * n_curve + 16 + 7;
	for (int p = 1; p < AX_PREC_COUNT; p++)   /* gemv_reduced, gemm */
		per_pass += c->o->precision[p] ? 5 + CURVE_SWEEPS * n_curve + 3 : 0;   /* 2 + 3 linears */
	c->total = c->passes * per_pass + (c->o->probe[0] ? 3 * c->passes : 0);
}

/* Every kernel measurement once, and the figures fitted from the fastest
 * times so far (measure()): the last pass's figures stand. */
static void one_pass(struct ctx *c, int64_t max_set, int64_t q_set)
{
	struct ax_device *dev = c->dev;
	c->index = 0;
	c->fit = (struct fit){ 0 };
	memset(dev->eff, 0, sizeof dev->eff);
	measure_roof(c, max_set);
	for (int p = 0; p < AX_PREC_COUNT; p++) {
		if (!c->o->precision[p])
			continue;
		if (p == AX_PREC_FP32) {   /* sgemv: memory-bound */
			linear_case(c, p, 1, D, D, -1);      /* projections */
			linear_case(c, p, 1, D, 4 * D, -1);  /* ffn */
			linear_case(c, p, 1, 4 * D, D, -1);
			linear_case(c, p, 1, D, 8192, -1);   /* an output */
		} else {
			gemv_reduced(c, (enum ax_precision)p, q_set);
		}
		linear_case(c, p, ROWS, D, D, -1);       /* encoder pass */
		linear_case(c, p, ROWS, D, 4 * D, -1);
		linear_case(c, p, ROWS, 4 * D, D, -1);
	}
	other_cases(c);
	fit_finish(&c->fit, dev);
}

enum ax_status ax_calibrate(struct ax_device *dev,
			    const struct ax_calib_opts *o, struct ax_diag *d)
{
	struct ctx c = { .o = o, .dev = dev, .budget = o->quick ? 0.004 : 0.1,
			 .passes = o->quick ? 1 : 3 };
	int64_t max_set = o->quick ? (int64_t)4 << 20 : (int64_t)256 << 20;
	int64_t q_set = max_set;
	int n_curve = 0;
	for (int64_t s = (int64_t)256 << 10; s <= max_set; s *= CURVE_STEP)
		n_curve++;
	if (!alloc_bufs(&c.b, max_set > QMAX * 4 ? max_set / 4 : QMAX,
			q_set > QMAX * 4 ? q_set : QMAX * 4)) {
		free_bufs(&c.b);
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0,
				   "cannot allocate %lld MiB of benchmark buffers",
				   (long long)(max_set >> 20));
	}
	progress_count(&c, n_curve);
	for (int pass = 0; pass < c.passes; pass++)
		one_pass(&c, max_set, q_set);
	free_bufs(&c.b);
	enum ax_status st = o->probe[0] ? measure_exec(&c, d) : AX_OK;
	if (st != AX_OK)
		return st;
	dev->threads = o->threads;
	dev->calibrated = true;
	dev->per_kind = true;
	return AX_OK;
}
