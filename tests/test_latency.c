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

#include "cli_run.h"
#include "device.h"
#include "sweep.h"

static const char good[] =
	"name: box\n"
	"calibrated: false\n"
	"cpu: \"Some CPU\"\n"
	"threads: 2\n"
	"peak_flops: 1e11\n"
	"bandwidth: 2e10\n"
	"overhead_us: 1.5\n"
	"bandwidth_curve:\n"
	"  - [1048576, 8e10]\n"
	"  - [16777216, 2e10]\n"
	"efficiency:\n"
	"  fp32:\n"
	"    gemm: {compute: 0.5}\n"
	"    gemv: {memory: 0.9}\n"
	"  int8:\n"
	"    gemv: {memory: 0.6}\n"
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
	dev.eff[AX_PREC_FP32][AX_DEV_GEMV] = (struct ax_dev_eff){ 0.5, 0.25 };
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
	/* a built-in row keeps the plain roofline: per op max over the totals */
	struct ax_device plain = { .name = "plain", .peak_flops = 24, .bandwidth = 76 };
	assert_float_equal(ax_device_latency_ms(&g, AX_MODE_INCREMENTAL, 5, 2, &plain),
			   1e3 * 152.0 / 76, 1e-6);
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
		cmocka_unit_test(test_calibrate_quick_loads),
		cmocka_unit_test(test_sweep_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
