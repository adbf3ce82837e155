/*
 * weights.h - the archex weights file (docs/weights-format.md): a
 * checksummed table of named fp32 tensors, written atomically and loaded
 * into caller-allocated buffers after checking every name, shape, offset
 * and checksum; plus a deterministic, counter-based initialiser.
 *
 * Loading never trusts the file: every size is checked against the file
 * length before it is used, and every failure is an ax_status with a
 * diagnostic naming the path (AX_ERR_IO for the operating system's
 * errors, AX_ERR_FORMAT for a corrupt, foreign or mismatching file).
 */
#ifndef AX_WEIGHTS_H
#define AX_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define AX_WEIGHTS_MAGIC "AXWT"
#define AX_WEIGHTS_VERSION 1u
#define AX_WEIGHTS_ALIGN 64          /* tensor data offsets */
#define AX_WEIGHTS_MAX_NAME 65535    /* u16 name length */
#define AX_WEIGHTS_MAX_TENSORS (1u << 24)

/* One tensor: (rows, cols) row-major fp32, cols = 1 for vectors (stored
 * with ndim 1). `data` holds rows*cols floats: read by save, filled by
 * load. Or, for load only, `sink` instead of `data`: the loader reads the
 * tensor in blocks of whole rows (about AX_WEIGHTS_SINK_FLOATS floats, at
 * least one row) into a buffer of its own and hands each block to
 * sink(ctx, row0, rows, block), so the whole fp32 tensor is never held
 * (the executor quantizes it this way). The tensor's CRC is checked after
 * its last block. */
#define AX_WEIGHTS_SINK_FLOATS 65536
struct ax_weights_entry {
	const char *name;
	int64_t rows, cols;
	float *data;
	void (*sink)(void *ctx, int64_t row0, int64_t rows, const float *block);
	void *ctx;
};

/* Writes the n entries to `path` through a unique temporary beside it
 * (ax_atomic_open, atomic_io.h: `path.tmp.<pid>[.<k>]`): write, fflush,
 * fsync, rename, then fsync the directory, so `path` is either the old
 * file or a complete new one, also with concurrent writers. Names must be unique, non-empty and at
 * most AX_WEIGHTS_MAX_NAME bytes. */
enum ax_status ax_weights_save(const char *path,
			       const struct ax_weights_entry *e, int64_t n,
			       struct ax_diag *d);

/* Fills e[k].data for k < n from `path`. The file must hold exactly
 * these names (in any order) with exactly these shapes. Checks, in
 * order: magic, version, table bounds, header CRC, names and shapes
 * (the first mismatch is named with both shapes), data offsets within
 * the file, each tensor's CRC. On failure the data buffers may have been
 * partly written. */
enum ax_status ax_weights_load(const char *path,
			       const struct ax_weights_entry *e, int64_t n,
			       struct ax_diag *d);

/* x[k] = scale * (2u - 1), u in [0,1) from splitmix64 on (seed, stream,
 * k): a tensor's values depend only on the seed, its stream (the tensor
 * index) and k, not on the order tensors are initialised in. */
void ax_weights_init_uniform(float *x, int64_t n, float scale, uint64_t seed,
			     uint64_t stream);
/* The same values from counter k0 on: x[k] gets the value of counter
 * k0 + k, so a tensor can be initialised block by block. */
void ax_weights_init_uniform_at(float *x, int64_t n, int64_t k0, float scale,
				uint64_t seed, uint64_t stream);

/* CRC-32 (IEEE 802.3, zlib's crc32): pass 0 to start, then the running
 * value. */
uint32_t ax_crc32(uint32_t crc, const void *buf, size_t len);

#endif
