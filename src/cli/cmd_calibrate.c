/*
 * cmd_calibrate.c - `archex calibrate`: runs the kernel microbenchmarks of
 * calib.h on this machine and writes a device file for the latency model
 * (docs/latency.md). main.c has already chosen the OpenBLAS kernel.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic_io.h"
#include "calib.h"
#include "cli.h"
#include "cpu.h"
#include "model.h"

void openblas_set_num_threads(int n);

static void help_calibrate(void)
{
	printf(
"usage: archex calibrate --out devices/NAME.yaml [options]\n"
"\n"
"Measure this machine for the latency model of `archex count --latency`:\n"
"microbenchmarks of archex's own kernels at decoding shapes (linears of\n"
"one row and of 32 rows per precision, attention, light and dynamic\n"
"convs, layernorm, log-softmax, elementwise ops, embeddings) give the\n"
"sgemm peak, the sgemv bandwidth by working set (256 KiB .. 256 MiB, each\n"
"a decoder step's mix of matrix shapes), a fixed cost per kernel call and,\n"
"per kernel kind and precision, the fraction of peak or bandwidth reached.\n"
"Three tiny models decoded through the executor, as `archex run` does,\n"
"give its own cost per op call and the search's per decoding step and per\n"
"vocabulary entry. Writes a device file (YAML) naming the CPU,\n"
"the OpenBLAS kernel, the threads, the date and the archex version.\n"
"Every measurement runs in three passes and the fastest counts. About 30\n"
"seconds and 800 MB; --quick takes a second (small sets, one pass, short\n"
"timings: for tests). Measure on a quiet machine: other load ends up in\n"
"the figures.\n"
"\n"
"options:\n"
"  --out FILE       the device file to write (required)\n"
"  --name NAME      the device's name (default: FILE's base name)\n"
"  --threads N      OpenBLAS threads (default 1), as `run --threads`\n"
"  --precision P    fp32, bf16, int8 or all (default all); repeatable\n"
"  --quick          a second instead of 30, rough figures\n"
"  -h, --help       this text\n");
}

/* The executor probes of calib.h: models of tiny ops (width 16), so the
 * fixed costs dominate; 0 and 1 differ in decoder layers only, 0 and 2
 * in the target vocabulary only. */
static const char probe_fmt[] =
	"name: calibrate-probe\n"
	"family: transformer\n"
	"task: translation\n"
	"embed_dim: 16\n"
	"norm: post\n"
	"vocab: {source: 40, target: %d, share: none}\n"
	"encoder: {layers: 1, ffn_dim: 32, attention_heads: 2}\n"
	"decoder: {layers: %d, ffn_dim: 32, attention_heads: 2}\n";

struct probes {
	struct ax_config cfg[3];
	struct ax_graph g[3];
};

static enum ax_status build_probes(struct probes *p, struct ax_calib_opts *o,
				   struct ax_diag *d)
{
	static const int vocab[3] = { 40, 40, 8192 }, layers[3] = { 1, 6, 1 };
	for (int k = 0; k < 3; k++) {
		char text[512];
		int n = snprintf(text, sizeof text, probe_fmt, vocab[k], layers[k]);
		enum ax_status st = ax_config_load_string(text, (size_t)n, "calibrate-probe",
							  &p->cfg[k], d);
		if (st == AX_OK)
			st = ax_model_build(&p->cfg[k], &p->g[k], d);
		if (st != AX_OK)
			return st;
		o->probe[k] = &p->g[k];
	}
	return AX_OK;
}

static void progress(void *ctx, const char *what, int done, int total)
{
	(void)ctx;
	fprintf(stderr, "\rcalibrate: [%2d/%2d] %-32s", done + 1, total, what);
	fflush(stderr);
}

/* NAME from .../NAME.yaml */
static void base_name(const char *path, char *buf, size_t size)
{
	const char *s = strrchr(path, '/');
	s = s ? s + 1 : path;
	snprintf(buf, size, "%s", s);
	size_t n = strlen(buf);
	if (n > 5 && !strcmp(buf + n - 5, ".yaml"))
		buf[n - 5] = 0;
}

static void describe(struct ax_device *dev, const struct ax_calib_opts *o)
{
	struct ax_cpu c;
	ax_cpu_detect(&c);
	ax_cpu_describe(&c, dev->cpu, sizeof dev->cpu);
	snprintf(dev->blas_core, sizeof dev->blas_core, "%s", ax_cpu_blas_core());
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(dev->date, sizeof dev->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(dev->version, sizeof dev->version, "%s", AX_VERSION);
	dev->n_sources = 2;
	snprintf(dev->sources[0], AX_DEV_TEXT,
		 "archex calibrate%s --threads %d: microbenchmarks of archex's kernels "
		 "(src/runtime/calib.c), OpenBLAS %s (%s)", o->quick ? " --quick" : "",
		 o->threads, dev->blas_core, ax_cpu_blas_core_source());
	snprintf(dev->sources[1], AX_DEV_TEXT,
		 "the fastest of %d passes of 5 timed batches per shape; efficiencies fitted "
		 "so that max(F/peak_c, B/bw_m) + fixed costs is the measured call time; "
		 "exec_op_us, step_us, step_vocab_ns from three tiny models decoded by "
		 "ax_decode", o->quick ? 1 : 3);
}

int ax_cmd_calibrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "precision", required_argument, NULL, 'p' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *name = NULL;
	struct ax_calib_opts o = { .threads = 1 };
	bool any_prec = false;
	int64_t v;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'n': name = optarg; break;
		case 't':
			if (!ax_cli_parse_i64(optarg, 1, 256, &v))
				return ax_cli_usage_error("calibrate", "--threads must be 1..256, not '%s'", optarg);
			o.threads = (int)v;
			break;
		case 'p': {
			int k = 0;
			while (k < AX_PREC_COUNT && strcmp(optarg, ax_precision_names[k]))
				k++;
			if (k == AX_PREC_COUNT && strcmp(optarg, "all"))
				return ax_cli_usage_error("calibrate", "--precision must be fp32, bf16, int8 or all, not '%s'", optarg);
			for (int p = 0; p < AX_PREC_COUNT; p++)
				o.precision[p] |= k == AX_PREC_COUNT || p == k;
			any_prec = true;
			break;
		}
		case 'q': o.quick = true; break;
		case 'h': help_calibrate(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("calibrate", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_bad_option("calibrate", argv, longopts);
		}
	}
	if (argc != optind)
		return ax_cli_usage_error("calibrate", "takes no arguments");
	if (!out)
		return ax_cli_usage_error("calibrate", "--out FILE is required");
	/* a missing or read-only directory fails now, not after the
	 * measurements */
	struct ax_diag dd = { 0 };
	if (ax_atomic_check_dir(out, &dd)) {
		ax_cli_print_diag(&dd);
		return AX_EXIT_ERROR;
	}
	for (int p = 0; p < AX_PREC_COUNT; p++)
		o.precision[p] |= !any_prec;
	o.precision[AX_PREC_FP32] = true;   /* the fits of other kinds need it */
	if (isatty(2))
		o.progress = progress;
	openblas_set_num_threads(o.threads);

	struct ax_device dev = { 0 };
	struct ax_diag d = { 0 };
	struct probes pr;
	for (int k = 0; k < 3; k++)
		ax_graph_init(&pr.g[k]);
	enum ax_status st = build_probes(&pr, &o, &d);
	if (st == AX_OK)
		st = ax_calibrate(&dev, &o, &d);
	for (int k = 0; k < 3; k++)
		ax_graph_free(&pr.g[k]);
	if (st != AX_OK) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	if (o.progress)
		fprintf(stderr, "\r%60s\r", "");
	if (name)
		snprintf(dev.name_buf, sizeof dev.name_buf, "%s", name);
	else
		base_name(out, dev.name_buf, sizeof dev.name_buf);
	dev.name = dev.name_buf;
	describe(&dev, &o);
	struct ax_atomic a;
	FILE *f = ax_atomic_open(&a, out, &d);
	if (!f) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	ax_device_write(f, &dev);
	if (ax_atomic_commit(&a, &d)) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	fprintf(stderr, "calibrate: %s: peak %.1f GFLOP/s, bandwidth %.1f GB/s, "
		"%.2f + %.2f us per op call, %.2f us + %.2f ns x V per step "
		"(OpenBLAS %s, %d thread%s)\n", out,
		dev.peak_flops / 1e9, dev.bandwidth / 1e9, dev.overhead_s * 1e6,
		dev.exec_op_s * 1e6, dev.step_s * 1e6, dev.step_vocab_s * 1e9,
		dev.blas_core, o.threads, o.threads == 1 ? "" : "s");
	return AX_EXIT_OK;
}
