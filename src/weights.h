/* TEMPORARY stub until the kernels branch's weights.h lands. */
#ifndef AX_WEIGHTS_H
#define AX_WEIGHTS_H
#include <stdint.h>
#include "diag.h"
struct ax_weights_entry { const char *name; int64_t rows, cols; float *data; };
enum ax_status ax_weights_save(const char *path, const struct ax_weights_entry *e,
			       int64_t n, struct ax_diag *d);
enum ax_status ax_weights_load(const char *path, const struct ax_weights_entry *e,
			       int64_t n, struct ax_diag *d);
void ax_weights_init_uniform(float *x, int64_t n, float scale, uint64_t seed,
			     uint64_t stream);
#endif
