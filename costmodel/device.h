/*
 * device.h - device specs (peak FLOP/s, memory bandwidth) and a roofline
 * latency estimate of an op list, for sweeps that minimise latency.
 *
 * Each op costs max(FLOPs / peak, bytes / bandwidth), with FLOPs =
 * 2 x MACs + other FLOPs and bytes the fp32 bytes read and written, both
 * under the `exact` convention at lengths (S, T) and the given mode; the
 * model's estimate is the sum over ops. It is a lower bound of a real
 * run: it ignores kernel efficiency at small shapes, caches and threads.
 * The figures are the measurements of the project's machines.
 *
 * To add a device: a row in ax_devices[] (device.c).
 */
#ifndef AX_DEVICE_H
#define AX_DEVICE_H

#include <stdint.h>

#include "cost.h"

struct ax_device {
	const char *name;
	const char *note;
	double peak_flops;      /* FLOP/s reachable by sgemm */
	double bandwidth;       /* bytes/s from memory */
};

extern const struct ax_device ax_devices[];
extern const int ax_n_devices;

/* The device called name, or NULL. */
const struct ax_device *ax_device_find(const char *name);

/* Roofline latency in milliseconds of g at (S, T) on dev (see above). */
double ax_device_latency_ms(const struct ax_graph *g, enum ax_mode mode,
			    int64_t S, int64_t T, const struct ax_device *dev);

#endif
