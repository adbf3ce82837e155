/*
 * test_latency.c - device files (costmodel/device.h): loading good files
 * and the errors of bad ones with their line:col; the calibrated model's
 * arithmetic on a hand-built one-op graph; built-in rows keeping the plain
 * roofline; `calibrate --quick` writing a file that loads; and `count
 * --latency` in every output format. No timing is asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "cli_run.h"
#include "device.h"
#include "model.h"
#include "sweep.h"

static const char good[] =
	"name: box\n"
	"calibrated: false\n"
	"cpu: \"Some CPU\"\n"
	"threads: 2\n"
	"peak_flops: 1e11\n"
	"bandwidth: 2e10\n"
	"overhead_us: 1.5\n"
	"attention_head_us: 0.25\n"
	"attention_score_ns: 3\n"
	"exec_op_us: 0.5\n"
	"step_us: 7\n"
	"step_vocab_ns: 2\n"
	"bandwidth_curve:\n"
	"  - [1048576, 8e10]\n"
	"  - [16777216, 2e10]\n"
	"bandwidth_curves:\n"
	"  int8:\n"
	"    - [1048576, 3e10]\n"
	"    - [16777216, 1e10]\n"
	"efficiency:\n"
	"  fp32:\n"
	"    gemm: {compute: 0.5}\n"
	"    gemv: {memory: 0.9}\n"
	"  int8:\n"
	"    gemv: {memory: 0.6, call_us: 0.75}\n"
	"sources:\n"
	"  - \"a datasheet\"\n";

static void test_load_good(void **state)
{
	(void)state;
	struct ax_device dev;
	struct ax_diag d = { 0 };
	assert_int_equal(ax_device_parse(&dev, good, strlen(good), "g.yaml", &d), AX_OK);
	assert_string_equal(dev.name, "box");
	assert_true(dev.per_kind);
	assert_false(dev.calibrated);
	assert_int_equal(dev.threads, 2);
	assert_true(dev.peak_flops == 1e11 && dev.bandwidth == 2e10);
	assert_true(dev.overhead_s > 1.49e-6 && dev.overhead_s < 1.51e-6);
	assert_int_equal(dev.n_curve, 2);
	assert_true(dev.eff[AX_PREC_FP32][AX_DEV_GEMM].compute == 0.5);
	assert_true(dev.eff[AX_PREC_INT8][AX_DEV_GEMV].memory == 0.6);
	assert_true(dev.eff[AX_PREC_BF16][AX_DEV_GEMV].memory == 0);
	assert_int_equal(dev.n_sources, 1);
	assert_string_equal(dev.sources[0], "a datasheet");
	/* the fixed costs, in seconds; bf16 has no curve: fp32's applies */
	assert_float_equal(dev.attn_head_s, 0.25e-6, 1e-15);
	assert_float_equal(dev.attn_score_s, 3e-9, 1e-15);
	assert_float_equal(dev.exec_op_s, 0.5e-6, 1e-15);
	assert_float_equal(dev.step_s, 7e-6, 1e-15);
	assert_float_equal(dev.step_vocab_s, 2e-9, 1e-15);
	assert_float_equal(dev.eff[AX_PREC_INT8][AX_DEV_GEMV].call_s, 0.75e-6, 1e-15);
	assert_int_equal(dev.qcurve[AX_PREC_INT8].n, 2);
	assert_int_equal(dev.qcurve[AX_PREC_BF16].n, 0);
	assert_true(ax_device_bandwidth_prec(&dev, AX_PREC_INT8, 1e9) == 1e10);
	assert_true(ax_device_bandwidth_prec(&dev, AX_PREC_BF16, 1e9) == 2e10);
	assert_true(ax_device_bandwidth_prec(&dev, AX_PREC_FP32, 1000) == 8e10);
	/* the curve: its ends, then log-linear between its points */
	assert_true(ax_device_bandwidth_at(&dev, 1000) == 8e10);
	assert_true(ax_device_bandwidth_at(&dev, 1e9) == 2e10);
	double mid = ax_device_bandwidth_at(&dev, 4194304);   /* halfway in log */
	assert_true(mid > 4.99e10 && mid < 5.01e10);
	/* the writer's text reads back the same */
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	ax_device_write(f, &dev);
	fclose(f);
	struct ax_device back;
	assert_int_equal(ax_device_parse(&back, buf, n, "w.yaml", &d), AX_OK);
	assert_string_equal(back.name, "box");
	assert_true(back.eff[AX_PREC_INT8][AX_DEV_GEMV].memory == 0.6);
	assert_int_equal(back.n_curve, 2);
	assert_int_equal(back.qcurve[AX_PREC_INT8].n, 2);
	assert_true(back.qcurve[AX_PREC_INT8].bw[1] == 1e10);
	assert_float_equal(back.eff[AX_PREC_INT8][AX_DEV_GEMV].call_s, 0.75e-6, 1e-12);
	assert_float_equal(back.step_s, 7e-6, 1e-12);
	assert_float_equal(back.step_vocab_s, 2e-9, 1e-15);
	assert_float_equal(back.exec_op_s, 0.5e-6, 1e-12);
	assert_float_equal(back.attn_head_s, 0.25e-6, 1e-12);
	assert_float_equal(back.attn_score_s, 3e-9, 1e-15);
	free(buf);
}

/* Each bad file gives AX_ERR_INPUT at line:col with a message. */
static void test_load_bad(void **state)
{
	(void)state;
	static const struct { const char *text; int line, col; const char *msg; } bad[] = {
		{ "name: x\ncalibrated: true\npeak_flop: 1\n", 3, 1, "did you mean 'peak_flops'" },
		{ "name: x\ncalibrated: maybe\npeak_flops: 1e9\nbandwidth: 1e9\nsources: []\n",
		  2, 13, "true or false" },
		{ "name: x\ncalibrated: true\nbandwidth: 1e9\nsources: []\n", 1, 1,
		  "missing key 'peak_flops'" },
		{ "name: x\ncalibrated: true\npeak_flops: fast\nbandwidth: 1e9\nsources: []\n",
		  3, 13, "must be a number" },
		{ "name: x\ncalibrated: true\npeak_flops: 1e9\nbandwidth: 1e9\nsources: []\n"
		  "bandwidth_curve:\n  - [100, 1e9]\n  - [50, 1e9]\n", 8, 5, "must ascend" },
		{ "name: x\ncalibrated: true\npeak_flops: 1e9\nbandwidth: 1e9\nsources: []\n"
		  "efficiency:\n  fp16:\n    gemm: {compute: 1}\n", 7, 3, "unknown key 'fp16'" },
		{ "name: x\ncalibrated: true\npeak_flops: 1e9\nbandwidth: 1e9\nsources: []\n"
		  "efficiency:\n  fp32:\n    gemv: {compute: 3}\n", 8, 21, "outside" },
		{ "name: x\ncalibrated: true\npeak_flops: 1e9\n  bandwidth: 1e9\n", 4, 12, "YAML" },
		/* the executor's and the search's keys */
		{ "name: x\ncalibrated: true\npeak_flops: 1e9\nbandwidth: 1e9\nsources: []\n"
		  "exec_op_uss: 1\n", 6, 1, "did you mean 'exec_op_us'" },
		{ "name: x\ncalibrated: true\npeak_flops: 1e9\nbandwidth: 1e9\nsources: []\n"
		  "step_us: -1\n", 6, 10, "outside" },
		{ "name: x\ncalibrated: true\npeak_flops: 1e9\nbandwidth: 1e9\nsources: []\n"
		  "attention_score_ns: fast\n", 6, 21, "must be a number" },
		{ "name: x\ncalibrated: true\npeak_flops: 1e9\nbandwidth: 1e9\nsources: []\n"
		  "efficiency:\n  int8:\n    gemv: {call_us: -2}\n", 8, 21, "outside" },
		{ "name: x\ncalibrated: true\npeak_flops: 1e9\nbandwidth: 1e9\nsources: []\n"
		  "bandwidth_curves:\n  fp32: []\n", 7, 3, "unknown key 'fp32'" },
		{ "name: x\ncalibrated: true\npeak_flops: 1e9\nbandwidth: 1e9\nsources: []\n"
		  "bandwidth_curves:\n  int8:\n    - [100, 1e9]\n    - [50, 1e9]\n", 9, 7,
		  "int8 bytes must ascend" },
		{ "name: x\ncalibrated: true\npeak_flops: 1e9\nbandwidth: 1e9\nsources: []\n"
		  "bandwidth_curves: [1, 2]\n", 6, 19, "must be a mapping" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ax_device dev;
		struct ax_diag d = { 0 };
		enum ax_status st = ax_device_parse(&dev, bad[i].text, strlen(bad[i].text),
						    "bad.yaml", &d);
		if (st != AX_ERR_INPUT || d.line != bad[i].line || d.col != bad[i].col ||
		    !strstr(d.msg, bad[i].msg))
			fail_msg("case %zu: status %d at %d:%d: %s", i, (int)st, d.line,
				 d.col, d.msg);
	}
	struct ax_device dev;
	struct ax_diag d = { 0 };
	assert_int_equal(ax_device_load(&dev, "/nonexistent/dev.yaml", &d), AX_ERR_IO);
	assert_int_equal(ax_device_resolve(&dev, "no-such-device", &d), AX_ERR_INPUT);
	assert_int_equal(ax_device_resolve(&dev, "zen5-1core", &d), AX_OK);
	assert_false(dev.per_kind);
}

/* One linear (W (3,4), no bias) over the target stream, decoded in
 * T = 2 steps: per step 12 MACs = 24 FLOPs and 48 weight + 28 activation
 * bytes. With peak 24 FLOP/s at compute efficiency 0.5 (2 s), bandwidth
 * 76 B/s at memory efficiency 0.25 (4 s) and 1 s overhead, a step takes
 * 5 s: 10 s in all, all of it decoder. At bf16 the weights are 24 bytes,
 * 52 in all: 52 / 19 = 2.7368 s (fp32's efficiency), so 3.7368 s a step;
 * at int8 12 bytes plus 3 fp32 scales, also 52, but int8's own memory
 * efficiency 0.5 makes it 1.368 s < 2 s of compute: 3 s a step. */
static void test_model_hand_case(void **state)
{
	(void)state;
	struct ax_tensor t[2] = {
		{ .scope = AX_SCOPE_DECODER, .len = AX_LEN_TGT, .width = 4, .parent = -1 },
		{ .scope = AX_SCOPE_DECODER, .len = AX_LEN_TGT, .width = 3, .parent = -1 },
	};
	struct ax_param p = { .scope = AX_SCOPE_DECODER, .kind = AX_PARAM_WEIGHT,
			      .rows = 3, .cols = 4, .owner = 0 };
	struct ax_op op = { .kind = AX_OP_LINEAR, .scope = AX_SCOPE_DECODER,
			    .layer = -1, .in = { 0, -1, -1 }, .out = 1 };
	for (int i = 0; i < AX_OP_MAX_PARAMS; i++)
		op.param[i] = -1;
	op.param[0] = 0;
	struct ax_graph g = { .n_ops = 1, .n_tensors = 2, .n_params = 1, .ops = &op,
			      .tensors = t, .params = &p, .enc_out = -1, .logits = 1 };
	struct ax_device dev = { .name = "hand", .peak_flops = 24, .bandwidth = 76,
				 .per_kind = true, .overhead_s = 1 };
	dev.eff[AX_PREC_FP32][AX_DEV_GEMV] = (struct ax_dev_eff){ .compute = 0.5,
								  .memory = 0.25 };
	struct ax_latency l;
	ax_latency_predict(&g, AX_MODE_INCREMENTAL, 5, 2, AX_PREC_FP32, &dev, &l);
	assert_float_equal(l.total_ms, 10000, 1e-6);
	assert_float_equal(l.decoder_ms, 10000, 1e-6);
	assert_float_equal(l.encoder_ms, 0, 1e-9);
	assert_float_equal(l.memory_ms, 8000, 1e-6);
	assert_float_equal(l.overhead_ms, 2000, 1e-6);
	assert_int_equal(l.calls, 2);
	assert_float_equal(l.dec_weight_bytes, 48, 1e-9);
	dev.eff[AX_PREC_INT8][AX_DEV_GEMV].memory = 0.5;
	ax_latency_predict(&g, AX_MODE_INCREMENTAL, 5, 2, AX_PREC_INT8, &dev, &l);
	assert_float_equal(l.total_ms, 2 * 1e3 * (2 + 1), 1e-6);
	assert_float_equal(l.dec_weight_bytes, 24, 1e-9);
	/* bf16 has no figure of its own: fp32's efficiency applies */
	ax_latency_predict(&g, AX_MODE_INCREMENTAL, 5, 2, AX_PREC_BF16, &dev, &l);
	assert_float_equal(l.total_ms, 2 * 1e3 * (52.0 / 19 + 1), 1e-6);
	/* sequence mode: one call of 2 rows (gemm kind: no figure, so 1):
	 * 48 FLOPs / 24 = 2 s vs (48 + 56) / 76 s, plus 1 s */
	ax_latency_predict(&g, AX_MODE_SEQUENCE, 5, 2, AX_PREC_FP32, &dev, &l);
	assert_float_equal(l.total_ms, 3000, 1e-6);
	assert_int_equal(l.calls, 1);
	/* int8's own curve (26 B/s: 52 / (26 * 0.5) = 4 s > 2 s of compute)
	 * and fixed cost per call (0.25 s) */
	struct ax_dev_curve *q = &dev.qcurve[AX_PREC_INT8];
	q->n = 1;
	q->bytes[0] = 1;
	q->bw[0] = 26;
	dev.eff[AX_PREC_INT8][AX_DEV_GEMV].call_s = 0.25;
	ax_latency_predict(&g, AX_MODE_INCREMENTAL, 5, 2, AX_PREC_INT8, &dev, &l);
	assert_float_equal(l.total_ms, 2 * 1e3 * (4 + 1 + 0.25), 1e-6);
	/* the executor (0.5 s a call) and the search (2 s + 3 x 1 s over the
	 * vocabulary of width 3, a step): 2 x (5 + 0.5 + 5) = 21 s; the split
	 * and the mean step agree with the total */
	dev.exec_op_s = 0.5;
	dev.step_s = 2;
	dev.step_vocab_s = 1;
	ax_latency_predict(&g, AX_MODE_INCREMENTAL, 5, 2, AX_PREC_FP32, &dev, &l);
	assert_float_equal(l.total_ms, 21000, 1e-6);
	assert_float_equal(l.search_ms, 10000, 1e-6);
	assert_float_equal(l.overhead_ms, 2 * 1500.0 + 10000, 1e-6);
	assert_float_equal(l.step_ms, 10500, 1e-6);
	assert_float_equal(l.compute_ms + l.memory_ms + l.overhead_ms, l.total_ms, 1e-6);
	assert_float_equal(l.encoder_ms + l.decoder_ms, l.total_ms, 1e-6);
	/* a built-in row keeps the plain roofline: per op max over the totals */
	struct ax_device plain = { .name = "plain", .peak_flops = 24, .bandwidth = 76 };
	assert_float_equal(ax_device_latency_ms(&g, AX_MODE_INCREMENTAL, 5, 2, &plain),
			   1e3 * 152.0 / 76, 1e-6);
}

/* On a real model, with a device whose roofline costs nothing: every op
 * call costs exec_op, and an attention call H heads of attn_head plus
 * H x queries x keys scores of attn_score; a self-attention at step t
 * (1-based) sees t keys, a cross-attention S, an encoder one S x S. */
static void test_model_fixed_costs(void **state)
{
	(void)state;
	struct ax_config *cfg = calloc(1, sizeof *cfg);
	assert_non_null(cfg);
	struct ax_graph g;
	ax_graph_init(&g);
	struct ax_diag d = { 0 };
	assert_int_equal(ax_config_load("tests/configs/oracle/transformer-post.yaml", cfg, &d),
			 AX_OK);
	assert_int_equal(ax_model_build(cfg, &g, &d), AX_OK);
	const int64_t S = 7, T = 5;
	struct ax_device dev = { .name = "free", .peak_flops = 1e30, .bandwidth = 1e30,
				 .per_kind = true, .exec_op_s = 1, .attn_head_s = 10,
				 .attn_score_s = 1000 };
	double want = 0;
	int64_t calls = 0;
	for (int32_t i = 0; i < g.n_ops; i++) {
		const struct ax_op *op = &g.ops[i];
		bool tgt = g.tensors[op->out].len == AX_LEN_TGT;
		bool attn = op->kind == AX_OP_ATTENTION;
		bool cross = attn && g.tensors[op->in[1]].len == AX_LEN_SRC;
		double H = (double)op->heads;
		for (int64_t t = 1; t <= (tgt ? T : 1); t++) {
			calls++;
			want += 1;
			if (!attn)
				continue;
			want += 10 * H + 1000 * H * (tgt ? (double)(cross ? S : t) : (double)(S * S));
		}
	}
	struct ax_latency l;
	ax_latency_predict(&g, AX_MODE_INCREMENTAL, S, T, AX_PREC_FP32, &dev, &l);
	assert_int_equal(l.calls, calls);
	if (fabs(l.total_ms - 1e3 * want) > 1e-6 * 1e3 * want)
		fail_msg("predicted %.6f ms, want %.6f", l.total_ms, 1e3 * want);
	assert_float_equal(l.encoder_ms + l.decoder_ms, l.total_ms, 1e-6 * l.total_ms);
	assert_float_equal(l.step_ms, l.decoder_ms / T, 1e-9 * l.total_ms);
	ax_graph_free(&g);
	free(cfg);
}

static void test_calibrate_quick_loads(void **state)
{
	(void)state;
	char path[] = "/tmp/ax_test_latency_XXXXXX";
	assert_non_null(mkdtemp(path));
	char file[128], out[65536], err[4096];
	snprintf(file, sizeof file, "%s/here.yaml", path);
	char *cal[] = { AX_CLI, "calibrate", "--quick", "--out", file, NULL };
	assert_int_equal(ax_test_run(cal, out, sizeof out, err, sizeof err), 0);
	struct ax_device dev;
	struct ax_diag d = { 0 };
	assert_int_equal(ax_device_load(&dev, file, &d), AX_OK);
	assert_string_equal(dev.name, "here");
	assert_true(dev.calibrated && dev.per_kind);
	assert_true(dev.peak_flops > 0 && dev.bandwidth > 0 && dev.n_curve >= 2);
	assert_true(dev.blas_core[0] && dev.cpu[0] && dev.date[0] && dev.n_sources >= 1);
	for (int k = 0; k < AX_DEV_KIND_COUNT; k++)
		assert_true(dev.eff[AX_PREC_FP32][k].compute >= 0);
	/* every precision by default: their own curves, the executor's and
	 * the search's costs (measured, so only their signs are known) */
	assert_int_equal(dev.qcurve[AX_PREC_BF16].n, dev.n_curve);
	assert_int_equal(dev.qcurve[AX_PREC_INT8].n, dev.n_curve);
	assert_true(dev.qcurve[AX_PREC_INT8].bw[0] > 0);
	assert_true(dev.exec_op_s >= 0 && dev.step_s >= 0 && dev.step_vocab_s >= 0);
	assert_true(dev.attn_head_s >= 0 && dev.attn_score_s >= 0);
	assert_true(dev.exec_op_s < 1e-3 && dev.step_s < 1e-2 && dev.attn_head_s < 1e-3);
	/* count --latency in each format, on this file and on a built-in */
	char *tab[] = { AX_CLI, "count", "--latency", file,
			"tests/configs/oracle/transformer-post.yaml", NULL };
	assert_int_equal(ax_test_run(tab, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "latency on here (calibrated, fp32 weights"));
	assert_non_null(strstr(out, "encoder"));
	char *csv[] = { AX_CLI, "count", "--format", "csv", "--precision", "int8",
			"--latency", file, "tests/configs/oracle/transformer-post.yaml", NULL };
	assert_int_equal(ax_test_run(csv, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, ",latency_device,latency_precision,latency_ms,"
			       "latency_encoder_ms,latency_decoder_ms\n"));
	assert_non_null(strstr(out, ",here,int8,"));
	char *json[] = { AX_CLI, "count", "--format", "json", "--latency",
			 "devices/cortex-a72.yaml",
			 "tests/configs/oracle/transformer-post.yaml", NULL };
	assert_int_equal(ax_test_run(json, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "\"device\": \"cortex-a72\""));
	assert_non_null(strstr(out, "\"calibrated\": false"));
	assert_non_null(strstr(out, "\"decoder_ms\""));
	assert_non_null(strstr(out, "\"step_ms\""));
	assert_non_null(strstr(out, "\"search_ms\""));
	char *bad[] = { AX_CLI, "count", "--latency", "nowhere",
			"tests/configs/oracle/transformer-post.yaml", NULL };
	assert_int_equal(ax_test_run(bad, out, sizeof out, err, sizeof err), 2);
	assert_non_null(strstr(err, "unknown device 'nowhere'"));
	char *noout[] = { AX_CLI, "calibrate", "--quick", NULL };
	assert_int_equal(ax_test_run(noout, out, sizeof out, err, sizeof err), 2);
	unlink(file);
	rmdir(path);
}

/* A sweep's `device:` takes a built-in name or a device file path; a
 * bad file reports its own error at the device key. */
static void test_sweep_device(void **state)
{
	(void)state;
	static const char head[] =
		"name: s\n"
		"families:\n"
		"  - base: configs/paper/wmt-transformer-128.yaml\n"
		"    axes:\n"
		"      embed_dim: [128, 256]\n"
		"objectives:\n  - {minimize: latency_ms}\n  - {maximize: nonembedding_params}\n";
	const char *devs[] = { "zen5-2core", "devices/cortex-a72.yaml", "devices/nope.yaml" };
	for (int i = 0; i < 3; i++) {
		char text[1024];
		snprintf(text, sizeof text, "device: %s\n%s", devs[i], head);
		struct ax_sweep *sw = calloc(1, sizeof *sw);
		assert_non_null(sw);
		struct ax_diag d = { 0 };
		enum ax_status st = ax_sweep_load_string(sw, text, strlen(text), "s.yaml",
							 NULL, NULL, &d);
		if (i < 2) {
			if (st != AX_OK)
				fail_msg("%s: %d:%d: %s", devs[i], d.line, d.col, d.msg);
			assert_non_null(sw->device);
			assert_int_equal(sw->device->per_kind, i == 1);
			if (i == 1)
				assert_string_equal(sw->device->name, "cortex-a72");
			ax_sweep_free(sw);
		} else {
			assert_int_equal(st, AX_ERR_INPUT);
			assert_int_equal(d.line, 1);
			assert_int_equal(d.col, 9);
			assert_non_null(strstr(d.msg, "devices/nope.yaml"));
		}
		free(sw);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_load_bad),
		cmocka_unit_test(test_model_hand_case),
		cmocka_unit_test(test_model_fixed_costs),
		cmocka_unit_test(test_calibrate_quick_loads),
		cmocka_unit_test(test_sweep_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
