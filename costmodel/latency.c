/*
 * latency.c - the calibrated latency model of device files: a per-kind
 * roofline with a working-set bandwidth and a fixed cost per op call (the
 * kernel's and the executor's), summed over the op calls of one batch-1
 * sentence, plus the search's cost per decoding step (device.h).
 */
#include "device.h"

#include <assert.h>
#include <math.h>

const char *const ax_dev_kind_names[AX_DEV_KIND_COUNT] = {
	[AX_DEV_GEMM] = "gemm",
	[AX_DEV_GEMV] = "gemv",
	[AX_DEV_ATTENTION] = "attention",
	[AX_DEV_CONV] = "conv",
	[AX_DEV_NORM] = "norm",
	[AX_DEV_ELEMENTWISE] = "elementwise",
	[AX_DEV_EMBED] = "embed",
};
static_assert(sizeof ax_dev_kind_names / sizeof ax_dev_kind_names[0] ==
	      AX_DEV_KIND_COUNT, "one name per device kind");

enum ax_dev_kind ax_dev_kind_of(enum ax_op_kind kind, int64_t rows)
{
	switch (kind) {
	case AX_OP_LINEAR:
	case AX_OP_CONV1D:
	case AX_OP_ADAPTIVE_SOFTMAX:
		return rows <= 1 ? AX_DEV_GEMV : AX_DEV_GEMM;
	case AX_OP_ATTENTION:
		return AX_DEV_ATTENTION;
	case AX_OP_LIGHTCONV:
	case AX_OP_DYNCONV:
	case AX_OP_DWCONV:
		return AX_DEV_CONV;
	case AX_OP_LAYERNORM:
	case AX_OP_LOG_SOFTMAX:
		return AX_DEV_NORM;
	case AX_OP_EMBED:
	case AX_OP_ADAPTIVE_INPUT:
		return AX_DEV_EMBED;
	default:
		return AX_DEV_ELEMENTWISE;
	}
}

/* Log-linear in bytes between a curve's points, flat beyond its ends. */
static double curve_at(int n, const double *cb, const double *cw, double bytes)
{
	if (bytes <= cb[0])
		return cw[0];
	for (int i = 1; i < n; i++)
		if (bytes <= cb[i]) {
			double x0 = log(cb[i - 1]), x1 = log(cb[i]);
			double a = (log(bytes) - x0) / (x1 - x0);
			return cw[i - 1] + a * (cw[i] - cw[i - 1]);
		}
	return cw[n - 1];
}

double ax_device_bandwidth_at(const struct ax_device *dev, double bytes)
{
	if (dev->n_curve == 0)
		return dev->bandwidth;
	return curve_at(dev->n_curve, dev->curve_bytes, dev->curve_bw, bytes);
}

double ax_device_bandwidth_prec(const struct ax_device *dev,
				enum ax_precision p, double bytes)
{
	const struct ax_dev_curve *q = &dev->qcurve[p];
	if (p == AX_PREC_FP32 || q->n == 0)
		return ax_device_bandwidth_at(dev, bytes);
	return curve_at(q->n, q->bytes, q->bw, bytes);
}

/* The efficiency of kind k at prec: its own figure, else fp32's, else 1. */
static double eff_of(const struct ax_device *dev, enum ax_precision prec,
		     enum ax_dev_kind k, bool compute)
{
	const struct ax_dev_eff *e = &dev->eff[prec][k];
	double v = compute ? e->compute : e->memory;
	if (v <= 0) {
		e = &dev->eff[AX_PREC_FP32][k];
		v = compute ? e->compute : e->memory;
	}
	return v > 0 ? v : 1.0;
}

/* Bytes of one call's weights at prec, and what the fp32 count has. */
static void op_weight_bytes(const struct ax_graph *g, const struct ax_op *op,
			    enum ax_precision prec, double *at_prec,
			    double *fp32)
{
	static const double value_bytes[AX_PREC_COUNT] = { 4, 2, 1 };
	*at_prec = *fp32 = 0;
	for (int i = 0; i < AX_OP_MAX_PARAMS; i++) {
		int32_t p = op->param[i];
		if (p < 0)
			continue;
		const struct ax_param *pp = &g->params[p];
		double n = (double)pp->rows * (double)pp->cols;
		*fp32 += 4 * n;
		if (!ax_size_param_quantizable(g, p))
			*at_prec += 4 * n;
		else
			*at_prec += value_bytes[prec] * n +
				    (prec == AX_PREC_INT8 ? 4.0 * pp->rows : 0);
	}
}

/* True if op runs once per decoder step (over the target stream). */
static bool on_target(const struct ax_graph *g, const struct ax_op *op)
{
	return g->tensors[op->out].len == AX_LEN_TGT;
}

/* Working sets: the weight bytes at prec of each side. */
static void working_sets(const struct ax_graph *g, enum ax_precision prec,
			 double *enc, double *dec)
{
	*enc = *dec = 0;
	for (int32_t i = 0; i < g->n_ops; i++) {
		double w, w32;
		op_weight_bytes(g, &g->ops[i], prec, &w, &w32);
		if (g->ops[i].kind == AX_OP_EMBED ||
		    g->ops[i].kind == AX_OP_ADAPTIVE_INPUT)
			continue;   /* a gather touches a few rows */
		*(on_target(g, &g->ops[i]) ? dec : enc) += w;
	}
}

/* The fixed seconds of one call of op with nq rows (queries) and, for
 * attention, nk keys: the kernel's and the executor's per call, and an
 * attention's per head (its BLAS calls) and per score (the softmax). */
static double call_fixed(const struct ax_device *dev, const struct ax_op *op,
			 double nq, double nk)
{
	double fixed = dev->overhead_s + dev->exec_op_s;
	if (op->kind == AX_OP_ATTENTION) {
		double H = (double)op->heads;
		fixed += H * dev->attn_head_s + H * nq * nk * dev->attn_score_s;
	}
	return fixed;
}

/* Keys an attention op sees: S for the source's, else the target's n. */
static double keys_of(const struct ax_graph *g, const struct ax_op *op,
		      int64_t S, int64_t n)
{
	if (op->kind != AX_OP_ATTENTION)
		return 0;
	return (double)(g->tensors[op->in[1]].len == AX_LEN_SRC ? S : n);
}

/* One call: its flops, bytes and fixed seconds given. */
static void add_call(struct ax_latency *out, double *side_ms,
		     const struct ax_device *dev, enum ax_precision prec,
		     enum ax_dev_kind k, double flops, double bytes, double bw,
		     double fixed)
{
	double tc = flops / (dev->peak_flops * eff_of(dev, prec, k, true));
	double tm = bytes / (bw * eff_of(dev, prec, k, false));
	fixed += dev->eff[prec][k].call_s;
	double ms = 1e3 * ((tc > tm ? tc : tm) + fixed);
	*side_ms += ms;
	out->kind_ms[k] += ms;
	if (tc > tm)
		out->compute_ms += 1e3 * tc;
	else
		out->memory_ms += 1e3 * tm;
	out->overhead_ms += 1e3 * fixed;
	out->calls++;
}

/* Flops and bytes of one decoder step t1 = t0 + 1 (the polynomials'
 * difference), less wdelta bytes of weights the fp32 count has. */
static void step_cost(const struct ax_op_cost *c, int64_t S, int64_t t0,
		      int64_t t1, double wdelta, double *flops, double *bytes)
{
	*flops = 2.0 * (double)(ax_poly_eval(&c->macs, S, t1) -
				ax_poly_eval(&c->macs, S, t0)) +
		 (double)(ax_poly_eval(&c->other_flops, S, t1) -
			  ax_poly_eval(&c->other_flops, S, t0));
	*bytes = (double)(ax_poly_eval(&c->bytes, S, t1) -
			  ax_poly_eval(&c->bytes, S, t0)) - wdelta;
	if (*bytes < 0)
		*bytes = 0;
}

void ax_latency_predict(const struct ax_graph *g, enum ax_mode mode,
			int64_t S, int64_t T, enum ax_precision prec,
			const struct ax_device *dev, struct ax_latency *out)
{
	*out = (struct ax_latency){ 0 };
	working_sets(g, prec, &out->enc_weight_bytes, &out->dec_weight_bytes);
	/* [side][weights at prec]: the bandwidth of each side's working set */
	double bw_side[2][2] = {
		{ ax_device_bandwidth_at(dev, out->enc_weight_bytes),
		  ax_device_bandwidth_prec(dev, prec, out->enc_weight_bytes) },
		{ ax_device_bandwidth_at(dev, out->dec_weight_bytes),
		  ax_device_bandwidth_prec(dev, prec, out->dec_weight_bytes) },
	};
	struct ax_op_cost c;

	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		ax_cost_op(g, i, AX_CONVENTION_EXACT, mode, &c);
		double w, w32;
		op_weight_bytes(g, op, prec, &w, &w32);
		const struct ax_tensor *o = &g->tensors[op->out];
		bool embed = op->kind == AX_OP_EMBED ||
			     op->kind == AX_OP_ADAPTIVE_INPUT;
		/* what the fp32 count has per call beyond this call's bytes:
		 * an embedding gathers one row per token, not the table */
		double wdelta = embed ? w32 - 4.0 * (double)o->width :
				w32 - w;
		bool tgt = on_target(g, op);
		double *side = tgt ? &out->decoder_ms : &out->encoder_ms;
		double bw = bw_side[tgt][w < w32];
		double flops, bytes;
		if (tgt && mode == AX_MODE_INCREMENTAL) {
			enum ax_dev_kind k = ax_dev_kind_of(op->kind, 1);
			for (int64_t t = 1; t <= T; t++) {
				step_cost(&c, S, t - 1, t, wdelta, &flops,
					  &bytes);
				add_call(out, side, dev, prec, k, flops, bytes,
					 bw, call_fixed(dev, op, 1,
							keys_of(g, op, S, t)));
			}
			continue;
		}
		int64_t rows = tgt ? T : S;
		enum ax_dev_kind k = ax_dev_kind_of(op->kind, rows);
		flops = 2.0 * (double)ax_poly_eval(&c.macs, S, T) +
			(double)ax_poly_eval(&c.other_flops, S, T);
		bytes = (double)ax_poly_eval(&c.bytes, S, T) -
			(embed ? w32 - 4.0 * (double)o->width * (double)rows :
			 w32 - w);
		add_call(out, side, dev, prec, k, flops, bytes > 0 ? bytes : 0,
			 bw, call_fixed(dev, op, (double)rows,
					keys_of(g, op, S, T)));
	}
	if (mode == AX_MODE_INCREMENTAL && T > 0) {
		/* the search: a scan of the V log-probabilities, bookkeeping */
		double V = (double)g->tensors[g->logits].width;
		out->search_ms = 1e3 * (double)T *
				 (dev->step_s + V * dev->step_vocab_s);
		out->decoder_ms += out->search_ms;
		out->overhead_ms += out->search_ms;
		out->step_ms = out->decoder_ms / (double)T;
	}
	out->total_ms = out->encoder_ms + out->decoder_ms;
}
