/*
 * test_family_ops.c - hand counts for the op kinds the LightConv, ET and
 * adaptive-softmax families add (dwconv, conv1d, sepconv, swish, glu,
 * adaptive input and adaptive softmax), each on a tiny shape with the
 * numbers written out. Polynomials are compared by coefficient, in the
 * half-units cost.h stores (h = 2 x coefficient).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "builder.h"
#include "cost.h"

struct fx {
	struct ax_graph g;
	struct ax_builder b;
};

static void fx_open(struct fx *f)
{
	ax_graph_init(&f->g);
	f->b = (struct ax_builder){ .g = &f->g, .status = AX_OK,
				    .scope = AX_SCOPE_ENCODER, .layer = 0 };
}

static void fx_close(struct fx *f)
{
	assert_int_equal(f->b.status, AX_OK);
	ax_graph_free(&f->g);
}

static struct ax_op_cost cost_of(const struct fx *f, int32_t op,
				 enum ax_convention conv)
{
	struct ax_op_cost c;
	ax_cost_op(&f->g, op, conv, AX_MODE_SEQUENCE, &c);
	return c;
}

/* p == coef x rows of stream `len` and nothing else */
static void assert_per_row(const struct ax_poly *p, enum ax_len len, int64_t coef)
{
	enum ax_mono m = len == AX_LEN_SRC ? AX_MONO_S : AX_MONO_T;
	for (int i = 0; i < AX_MONO_COUNT; i++)
		assert_int_equal(p->h[i], i == (int)m ? 2 * coef : 0);
}

/* depthwise, c = 6, K = 3, causal: W (3, 6) = 18 params, 6 x 3 = 18 MACs
 * per row in both conventions, no other flops (no bias). */
static void test_dwconv(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	int32_t x = ax_b_tensor(&f.b, AX_LEN_SRC, 6, "x");
	int32_t y = ax_b_dwconv(&f.b, x, 3, 2, "dw");
	assert_int_equal(f.g.tensors[y].width, 6);
	const struct ax_op *op = &f.g.ops[0];
	assert_int_equal(op->kind, AX_OP_DWCONV);
	assert_int_equal(op->pad_left, 2);
	assert_true(op->causal);
	for (int conv = 0; conv < AX_CONVENTION_COUNT; conv++) {
		struct ax_op_cost c = cost_of(&f, 0, conv);
		assert_int_equal(c.params, 18);
		assert_per_row(&c.macs, AX_LEN_SRC, 18);
		assert_per_row(&c.other_flops, AX_LEN_SRC, 0);
	}
	fx_close(&f);
}

/* standard conv, 4 -> 2 channels, K = 3, 'SAME': W (2, 12) + b (2) = 26
 * params; 3 x 4 x 2 = 24 MACs and 2 bias adds per row; paper the same
 * MACs (biases are never MACs). */
static void test_conv1d(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	int32_t x = ax_b_tensor(&f.b, AX_LEN_SRC, 4, "x");
	int32_t y = ax_b_conv1d(&f.b, x, 2, 3, 1, "conv");
	assert_int_equal(f.g.tensors[y].width, 2);
	assert_false(f.g.ops[0].causal);
	struct ax_op_cost c = cost_of(&f, 0, AX_CONVENTION_EXACT);
	assert_int_equal(c.params, 26);
	assert_per_row(&c.macs, AX_LEN_SRC, 24);
	assert_per_row(&c.other_flops, AX_LEN_SRC, 2);
	c = cost_of(&f, 0, AX_CONVENTION_PAPER);
	assert_int_equal(c.params, 26);
	assert_per_row(&c.macs, AX_LEN_SRC, 24);
	fx_close(&f);
}

/* SepConv(k3, 4 -> 6) on the target stream: depthwise 3 x 4 = 12 params,
 * 12 MACs; pointwise 4 x 6 + 6 = 30 params, 24 MACs (conv_proj) and 6
 * bias adds. Total 42 = k Cin + Cin Cout + Cout, MACs 36 = k Cin + Cin Cout. */
static void test_sepconv(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	int32_t x = ax_b_tensor(&f.b, AX_LEN_TGT, 4, "x");
	int32_t y = ax_b_sepconv(&f.b, x, 6, 3, 2, "sep");
	assert_int_equal(f.g.tensors[y].width, 6);
	assert_int_equal(f.g.n_ops, 2);
	struct ax_op_cost dw = cost_of(&f, 0, AX_CONVENTION_EXACT);
	struct ax_op_cost pw = cost_of(&f, 1, AX_CONVENTION_EXACT);
	assert_int_equal(f.g.ops[0].tag, AX_KIND_CONV);
	assert_int_equal(f.g.ops[1].tag, AX_KIND_CONV_PROJ);
	assert_int_equal(dw.params, 12);
	assert_per_row(&dw.macs, AX_LEN_TGT, 12);
	assert_int_equal(pw.params, 30);
	assert_per_row(&pw.macs, AX_LEN_TGT, 24);
	assert_per_row(&pw.other_flops, AX_LEN_TGT, 6);
	fx_close(&f);
}

/* swish on width 5: sigmoid 3 + mul 1 = 20 flops per row, no MACs;
 * paper: torchprofile counts the mul as numel, 5 MACs per row.
 * GLU 8 -> 4: 4 x 4 = 16 flops per row, no MACs in either convention. */
static void test_swish_glu(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	int32_t x = ax_b_tensor(&f.b, AX_LEN_TGT, 5, "x");
	ax_b_unary(&f.b, AX_OP_SWISH, x, "swish");
	int32_t z = ax_b_tensor(&f.b, AX_LEN_TGT, 8, "z");
	int32_t g = ax_b_unary(&f.b, AX_OP_GLU, z, "glu");
	assert_int_equal(f.g.tensors[g].width, 4);

	struct ax_op_cost c = cost_of(&f, 0, AX_CONVENTION_EXACT);
	assert_int_equal(c.params, 0);
	assert_per_row(&c.macs, AX_LEN_TGT, 0);
	assert_per_row(&c.other_flops, AX_LEN_TGT, 20);
	c = cost_of(&f, 0, AX_CONVENTION_PAPER);
	assert_per_row(&c.macs, AX_LEN_TGT, 5);

	c = cost_of(&f, 1, AX_CONVENTION_EXACT);
	assert_per_row(&c.macs, AX_LEN_TGT, 0);
	assert_per_row(&c.other_flops, AX_LEN_TGT, 16);
	c = cost_of(&f, 1, AX_CONVENTION_PAPER);
	assert_per_row(&c.macs, AX_LEN_TGT, 0);
	fx_close(&f);
}

/* zero-padded add: x (N, 8) + y (N, 3) adds 3 per row. */
static void test_padded_add(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	int32_t x = ax_b_tensor(&f.b, AX_LEN_SRC, 8, "x");
	int32_t y = ax_b_tensor(&f.b, AX_LEN_SRC, 3, "y");
	int32_t s = ax_b_add(&f.b, x, y, "sum");
	assert_int_equal(f.g.tensors[s].width, 8);
	struct ax_op_cost c = cost_of(&f, 0, AX_CONVENTION_EXACT);
	assert_per_row(&c.other_flops, AX_LEN_SRC, 3);
	fx_close(&f);
}

/* The tiny vocabulary of the adaptive tests: d = 8, factor 2, cutoffs
 * [5, 12], V = 20. Bands: sizes 5, 7, 8; widths 8, 4, 2. */
static const struct ax_adaptive_config tiny_adaptive = {
	.enabled = true, .n_cutoffs = 2, .cutoff = { 5, 12 }, .factor = 2,
	.tie_weights = true, .tie_proj = true,
};

/* Input side. Tables 5x8 + 7x4 + 8x2 = 40 + 28 + 16 = 84; projections
 * (d_b -> 8) 8x8 + 4x8 + 2x8 = 64 + 32 + 16 = 112; exact 196 params,
 * paper 112 (tables excluded). MACs: every token at band 0, 8 x 8 = 64
 * per row (both conventions); paper adds the sqrt(d) scale, 8 per row.
 * Other flops: scale + PE = 16 per row.
 * Output side, tied: the only own param is W_cls (2, 8) = 16. MACs per
 * row: head 8 x (5 + 2) = 56; tail 1: 8x4 + 7x4 = 60; tail 2: 8x2 + 8x2
 * = 32; total 148; paper 0. Flops: 5x7 + 6x7 + 6x8 = 125. */
static void test_adaptive_tied(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	struct ax_adaptive_params ap;
	int32_t x = ax_b_adaptive_input(&f.b, AX_LEN_TGT, &tiny_adaptive, 20, 8,
					AX_POS_FAIRSEQ, &ap);
	assert_int_equal(f.g.tensors[x].width, 8);
	int32_t lp = ax_b_adaptive_softmax(&f.b, x, &tiny_adaptive, 20, &ap);
	assert_int_equal(f.g.tensors[lp].width, 20);
	assert_int_equal(f.g.logits, lp);
	assert_int_equal(f.g.ops[0].bands, 3);

	struct ax_op_cost in = cost_of(&f, 0, AX_CONVENTION_EXACT);
	assert_int_equal(in.params, 196);
	assert_per_row(&in.macs, AX_LEN_TGT, 64);
	assert_per_row(&in.aux_macs, AX_LEN_TGT, 0);
	assert_per_row(&in.other_flops, AX_LEN_TGT, 16);
	in = cost_of(&f, 0, AX_CONVENTION_PAPER);
	assert_int_equal(in.params, 112);
	assert_per_row(&in.macs, AX_LEN_TGT, 64);
	assert_per_row(&in.aux_macs, AX_LEN_TGT, 8);

	struct ax_op_cost out = cost_of(&f, 1, AX_CONVENTION_EXACT);
	assert_int_equal(out.params, 16);
	assert_per_row(&out.macs, AX_LEN_TGT, 148);
	assert_per_row(&out.other_flops, AX_LEN_TGT, 125);
	out = cost_of(&f, 1, AX_CONVENTION_PAPER);
	assert_int_equal(out.params, 16);
	assert_per_row(&out.macs, AX_LEN_TGT, 0);
	fx_close(&f);
}

/* Output side, untied (tie_weights off): own head (5, 8) = 40, W_cls 16,
 * tail 1 proj (4, 8) = 32 + table (7, 4) = 28, tail 2 proj (2, 8) = 16 +
 * table (8, 2) = 16: 148 params. Untied output matrices count under paper
 * too (as IWSLT's embed_out, docs/models.md §8.3). MACs as in the tied case, 148.
 * tie_proj alone ties nothing (fairseq ties projections only along with
 * the weights). */
static void test_adaptive_untied(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	struct ax_adaptive_config a = tiny_adaptive;
	a.tie_weights = false;
	struct ax_adaptive_params ap;
	int32_t x = ax_b_adaptive_input(&f.b, AX_LEN_TGT, &a, 20, 8,
					AX_POS_FAIRSEQ, &ap);
	ax_b_adaptive_softmax(&f.b, x, &a, 20, &ap);
	struct ax_op_cost out = cost_of(&f, 1, AX_CONVENTION_EXACT);
	assert_int_equal(out.params, 148);
	assert_per_row(&out.macs, AX_LEN_TGT, 148);
	out = cost_of(&f, 1, AX_CONVENTION_PAPER);
	assert_int_equal(out.params, 148);
	fx_close(&f);
}

/* Tied weights, own projections: W_cls 16 + projections 32 + 16 = 64. */
static void test_adaptive_tied_weights_only(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	struct ax_adaptive_config a = tiny_adaptive;
	a.tie_proj = false;
	struct ax_adaptive_params ap;
	int32_t x = ax_b_adaptive_input(&f.b, AX_LEN_TGT, &a, 20, 8,
					AX_POS_FAIRSEQ, &ap);
	ax_b_adaptive_softmax(&f.b, x, &a, 20, &ap);
	struct ax_op_cost out = cost_of(&f, 1, AX_CONVENTION_EXACT);
	assert_int_equal(out.params, 64);
	assert_per_row(&out.macs, AX_LEN_TGT, 148);
	fx_close(&f);
}

/* Incremental mode: a conv costs the same per step as per token. */
static void test_conv_incremental(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f);
	int32_t x = ax_b_tensor(&f.b, AX_LEN_TGT, 6, "x");
	ax_b_dwconv(&f.b, x, 7, 6, "dw");
	struct ax_op_cost c;
	ax_cost_op(&f.g, 0, AX_CONVENTION_EXACT, AX_MODE_INCREMENTAL, &c);
	assert_per_row(&c.macs, AX_LEN_TGT, 42);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dwconv),
		cmocka_unit_test(test_conv1d),
		cmocka_unit_test(test_sepconv),
		cmocka_unit_test(test_swish_glu),
		cmocka_unit_test(test_padded_add),
		cmocka_unit_test(test_adaptive_tied),
		cmocka_unit_test(test_adaptive_untied),
		cmocka_unit_test(test_adaptive_tied_weights_only),
		cmocka_unit_test(test_conv_incremental),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
