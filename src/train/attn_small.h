/*
 * attn_small.h - the small products of per-sentence, per-head attention
 * (a sentence of tens of tokens, a head of 16-128 channels) as an
 * AVX-512 register-blocked kernel, so that training attention does not
 * pay OpenBLAS's per-call cost seven times per head and sentence.
 * grad.c chooses it at run time (ax_g_mm16_ok) and keeps OpenBLAS for
 * other CPUs and shapes; tests/test_grad.c checks both against
 * ax_g_attention_ref.
 */
#ifndef AX_ATTN_SMALL_H
#define AX_ATTN_SMALL_H

#include <stdbool.h>
#include <stdint.h>

/* True when the CPU runs AVX-512F and DQ (checked once). */
bool ax_g_mm16_ok(void);

/* C(M,N) = alpha A B, or C += alpha A B with acc. A(i,k) is
 * A[i*ars + k*acs] (any strides: a transposed A costs nothing), B(K,N)
 * row-major with leading dimension ldb, N a multiple of 16. The sum over
 * k runs in order, so a result is the same bits on every call. Only
 * when ax_g_mm16_ok(). */
void ax_g_mm16(float *C, int64_t ldc, const float *A, int64_t ars,
	       int64_t acs, const float *B, int64_t ldb, int64_t M,
	       int64_t K, int64_t N, float alpha, bool acc);

/* Rows of attention probabilities in place: row i of P (Nq, ldp),
 * ldp a multiple of 16, is the softmax of its keys [0, lim) (lim = Nk,
 * or i + 1 when causal) and zero on [lim, ldp). Exponentials as
 * kernels.h ax_k_exp_poly. */
void ax_g_softmax16(float *P, int64_t ldp, int64_t Nq, int64_t Nk,
		    bool causal);

/* B = P o (B - rowsum(B o P)) per row of (Nq, ldp): the softmax backward
 * (attention's dS from dP), entries past the keys 0 in P and B. */
void ax_g_probs_grad16(float *P, float *B, int64_t ldp, int64_t Nq);

/* x[j] *= ax_g_keep(key, base + j, p) for j in [0, n), n a multiple of
 * 16, p > 0: the same mask as grad.c's dropout rows, 16 lanes at a time. */
void ax_g_dropout16(float *x, int64_t n, uint64_t base, uint64_t key,
		    float p);

/* T(cols, ldt) = X(rows, cols)^T, columns [rows, ldt) of T zero. */
void ax_g_transpose_pad(float *T, int64_t ldt, const float *X, int64_t ldx,
			int64_t rows, int64_t cols);

#endif
