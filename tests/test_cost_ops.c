/*
 * test_cost_ops.c - per-op hand counts: each op kind on a tiny shape, with
 * params, MACs (as polynomials in S and T), other FLOPs and the `paper`
 * differences written out by hand from docs/models.md §2 and §8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "builder.h"
#include "cost.h"

struct fixture {
	struct ax_graph g;
	struct ax_builder b;
};

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof *f);
	ax_graph_init(&f->g);
	f->b = (struct ax_builder){ .g = &f->g, .scope = AX_SCOPE_DECODER, .layer = 0 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ax_graph_free(&f->g);
	test_free(f);
	return 0;
}

/* The cost of the last op under conv/mode, evaluated at (S, T). */
struct eval { int64_t params, macs, other; };

static struct eval last(struct fixture *f, enum ax_convention conv,
			enum ax_mode mode, int64_t S, int64_t T)
{
	assert_int_equal(f->b.status, AX_OK);
	struct ax_op_cost c;
	ax_cost_op(&f->g, f->g.n_ops - 1, conv, mode, &c);
	return (struct eval){ c.params,
			      ax_poly_eval(&c.macs, S, T) + ax_poly_eval(&c.aux_macs, S, T),
			      ax_poly_eval(&c.other_flops, S, T) };
}

#define EXACT AX_CONVENTION_EXACT
#define PAPER AX_CONVENTION_PAPER
#define SEQ AX_MODE_SEQUENCE
#define INC AX_MODE_INCREMENTAL

static void test_linear(void **state)
{
	struct fixture *f = *state;
	int32_t x = ax_b_tensor(&f->b, AX_LEN_TGT, 3, "x");
	ax_b_linear(&f->b, x, 5, true, AX_KIND_FFN, "fc", -1);
	/* params 3*5 + 5; MACs 15 per row; bias add 5 per row (not a MAC) */
	struct eval e = last(f, EXACT, SEQ, 2, 7);
	assert_int_equal(e.params, 20);
	assert_int_equal(e.macs, 105);
	assert_int_equal(e.other, 35);
	/* paper: same MACs, no bias in the count */
	e = last(f, PAPER, SEQ, 2, 7);
	assert_int_equal(e.macs, 105);
	assert_int_equal(e.params, 20);
	/* on the source stream the rows are S */
	int32_t s = ax_b_tensor(&f->b, AX_LEN_SRC, 4, "s");
	ax_b_linear(&f->b, s, 6, false, AX_KIND_ATTENTION_PROJ, "k", -1);
	e = last(f, EXACT, INC, 11, 7);
	assert_int_equal(e.params, 24);
	assert_int_equal(e.macs, 24 * 11);
	assert_int_equal(e.other, 0);
}

static void test_layernorm(void **state)
{
	struct fixture *f = *state;
	int32_t x = ax_b_tensor(&f->b, AX_LEN_TGT, 8, "x");
	ax_b_layernorm(&f->b, x, 1e-5, "ln");
	/* params gamma+beta 16; exact MACs 0, 7 flops/element; paper numel */
	struct eval e = last(f, EXACT, SEQ, 1, 3);
	assert_int_equal(e.params, 16);
	assert_int_equal(e.macs, 0);
	assert_int_equal(e.other, 7 * 8 * 3);
	e = last(f, PAPER, SEQ, 1, 3);
	assert_int_equal(e.macs, 24);
}

static void test_attention(void **state)
{
	struct fixture *f = *state;
	int32_t q = ax_b_tensor(&f->b, AX_LEN_TGT, 8, "q");
	int32_t k = ax_b_tensor(&f->b, AX_LEN_TGT, 8, "k");
	int32_t m = ax_b_tensor(&f->b, AX_LEN_SRC, 8, "m");
	int32_t op = ax_b_op(&f->b, AX_OP_ATTENTION, AX_KIND_ATTENTION_MATMUL, "attn");
	int32_t out = ax_b_tensor(&f->b, AX_LEN_TGT, 8, "a");
	struct ax_op *a = &f->g.ops[op];
	a->in[0] = q;
	a->in[1] = k;
	a->in[2] = k;
	a->out = out;
	a->heads = 2;
	a->causal = true;
	/* sequence: QK^T + AV = 2 T^2 w = 2*25*8 (full square, mask or not) */
	struct eval e = last(f, EXACT, SEQ, 9, 5);
	assert_int_equal(e.macs, 400);
	/* q scale w per query + softmax 5 per score per head */
	assert_int_equal(e.other, 8 * 5 + 5 * 2 * 25);
	/* incremental: step t sees t keys: 2 w (1+...+5) = 16 * 15 */
	e = last(f, EXACT, INC, 9, 5);
	assert_int_equal(e.macs, 240);
	assert_int_equal(e.other, 8 * 5 + 5 * 2 * 15);
	/* paper adds the q-scaling mul as numel: T w */
	e = last(f, PAPER, SEQ, 9, 5);
	assert_int_equal(e.macs, 400 + 40);
	/* cross-attention: keys from the S stream, same in both modes */
	f->g.ops[op].in[1] = m;
	f->g.ops[op].in[2] = m;
	f->g.ops[op].causal = false;
	assert_int_equal(last(f, EXACT, SEQ, 9, 5).macs, 2 * 9 * 5 * 8);
	assert_int_equal(last(f, EXACT, INC, 9, 5).macs, 2 * 9 * 5 * 8);
}

static void test_lightconv(void **state)
{
	struct fixture *f = *state;
	int32_t x = ax_b_tensor(&f->b, AX_LEN_TGT, 4, "x");
	const struct ax_conv_spec s = { .type = AX_CONV_LIGHTWEIGHT, .dim = 4,
		.heads = 2, .kernel = 3, .glu = false, .causal = true, .out_dim = 4 };
	ax_b_conv_block(&f->b, x, &s, -1);
	/* ops: linear1, lightconv, linear2; look at the conv (second last) */
	int32_t conv = f->g.n_ops - 2;
	assert_int_equal(f->g.ops[conv].kind, AX_OP_LIGHTCONV);
	assert_int_equal(f->g.ops[conv].pad_left, 2);
	struct ax_op_cost c;
	ax_cost_op(&f->g, conv, EXACT, SEQ, &c);
	/* params H K = 6; taps c K = 12 per row; softmax of (H,K) once */
	assert_int_equal(c.params, 6);
	assert_int_equal(ax_poly_eval(&c.macs, 0, 10), 120);
	assert_int_equal(ax_poly_eval(&c.other_flops, 0, 10), 30);
	/* paper: the taps are invisible to the profiler */
	ax_cost_op(&f->g, conv, PAPER, SEQ, &c);
	assert_int_equal(ax_poly_eval(&c.macs, 0, 10), 0);
	/* centred (encoder) padding: K//2, and (K-1)//2 for even K */
	const struct ax_conv_spec s4 = { .type = AX_CONV_LIGHTWEIGHT, .dim = 4,
		.heads = 2, .kernel = 4, .causal = false, .out_dim = 4 };
	ax_b_conv_block(&f->b, x, &s4, -1);
	assert_int_equal(f->g.ops[f->g.n_ops - 2].pad_left, 1);
}

static void test_dynconv(void **state)
{
	struct fixture *f = *state;
	int32_t x = ax_b_tensor(&f->b, AX_LEN_SRC, 6, "x");
	const struct ax_conv_spec s = { .type = AX_CONV_DYNAMIC, .dim = 4,
		.heads = 2, .kernel = 5, .glu = true, .causal = false, .out_dim = 6 };
	ax_b_conv_block(&f->b, x, &s, -1);
	/* ops: linear1 (6 -> 8), glu, weight_linear (4 -> 10), dynconv, linear2 */
	assert_int_equal(f->g.n_ops, 5);
	struct ax_op_cost c;
	int64_t params = 0, macs = 0;
	for (int i = 0; i < 5; i++) {
		ax_cost_op(&f->g, i, EXACT, SEQ, &c);
		params += c.params;
		macs += ax_poly_eval(&c.macs, 3, 0);
	}
	/* linear1 6*8+8, generator 4*2*5 (no bias), linear2 4*6+6 */
	assert_int_equal(params, 56 + 40 + 30);
	/* per row: 48 + 40 (generator) + 20 (taps) + 24 */
	assert_int_equal(macs, 3 * (48 + 40 + 20 + 24));
	ax_cost_op(&f->g, 3, EXACT, SEQ, &c);
	assert_int_equal(f->g.ops[3].kind, AX_OP_DYNCONV);
	assert_int_equal(f->g.ops[3].pad_left, 2);
	/* kernel softmax 5 H K per row */
	assert_int_equal(ax_poly_eval(&c.other_flops, 3, 0), 3 * 5 * 2 * 5);
	ax_cost_op(&f->g, 1, EXACT, SEQ, &c);
	assert_int_equal(ax_poly_eval(&c.other_flops, 3, 0), 3 * 4 * 4); /* GLU */
	/* paper: generator counted, taps not */
	ax_cost_op(&f->g, 2, PAPER, SEQ, &c);
	assert_int_equal(ax_poly_eval(&c.macs, 3, 0), 120);
	ax_cost_op(&f->g, 3, PAPER, SEQ, &c);
	assert_int_equal(ax_poly_eval(&c.macs, 3, 0), 0);
}

static void test_elementwise(void **state)
{
	struct fixture *f = *state;
	int32_t x = ax_b_tensor(&f->b, AX_LEN_TGT, 6, "x");
	int32_t n = ax_b_tensor(&f->b, AX_LEN_TGT, 2, "n");
	ax_b_unary(&f->b, AX_OP_RELU, x, "relu");
	assert_int_equal(last(f, EXACT, SEQ, 0, 4).other, 24);
	ax_b_unary(&f->b, AX_OP_SWISH, x, "swish");
	assert_int_equal(last(f, EXACT, SEQ, 0, 4).other, 96);
	assert_int_equal(last(f, PAPER, SEQ, 0, 4).macs, 24); /* the mul */
	ax_b_unary(&f->b, AX_OP_GLU, x, "glu");
	assert_int_equal(f->g.tensors[f->g.ops[f->g.n_ops - 1].out].width, 3);
	assert_int_equal(last(f, EXACT, SEQ, 0, 4).other, 48);
	assert_int_equal(last(f, PAPER, SEQ, 0, 4).macs, 0);
	/* add with a narrower operand: adds only its width */
	ax_b_add(&f->b, x, n, "pad_add");
	assert_int_equal(last(f, EXACT, SEQ, 0, 4).other, 8);
	assert_int_equal(last(f, EXACT, SEQ, 0, 4).macs, 0);
}

static void test_embed_and_output(void **state)
{
	struct fixture *f = *state;
	int32_t table = -1;
	f->b.scope = AX_SCOPE_EMBED;
	int32_t x = ax_b_embed(&f->b, AX_LEN_TGT, 50, 8, &table, AX_POS_FAIRSEQ, 0);
	/* the table is owned by the embed op: 400 params; exact 0 MACs,
	 * paper counts it out; scale + PE 2d per row; paper: scale numel */
	struct eval e = last(f, EXACT, SEQ, 0, 3);
	assert_int_equal(e.params, 400);
	assert_int_equal(e.macs, 0);
	assert_int_equal(e.other, 48);
	e = last(f, PAPER, SEQ, 0, 3);
	assert_int_equal(e.params, 0);
	assert_int_equal(e.macs, 24);
	/* tied output: no new params, V d MACs per row; log-softmax 5V */
	f->b.scope = AX_SCOPE_OUTPUT;
	ax_b_output(&f->b, x, 50, table);
	struct ax_op_cost c;
	ax_cost_op(&f->g, f->g.n_ops - 2, EXACT, SEQ, &c);
	assert_int_equal(c.params, 0);
	assert_int_equal(ax_poly_eval(&c.macs, 0, 3), 3 * 400);
	ax_cost_op(&f->g, f->g.n_ops - 2, PAPER, SEQ, &c);
	assert_int_equal(ax_poly_eval(&c.macs, 0, 3), 0);
	assert_int_equal(last(f, EXACT, SEQ, 0, 3).other, 3 * 5 * 50);
	/* untied output: a new (V, d) matrix, counted under both */
	ax_b_output(&f->b, x, 50, -1);
	ax_cost_op(&f->g, f->g.n_ops - 2, PAPER, SEQ, &c);
	assert_int_equal(c.params, 400);
}

static void test_et_convs(void **state)
{
	struct fixture *f = *state;
	int32_t x = ax_b_tensor(&f->b, AX_LEN_TGT, 4, "x");
	int32_t op = ax_b_op(&f->b, AX_OP_DWCONV, AX_KIND_CONV, "dw");
	int32_t w = ax_b_param(&f->b, AX_PARAM_WEIGHT, 7, 4, "dw.weight");
	int32_t y = ax_b_tensor(&f->b, AX_LEN_TGT, 4, "y");
	f->g.ops[op].in[0] = x;
	f->g.ops[op].out = y;
	f->g.ops[op].kernel = 7;
	ax_b_use_param(&f->b, op, 0, w);
	/* depthwise: K c params, K c MACs per row, both conventions */
	assert_int_equal(last(f, EXACT, SEQ, 0, 2).params, 28);
	assert_int_equal(last(f, EXACT, SEQ, 0, 2).macs, 56);
	assert_int_equal(last(f, PAPER, SEQ, 0, 2).macs, 56);
	op = ax_b_op(&f->b, AX_OP_CONV1D, AX_KIND_CONV, "conv");
	w = ax_b_param(&f->b, AX_PARAM_WEIGHT, 2, 3 * 4, "conv.weight");
	int32_t bias = ax_b_param(&f->b, AX_PARAM_BIAS, 2, 1, "conv.bias");
	y = ax_b_tensor(&f->b, AX_LEN_TGT, 2, "z");
	f->g.ops[op].in[0] = x;
	f->g.ops[op].out = y;
	f->g.ops[op].kernel = 3;
	ax_b_use_param(&f->b, op, 0, w);
	ax_b_use_param(&f->b, op, 1, bias);
	/* standard conv k=3, 4 -> 2: 24 + 2 params, 24 MACs per row */
	assert_int_equal(last(f, EXACT, SEQ, 0, 5).params, 26);
	assert_int_equal(last(f, EXACT, SEQ, 0, 5).macs, 120);
	assert_int_equal(last(f, EXACT, SEQ, 0, 5).other, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_linear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layernorm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lightconv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dynconv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elementwise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_embed_and_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_et_convs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
