/*
 * kernels_q.h - linear kernels on reduced-precision weights, for batch-1
 * and beam decoding, where every step streams all the weights once and
 * fewer bytes per weight is the only way below the bandwidth floor
 * (docs/precision.md); for batched scoring, the same weights dequantized
 * in blocks through sgemm; and the products the adaptive input and
 * softmax run on their quantized tables. Activations are fp32, except in
 * the int8 decoding kernels with dynamic 16-bit or int8 activations
 * (16-bit: what decoding at int8 runs by default, exec.h's ax_exec_act).
 *
 *   int8  per-output-channel symmetric: W[o][i] ~ scale[o] * q[o][i],
 *         q in [-127, 127], scale = max_i |W[o][i]| / 127; the kernel
 *         dequantizes in registers: out = scale[o] * (q[o] . x) + b[o].
 *   int8 with 16-bit activations (ax_k_linear_q8_a16): the same with
 *         xq in [-32767, 32767], xs = max |x| / 32767.
 *   int8 with dynamic int8 activations (ax_k_linear_q8_dyn): each input
 *         row quantized per call, symmetric, x ~ xs * xq with xq in
 *         [-127, 127] and xs = max |x| / 127; integer dot products,
 *         out = scale[o] * xs * (q[o] . xq) + b[o].
 *   bf16  the top 16 bits of an fp32 (round to nearest even): W widened
 *         to fp32 in registers, or multiplied as bf16 pairs with the
 *         AVX512-BF16 dot product (x rounded to bf16, fp32 accumulation)
 *         where the CPU has it.
 *
 * Each fast kernel has a `_ref` twin (plain loops, double or integer
 * accumulation) with the same signature. The fast kernels choose their
 * path at run time from cpu.h (AVX512-BF16, AVX512-VNNI, AVX-512,
 * portable C); on AVX-512 they are blocked GEMVs (8 output channels per
 * pass, kernels_q.c). ax_kq_set_path() forces a path, so tests cover
 * every path the machine can run. Built with OpenMP,
 * the fast kernels split their output channels over OpenBLAS's thread
 * count (openblas_set_num_threads, `run --threads`). Shapes as
 * ax_k_linear: in (N, i) with row stride ldi, W (o, i) row-major, out
 * (N, o) with row stride ldo, b (o) or NULL; N*i*o MACs are counted.
 */
#ifndef AX_KERNELS_Q_H
#define AX_KERNELS_Q_H

#include <stdbool.h>
#include <stdint.h>

#include "kernels.h"

enum ax_kq_path {
	AX_KQ_AUTO,       /* the best the CPU has */
	AX_KQ_PORTABLE,   /* plain C */
	AX_KQ_AVX512,     /* AVX-512F/BW/VL/DQ: widening in registers; the
			     int8 x int8 dot by vpmaddubsw + vpmaddwd */
	AX_KQ_AVX512VNNI, /* as AVX512, the int8 x int8 dot by vpdpbusd */
	AX_KQ_AVX512BF16, /* as AVX512VNNI, bf16 by vdpbf16ps */
	AX_KQ_PATH_COUNT
};
extern const char *const ax_kq_path_names[AX_KQ_PATH_COUNT];

/* Forces a path (AX_KQ_AUTO restores the choice); returns false, and
 * changes nothing, if the CPU cannot run it. */
bool ax_kq_set_path(enum ax_kq_path p);
/* The path the kernels take now. */
enum ax_kq_path ax_kq_path(void);

/* q (o, i) and scale (o) from W (o, i); an all-zero row gets scale 0. */
void ax_q8_quantize(int8_t *q, float *scale, const float *W, int64_t o,
		    int64_t i);
/* w (n) bf16 bits from x (n) fp32, round to nearest even (NaN kept). */
void ax_bf16_from_f32(uint16_t *w, const float *x, int64_t n);
float ax_bf16_to_f32(uint16_t w);

void ax_k_linear_q8_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
			const int8_t *q, const float *scale, const float *b,
			int64_t N, int64_t i, int64_t o, struct ax_k_work *work);
void ax_k_linear_q8(float *out, int64_t ldo, const float *in, int64_t ldi,
		    const int8_t *q, const float *scale, const float *b,
		    int64_t N, int64_t i, int64_t o, struct ax_k_work *work);

/* Bytes of scratch ax_k_linear_q8_dyn needs for N rows of width i. */
int64_t ax_kq_dyn_scratch(int64_t N, int64_t i);
/* As ax_k_linear_q8 with the activations quantized to int8 per row (see
 * above); scratch holds ax_kq_dyn_scratch(N, i) bytes. */
void ax_k_linear_q8_dyn_ref(float *out, int64_t ldo, const float *in,
			    int64_t ldi, const int8_t *q, const float *scale,
			    const float *b, int64_t N, int64_t i, int64_t o,
			    void *scratch, struct ax_k_work *work);
void ax_k_linear_q8_dyn(float *out, int64_t ldo, const float *in, int64_t ldi,
			const int8_t *q, const float *scale, const float *b,
			int64_t N, int64_t i, int64_t o, void *scratch,
			struct ax_k_work *work);

/* Bytes of scratch ax_k_linear_q8_a16 needs for N rows of width i. */
int64_t ax_kq_a16_scratch(int64_t N, int64_t i);
/* As ax_k_linear_q8 with the activations quantized to 16 bits per row:
 * x ~ xs * xq, xq in [-32767, 32767], xs = max |x| / 32767 (half a step
 * is 1/65534 of max |x|, far below the weights' rounding), integer dot
 * products: out = scale[o] * xs * (q[o] . xq) + b[o]. With VNNI, |xq| is
 * split in its low and high bytes (unsigned) and q takes xq's sign: two
 * vpdpbusd per 64 weights. scratch holds ax_kq_a16_scratch(N, i) bytes. */
void ax_k_linear_q8_a16_ref(float *out, int64_t ldo, const float *in,
			    int64_t ldi, const int8_t *q, const float *scale,
			    const float *b, int64_t N, int64_t i, int64_t o,
			    void *scratch, struct ax_k_work *work);
void ax_k_linear_q8_a16(float *out, int64_t ldo, const float *in, int64_t ldi,
			const int8_t *q, const float *scale, const float *b,
			int64_t N, int64_t i, int64_t o, void *scratch,
			struct ax_k_work *work);

void ax_k_linear_bf16_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
			  const uint16_t *W, const float *b, int64_t N,
			  int64_t i, int64_t o, struct ax_k_work *work);
void ax_k_linear_bf16(float *out, int64_t ldo, const float *in, int64_t ldi,
		      const uint16_t *W, const float *b, int64_t N, int64_t i,
		      int64_t o, struct ax_k_work *work);

/* Many rows (batched scoring): the kernels above read each weight row once
 * per call but do N dot products per row; from AX_KQ_TILED_MIN_N rows on,
 * the _tiled versions dequantize blocks of the weights into `tile` fp32
 * and multiply them with sgemm (RowMajor, NoTrans, Trans) onto the bias
 * rows (beta = 1), so large N runs at sgemm speed. A block is r output
 * channels by kc <= 1024 inputs (wide inputs are cut along k), r as large
 * as the tile allows, since sgemm re-packs the inputs once per block.
 * Same arguments and result as the kernels above (their _ref twins are
 * the references), up to fp32 rounding; tile holds tile_rows * i floats
 * (at least 16 rows). */
#define AX_KQ_TILED_MIN_N 16
/* Rows of width i in the 2 MiB tile (at least 16): it stays in a 4 MiB L2
 * beside sgemm's packed panels, and its blocks have >= 512 rows. */
int64_t ax_kq_tile_rows(int64_t i);
/* Dequantization of r rows of c weights, row stride ldq / ldw, into
 * fp32 t (r, c): int8 with one scale per row, or bf16 widened. AVX-512 or
 * portable, chosen at run time like the kernels above; the _ref twins
 * are plain loops and give the same values bit for bit. */
void ax_kq_dequant_q8_ref(float *t, const int8_t *q, int64_t ldq,
			  const float *scale, int64_t r, int64_t c);
void ax_kq_dequant_q8(float *t, const int8_t *q, int64_t ldq,
		      const float *scale, int64_t r, int64_t c);
void ax_kq_dequant_bf16_ref(float *t, const uint16_t *w, int64_t ldw,
			    int64_t r, int64_t c);
void ax_kq_dequant_bf16(float *t, const uint16_t *w, int64_t ldw, int64_t r,
			int64_t c);
void ax_k_linear_q8_tiled(float *out, int64_t ldo, const float *in,
			  int64_t ldi, const int8_t *q, const float *scale,
			  const float *b, int64_t N, int64_t i, int64_t o,
			  float *tile, int64_t tile_rows,
			  struct ax_k_work *work);
void ax_k_linear_bf16_tiled(float *out, int64_t ldo, const float *in,
			    int64_t ldi, const uint16_t *W, const float *b,
			    int64_t N, int64_t i, int64_t o, float *tile,
			    int64_t tile_rows, struct ax_k_work *work);

/* Products on a struct ax_k_qmat (kernels.h), for the adaptive input and
 * softmax (kernels.c), with the precision the matrix is held at:
 *   ax_kq_linear     out(N, o) = in(N, i) W(o, i)^T + b: the streaming
 *                    kernels below AX_KQ_TILED_MIN_N rows, else the tiled
 *                    ones (W->tile);
 *   ax_kq_linear_nn  out(N, c) = in(N, r) W(r, c), no bias: W dequantized
 *                    in blocks of rows (W->tile), sgemm accumulating;
 *   ax_kq_row        t(c) = row r of W (c wide) as fp32;
 *   ax_kq_at         one value as fp32 (the references' reads).
 * Work: N i o and N r c MACs. */
void ax_kq_linear(float *out, int64_t ldo, const float *in, int64_t ldi,
		  const struct ax_k_qmat *W, const float *b, int64_t N,
		  int64_t i, int64_t o, struct ax_k_work *work);
void ax_kq_linear_nn(float *out, int64_t ldo, const float *in, int64_t ldi,
		     const struct ax_k_qmat *W, int64_t N, int64_t r,
		     int64_t c, struct ax_k_work *work);
void ax_kq_row(float *t, const struct ax_k_qmat *W, int64_t r, int64_t c);
static inline float ax_kq_at(const struct ax_k_qmat *W, int64_t r,
			     int64_t c, int64_t cols)
{
	return W->q ? W->scale[r] * (float)W->q[r * cols + c] :
		      ax_bf16_to_f32(W->h[r * cols + c]);
}

/* ax_k_embed (kernels.h) on an int8 table q (V, d) with row scales
 * qscale (V), or a bf16 table W (V, d): row E[tok] is dequantized to fp32
 * (qscale[tok] * q[tok][c], or the bf16 widened), then
 * out[j] = scale * E[tok[j]] + PE(p_j) exactly as ax_k_embed. One path:
 * a gather has no arithmetic worth a fast twin. */
enum ax_status ax_k_embed_q8(float *out, int64_t ldo, const int8_t *q,
			     const float *qscale, int64_t V,
			     const int32_t *tok, int64_t N, int64_t d,
			     float scale, int64_t pos0,
			     enum ax_sinusoid_kind kind);
enum ax_status ax_k_embed_bf16(float *out, int64_t ldo, const uint16_t *W,
			       int64_t V, const int32_t *tok, int64_t N,
			       int64_t d, float scale, int64_t pos0,
			       enum ax_sinusoid_kind kind);

#endif
