/*
 * calib.h - `archex calibrate`: microbenchmarks of archex's own kernels
 * (the calls the executor makes, at decoding shapes) that fill a device
 * file's figures for the latency model of costmodel/device.h
 * (docs/latency.md).
 *
 * Every measurement runs in 3 passes (--quick: 1), each the fastest of
 * five timed batches of calls; the fastest pass counts, so a burst of
 * other load spoils one pass of a shape, not its figure:
 *   peak_flops       sgemm through ax_k_linear at (256, 1024) x (1024, 1024)
 *   overhead         the median time of a kernel call at tiny shapes (8 wide)
 *   bandwidth_curve  one-row linears (sgemv) over working sets of 256 KiB
 *                    .. 256 MiB (quick: .. 4 MiB), each a decoder step's
 *                    mix of shapes (q, k, v, out, fc1, fc2 at one width),
 *                    the best of 2 sweeps; bandwidth is its last point;
 *                    the same through the bf16 and int8 kernels gives
 *                    their curves (bandwidth_curves)
 *   call (gemv)      per precision, the fixed cost of a one-row linear
 *                    streaming its weights: two sets of ~16 MiB, of few
 *                    wide and of many narrow matrices
 *   attention        per head and per score: one query over 8 and 512
 *                    keys, 8 heads of one channel
 *   efficiency       per kind and precision, at typical decoding shapes
 *                    (d = 512, 32 rows or one row): the fraction of peak
 *                    (compute-bound by the roofline) or of the bandwidth
 *                    (memory-bound) that makes the model's call time
 *                    max(F / peak_c, B / bw_m) + fixed costs equal the
 *                    measured one; F and B counted as costmodel/cost.c
 *                    counts them.
 *   exec_op, step,   through ax_exec and ax_decode, as `archex run`
 *   step_vocab       decodes: three probe models of tiny ops (from the
 *                    caller, as this layer builds no models), decoded
 *                    greedily; the part of their measured time the
 *                    kernels' model above does not explain, split into a
 *                    cost per op call (probes 0 and 1 differ in op calls
 *                    only), per decoding step, and per step and target
 *                    vocabulary entry (probes 0 and 2 differ in the
 *                    vocabulary only).
 * The kernels are called through their public functions (kernels.h,
 * kernels_q.h), so the figures follow whatever the kernels are.
 */
#ifndef AX_CALIB_H
#define AX_CALIB_H

#include <stdbool.h>

#include "device.h"

struct ax_calib_opts {
	int threads;            /* OpenBLAS threads the caller has set */
	bool quick;             /* small sets and short timings: seconds */
	bool precision[AX_PREC_COUNT];   /* which precisions to measure */
	/* the executor probes (see above), or NULL: exec_op, step and
	 * step_vocab stay 0 */
	const struct ax_graph *probe[3];
	/* progress: called before each measurement (may be NULL) */
	void (*progress)(void *ctx, const char *what, int done, int total);
	void *progress_ctx;
};

/* Fills dev (name left to the caller) with this machine's figures;
 * AX_ERR_NOMEM if the buffers cannot be allocated. */
enum ax_status ax_calibrate(struct ax_device *dev,
			    const struct ax_calib_opts *o, struct ax_diag *d);

#endif
