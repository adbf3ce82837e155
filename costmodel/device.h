/*
 * device.h - device specs and latency estimates of an op list: the plain
 * roofline of the built-in rows, and the calibrated per-kind model of
 * device files (docs/latency.md).
 *
 * Built-in rows (ax_devices[], for sweeps that name a device): each op
 * costs max(FLOPs / peak, bytes / bandwidth), with FLOPs = 2 x MACs +
 * other FLOPs and bytes the fp32 bytes read and written, both under the
 * `exact` convention at lengths (S, T) and the given mode; the estimate
 * is the sum over ops. It is a lower bound of a real run: it ignores
 * kernel efficiency at small shapes, caches and threads.
 *
 * Device files (devices/NAME.yaml, written by `archex calibrate` or by
 * hand from published figures) add, per precision and per kernel kind
 * (enum ax_dev_kind), the fraction of peak FLOP/s and of the bandwidth the
 * kernel reaches, a bandwidth that depends on the weights' working set
 * (caches), and a fixed cost per op call. ax_latency_predict() then costs
 * every op call (see there). A device with per_kind false is a built-in
 * row, and ax_device_latency_ms() gives its plain roofline unchanged.
 *
 * To add a built-in device: a row in ax_devices[] (device.c). To add a
 * device file: `archex calibrate --out devices/NAME.yaml`, or copy
 * devices/cortex-a72.yaml and cite the figures in its sources.
 */
#ifndef AX_DEVICE_H
#define AX_DEVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cost.h"
#include "diag.h"
#include "size.h"

/* The kernel kinds a device file gives efficiencies for; an op maps to
 * one by ax_dev_kind_of(). */
enum ax_dev_kind {
	AX_DEV_GEMM,         /* linears and conv1d over many rows */
	AX_DEV_GEMV,         /* linears over one row: a decoding step */
	AX_DEV_ATTENTION,    /* the attention core (scores, softmax, P v) */
	AX_DEV_CONV,         /* light, dynamic and depthwise convs */
	AX_DEV_NORM,         /* layernorm, log-softmax */
	AX_DEV_ELEMENTWISE,  /* relu, swish, glu, add */
	AX_DEV_EMBED,        /* token embeddings, adaptive input */
	AX_DEV_KIND_COUNT
};
extern const char *const ax_dev_kind_names[AX_DEV_KIND_COUNT];

/* Fractions of peak_flops and of the bandwidth a kind reaches; 0 means
 * not given, taken as the fp32 figure, then as 1. */
struct ax_dev_eff {
	double compute;
	double memory;
	double call_s;          /* the kind's own fixed cost per call at this
				   precision, beyond overhead_s (0: none;
				   not taken from fp32) */
};

#define AX_DEV_MAX_CURVE 12     /* bandwidth points */
#define AX_DEV_MAX_SOURCES 8
#define AX_DEV_TEXT 256

struct ax_device {
	const char *name;
	const char *note;
	double peak_flops;      /* FLOP/s reachable by sgemm */
	double bandwidth;       /* bytes/s from memory (streaming reads) */
	/* Device files only; zero in the built-in rows. */
	bool per_kind;          /* use ax_latency_predict's model */
	bool calibrated;        /* measured here, not from published figures */
	int threads;
	double overhead_s;      /* fixed cost of one kernel call */
	double attn_head_s;     /* per head of an attention call: its
				   per-head BLAS calls */
	double attn_score_s;    /* per score (head x query x key): the
				   softmax's exp and passes */
	/* The executor's and the search's own costs (0 if not given): */
	double exec_op_s;       /* per op call, beyond the kernel's: the
				   executor's dispatch and MAC check */
	double step_s;          /* per decoding step: the search's
				   bookkeeping and cache reorder */
	double step_vocab_s;    /* per step and vocabulary entry: the
				   search's scan of the log-probabilities */
	struct ax_dev_eff eff[AX_PREC_COUNT][AX_DEV_KIND_COUNT];
	int n_curve;            /* bandwidth by working set, bytes ascending */
	double curve_bytes[AX_DEV_MAX_CURVE];
	double curve_bw[AX_DEV_MAX_CURVE];
	/* bf16, int8 (fp32's is the one above): the bytes of weights per
	 * second one-row linears at that precision stream, by working set;
	 * n = 0: not measured, the fp32 curve applies */
	struct ax_dev_curve {
		int n;
		double bytes[AX_DEV_MAX_CURVE], bw[AX_DEV_MAX_CURVE];
	} qcurve[AX_PREC_COUNT];
	int n_sources;
	char sources[AX_DEV_MAX_SOURCES][AX_DEV_TEXT];
	char name_buf[64], note_buf[AX_DEV_TEXT];
	char cpu[128], blas_core[64], date[32], version[32];
};

extern const struct ax_device ax_devices[];
extern const int ax_n_devices;

/* The device called name, or NULL. */
const struct ax_device *ax_device_find(const char *name);

/* Roofline latency in milliseconds of g at (S, T) on dev: the plain
 * roofline above for a built-in row, ax_latency_predict's total at fp32
 * for a device file. */
double ax_device_latency_ms(const struct ax_graph *g, enum ax_mode mode,
			    int64_t S, int64_t T, const struct ax_device *dev);

/* --- device files (device_file.c) ----------------------------------------- */

/* Reads a device file (YAML, schema in docs/latency.md) into dev, which
 * is self-contained afterwards. Errors carry file:line:col. */
enum ax_status ax_device_load(struct ax_device *dev, const char *path,
			      struct ax_diag *d);
/* The same from text in memory; file names it in messages. */
enum ax_status ax_device_parse(struct ax_device *dev, const char *text,
			       size_t len, const char *file,
			       struct ax_diag *d);
/* A built-in name (ax_device_find) or a path to a device file (anything
 * with a '/' or ending in .yaml). */
enum ax_status ax_device_resolve(struct ax_device *dev, const char *spec,
				 struct ax_diag *d);
/* Writes dev as a device file that ax_device_load reads back. */
void ax_device_write(FILE *f, const struct ax_device *dev);

/* --- the calibrated latency model (latency.c) ------------------------------ */

/* The kind an op's kernel is, when it processes `rows` rows per call. */
enum ax_dev_kind ax_dev_kind_of(enum ax_op_kind kind, int64_t rows);

/* Bandwidth in bytes/s at a working set of `bytes`: log-linear between
 * the curve's points, flat beyond its ends; dev->bandwidth without one. */
double ax_device_bandwidth_at(const struct ax_device *dev, double bytes);
/* The same on precision p's curve when the device has one (qcurve). */
double ax_device_bandwidth_prec(const struct ax_device *dev,
				enum ax_precision p, double bytes);

struct ax_latency {
	double encoder_ms;      /* ops over the source, run once */
	double decoder_ms;      /* ops over the target: T steps */
	double total_ms;
	double compute_ms, memory_ms, overhead_ms;  /* the bound that won,
						       and the fixed costs:
						       they sum to total_ms */
	double search_ms;       /* of overhead_ms, the per-step costs of
				   the search (step_s, step_vocab_s) */
	double step_ms;         /* decoder_ms / T: the mean decoding step */
	int64_t calls;          /* op calls */
	double kind_ms[AX_DEV_KIND_COUNT];          /* the total by kind */
	double enc_weight_bytes, dec_weight_bytes;  /* working sets */
};

/* Predicted latency of one sentence at batch 1 (incremental mode: the
 * encoder once over S rows, then T decoder steps of one row; sequence
 * mode: every op once). Every op call costs
 *     max(F / (peak * eff_c[kind]), B / (bw(W) * eff_m[kind]))
 *         + overhead + exec_op + call[prec][kind]
 *         (+ H * attn_head + H * queries * keys * attn_score, attention)
 * and every decoding step adds step + V * step_vocab (V the target
 * vocabulary the search scans). F is the call's FLOPs (2 MACs + other),
 * B its bytes (weights at prec's bytes, activations fp32; an embedding
 * reads its rows, not its table), W the weight bytes of its side
 * (encoder, or decoder plus output), which a pass or a step streams, and
 * bw prec's curve for an op with weights held at prec, else the fp32
 * curve. prec applies to the weights size.h calls quantizable. */
void ax_latency_predict(const struct ax_graph *g, enum ax_mode mode,
			int64_t S, int64_t T, enum ax_precision prec,
			const struct ax_device *dev, struct ax_latency *out);

#endif
