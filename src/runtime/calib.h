/*
 * calib.h - `archex calibrate`: microbenchmarks of archex's own kernels
 * (the calls the executor makes, at decoding shapes) that fill a device
 * file's figures for the latency model of costmodel/device.h
 * (docs/latency.md).
 *
 * Measured, each as the fastest of five timed batches of calls:
 *   peak_flops       sgemm through ax_k_linear at (256, 1024) x (1024, 1024)
 *   bandwidth_curve  ax_k_linear with one row (sgemv) over weight sets of
 *                    256 KiB .. 256 MiB (quick: .. 32 MiB); bandwidth is
 *                    its last point
 *   overhead         the median time of a call at tiny shapes (8 wide)
 *   efficiency       per kind and precision, at typical decoding shapes
 *                    (d = 512, 32 rows or one row): the fraction of peak
 *                    (compute-bound by the roofline) or of the bandwidth
 *                    (memory-bound) that makes the model's call time
 *                    max(F / peak_c, B / bw_m) + overhead equal the
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
