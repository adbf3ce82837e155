/*
 * sweep_impl.h - private to the sweep module (sweep.c, sweep_load.c,
 * sweep_run.c): the random number helpers that genome expansion and
 * evolution share. A point's genes depend on these exact sequences, so
 * they live once, here. Not a public header: nothing outside
 * src/explore/sweep*.c includes it.
 */
#ifndef AX_SWEEP_IMPL_H
#define AX_SWEEP_IMPL_H

#include <stdint.h>

#include "sweep.h"

/* splitmix64: the next value of the state *x. */
static inline uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t below(uint64_t *rng, uint64_t n)
{
	return splitmix(rng) % n;   /* n <= 4096: bias below 2^-50 */
}

static inline double unit(uint64_t *rng)
{
	return (double)(splitmix(rng) >> 11) * 0x1.0p-53;
}

static inline void random_genome(const struct ax_sweep_family *fam, uint64_t *rng,
			  int32_t *genes)
{
	for (int g = 0; g < fam->n_genes; g++)
		genes[g] = (int32_t)below(rng, (uint64_t)fam->axes[fam->gene_axis[g]].n_values);
}

#endif
