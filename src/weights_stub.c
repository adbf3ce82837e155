/* TEMPORARY stub until the kernels branch's weights.c lands. */
#include "weights.h"
#include <stdio.h>
#include <string.h>
enum ax_status ax_weights_save(const char *path, const struct ax_weights_entry *e,
			       int64_t n, struct ax_diag *d)
{
	FILE *f = fopen(path, "wb");
	if (!f) return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open");
	for (int64_t i = 0; i < n; i++)
		fwrite(e[i].data, sizeof(float), (size_t)(e[i].rows * e[i].cols), f);
	fclose(f);
	return AX_OK;
}
enum ax_status ax_weights_load(const char *path, const struct ax_weights_entry *e,
			       int64_t n, struct ax_diag *d)
{
	FILE *f = fopen(path, "rb");
	if (!f) return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open");
	for (int64_t i = 0; i < n; i++)
		if (fread(e[i].data, sizeof(float), (size_t)(e[i].rows * e[i].cols), f) !=
		    (size_t)(e[i].rows * e[i].cols)) { fclose(f); return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0, "short"); }
	fclose(f);
	return AX_OK;
}
void ax_weights_init_uniform(float *x, int64_t n, float scale, uint64_t seed, uint64_t stream)
{
	for (int64_t i = 0; i < n; i++) {
		uint64_t z = seed * 0x9E3779B97F4A7C15ull + stream * 0xBF58476D1CE4E5B9ull + (uint64_t)i * 0x94D049BB133111EBull;
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
		z ^= z >> 31;
		x[i] = scale * (2.0f * (float)((z >> 40) * (1.0 / 16777216.0)) - 1.0f);
	}
}
