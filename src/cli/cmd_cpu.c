/*
 * cmd_cpu.c - `archex cpu`: the CPU's usable features (CPUID and the OS's
 * saved register state) and the OpenBLAS kernel archex runs on, with who
 * chose it (cpu.h). main.c has already re-executed archex on the right
 * kernel when OpenBLAS fell back to a generic one, so this reports what
 * `archex run` gets.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cpu.h"
#include "json.h"

/* OMP_WAIT_POLICY as this process's OpenMP runtime read it at load */
static const char *omp_wait_policy(void)
{
	const char *p = getenv("OMP_WAIT_POLICY");
	return p && *p ? p : "unset";
}

static void help_cpu(void)
{
	printf(
"usage: archex cpu [--format text|json] [--coretype]\n"
"\n"
"Print the CPU (brand, family, model), the features archex and OpenBLAS\n"
"can use (CPUID bits whose register state the OS saves), and the OpenBLAS\n"
"kernel in effect with its source: 'auto' when archex re-executed itself\n"
"with OPENBLAS_CORETYPE because OpenBLAS fell back to a generic kernel on\n"
"a CPU with AVX2 or AVX-512, 'user' when OPENBLAS_CORETYPE was set by you\n"
"(always respected), 'default' when OpenBLAS's own detection stood.\n"
"Also the OpenMP wait policy in effect: archex sets OMP_WAIT_POLICY to\n"
"'passive' (in the same re-execution) when you have not set it, so idle\n"
"OpenMP threads sleep rather than spin against OpenBLAS's; a value you\n"
"set is kept.\n"
"\n"
"options:\n"
"  --format F   text (default) or json\n"
"  --coretype   print only the kernel in effect (a valid OPENBLAS_CORETYPE)\n"
"  -h, --help   this text\n");
}

/* The usable features, by name, in one table for both formats. */
static int features(const struct ax_cpu *c, const char **names)
{
	const struct { bool on; const char *name; } f[] = {
		{ c->avx, "avx" }, { c->avx2, "avx2" }, { c->fma, "fma" },
		{ c->avx512f, "avx512f" }, { c->avx512bw, "avx512bw" },
		{ c->avx512vl, "avx512vl" }, { c->avx512dq, "avx512dq" },
		{ c->avx512cd, "avx512cd" }, { c->avx512_vnni, "avx512_vnni" },
		{ c->avx512_bf16, "avx512_bf16" }, { c->avx512_fp16, "avx512_fp16" },
	};
	int n = 0;
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (f[i].on)
			names[n++] = f[i].name;
	return n;
}

static void print_json(const struct ax_cpu *c, const char **names, int n)
{
	struct ax_json j;
	ax_json_init(&j, stdout, AX_JSON_PRETTY);
	ax_json_begin_object(&j);
	ax_json_key(&j, "vendor");
	ax_json_string(&j, c->vendor);
	ax_json_key(&j, "brand");
	ax_json_string(&j, c->brand);
	ax_json_key(&j, "family");
	ax_json_int(&j, c->family);
	ax_json_key(&j, "model");
	ax_json_int(&j, c->model);
	ax_json_key(&j, "features");
	ax_json_begin_array(&j);
	for (int i = 0; i < n; i++)
		ax_json_string(&j, names[i]);
	ax_json_end_array(&j);
	ax_json_key(&j, "blas_core");
	ax_json_string(&j, ax_cpu_blas_core());
	ax_json_key(&j, "blas_core_source");
	ax_json_string(&j, ax_cpu_blas_core_source());
	ax_json_key(&j, "omp_wait_policy");
	ax_json_string(&j, omp_wait_policy());
	ax_json_end_object(&j);
	ax_json_finish(&j, NULL);
	fputc('\n', stdout);
}

int ax_cmd_cpu(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "coretype", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, coretype = false;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return ax_cli_usage_error("cpu", "--format must be text or json, not '%s'", optarg);
			json = !strcmp(optarg, "json");
			break;
		case 'c': coretype = true; break;
		case 'h': help_cpu(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("cpu", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_bad_option("cpu", argv, longopts);
		}
	}
	if (argc != optind)
		return ax_cli_usage_error("cpu", "takes no arguments");
	struct ax_cpu c;
	ax_cpu_detect(&c);
	const char *names[16];
	int n = features(&c, names);
	if (coretype)
		printf("%s\n", ax_cpu_blas_core());
	else if (json)
		print_json(&c, names, n);
	else {
		printf("cpu        %s\nvendor     %s\nfamily     %d\nmodel      %d\nfeatures  ",
		       *c.brand ? c.brand : "unknown", c.vendor, c.family, c.model);
		for (int i = 0; i < n; i++)
			printf(" %s", names[i]);
		printf("\nblas_core  %s (%s)\n", ax_cpu_blas_core(), ax_cpu_blas_core_source());
		printf("omp_wait   %s\n", omp_wait_policy());
	}
	return fflush(stdout) ? AX_EXIT_ERROR : AX_EXIT_OK;
}
