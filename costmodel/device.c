/*
 * device.c - the built-in device table and the plain roofline sum
 * (device.h); device files add the per-kind model of latency.c.
 */
#include "device.h"

#include <string.h>

/* To add a row: a name for sweep files, where the figures come from,
 * achievable fp32 FLOP/s and memory bandwidth in bytes/s (the device
 * file fields stay zero: a plain roofline). */
const struct ax_device ax_devices[] = {
	{ .name = "zen5-1core",
	  .note = "docs/performance.md: sgemm ~190 GFLOP/s, ~32 GB/s, one thread",
	  .peak_flops = 190e9, .bandwidth = 32e9 },
	{ .name = "zen5-2core",
	  .note = "docs/performance.md: sgemm ~350 GFLOP/s, ~50 GB/s, two threads",
	  .peak_flops = 350e9, .bandwidth = 50e9 },
};
const int ax_n_devices = sizeof ax_devices / sizeof ax_devices[0];

const struct ax_device *ax_device_find(const char *name)
{
	for (int i = 0; i < ax_n_devices; i++)
		if (!strcmp(name, ax_devices[i].name))
			return &ax_devices[i];
	return NULL;
}

double ax_device_latency_ms(const struct ax_graph *g, enum ax_mode mode,
			    int64_t S, int64_t T, const struct ax_device *dev)
{
	if (dev->per_kind) {
		struct ax_latency lat;
		ax_latency_predict(g, mode, S, T, AX_PREC_FP32, dev, &lat);
		return lat.total_ms;
	}
	struct ax_op_cost c;
	double seconds = 0;
	for (int32_t i = 0; i < g->n_ops; i++) {
		ax_cost_op(g, i, AX_CONVENTION_EXACT, mode, &c);
		double flops = 2.0 * (double)ax_poly_eval(&c.macs, S, T) +
			       (double)ax_poly_eval(&c.other_flops, S, T);
		double bytes = (double)ax_poly_eval(&c.bytes, S, T);
		double tc = flops / dev->peak_flops, tm = bytes / dev->bandwidth;
		seconds += tc > tm ? tc : tm;
	}
	return seconds * 1e3;
}
