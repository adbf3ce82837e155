/*
 * test_cpu.c - the choice of the OpenBLAS kernel (cpu.h) on a table of
 * CPUs, cores and environments; feature detection's invariants; where
 * the kernel came from; and the CLI's re-execution: `archex cpu
 * --coretype` runs on the kernel the choice names, and a user's
 * OPENBLAS_CORETYPE is kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu.h"

static const struct ax_cpu sse = { .family = 6, .model = 15 };
static const struct ax_cpu avx2 = { .avx = true, .avx2 = true, .fma = true };
static const struct ax_cpu avx2_nofma = { .avx = true, .avx2 = true };
static const struct ax_cpu avx512 = {
	.avx = true, .avx2 = true, .fma = true, .avx512f = true, .avx512bw = true,
	.avx512vl = true, .avx512dq = true, .avx512cd = true,
};
/* Xeon Phi style: AVX-512F without BW/VL, which SkylakeX kernels need */
static const struct ax_cpu avx512_knl = {
	.avx = true, .avx2 = true, .fma = true, .avx512f = true, .avx512cd = true,
};

static void test_choice_table(void **state)
{
	(void)state;
	static const struct {
		const struct ax_cpu *cpu;
		const char *core, *user, *guard, *want;
	} cases[] = {
		/* the machine of the issue: Prescott on AVX-512 */
		{ &avx512, "Prescott", NULL, NULL, "SkylakeX" },
		{ &avx512, "prescott", "", NULL, "SkylakeX" },   /* empty = unset */
		{ &avx512, "Nehalem", NULL, NULL, "SkylakeX" },
		{ &avx512, "Core2", NULL, NULL, "SkylakeX" },
		{ &avx2, "Prescott", NULL, NULL, "Haswell" },
		{ &avx512_knl, "Prescott", NULL, NULL, "Haswell" },
		/* nothing better to offer */
		{ &avx2_nofma, "Prescott", NULL, NULL, NULL },
		{ &sse, "Prescott", NULL, NULL, NULL },
		/* OpenBLAS knew the CPU */
		{ &avx512, "SkylakeX", NULL, NULL, NULL },
		{ &avx512, "Cooperlake", NULL, NULL, NULL },
		{ &avx512, "Zen", NULL, NULL, NULL },
		{ &avx2, "Haswell", NULL, NULL, NULL },
		/* the user's value is respected, whatever it is */
		{ &avx512, "Prescott", "Prescott", NULL, NULL },
		{ &avx512, "Haswell", "Haswell", NULL, NULL },
		/* already re-executed: never loop */
		{ &avx512, "Prescott", NULL, "SkylakeX", NULL },
		/* no name at all counts as generic */
		{ &avx512, "", NULL, NULL, "SkylakeX" },
		{ &avx512, NULL, NULL, NULL, "SkylakeX" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = ax_cpu_choose_coretype(cases[i].cpu, cases[i].core,
							 cases[i].user, cases[i].guard);
		if (!cases[i].want ? got != NULL : !got || strcmp(got, cases[i].want)) {
			print_error("case %zu: core %s user %s guard %s: got %s, want %s\n",
				    i, cases[i].core ? cases[i].core : "(null)",
				    cases[i].user ? cases[i].user : "(null)",
				    cases[i].guard ? cases[i].guard : "(null)",
				    got ? got : "(null)", cases[i].want ? cases[i].want : "(null)");
			fail();
		}
	}
}

static void test_generic_names(void **state)
{
	(void)state;
	assert_true(ax_cpu_core_is_generic("Prescott"));
	assert_true(ax_cpu_core_is_generic("PRESCOTT"));
	assert_true(ax_cpu_core_is_generic("Atom"));
	assert_false(ax_cpu_core_is_generic("SkylakeX"));
	assert_false(ax_cpu_core_is_generic("Haswell"));
	assert_false(ax_cpu_core_is_generic("Sandybridge"));
	assert_false(ax_cpu_core_is_generic("Zen"));
}

/* Detection: the implications the hardware guarantees. */
static void test_detect(void **state)
{
	(void)state;
	struct ax_cpu c;
	ax_cpu_detect(&c);
#if defined(__x86_64__)
	assert_true(c.family > 0);
	assert_int_equal(strlen(c.vendor), 12);
#endif
	if (c.avx512f)
		assert_true(c.avx2 && c.avx);
	if (c.avx2)
		assert_true(c.avx);
	if (c.avx512_bf16 || c.avx512_vnni)
		assert_true(c.avx512f);
	char buf[200];
	ax_cpu_describe(&c, buf, sizeof buf);
	assert_non_null(strstr(buf, "family"));
}

static void test_source(void **state)
{
	(void)state;
	unsetenv("OPENBLAS_CORETYPE");
	unsetenv(AX_CPU_GUARD_ENV);
	assert_string_equal(ax_cpu_blas_core_source(), "default");
	setenv("OPENBLAS_CORETYPE", "Haswell", 1);
	assert_string_equal(ax_cpu_blas_core_source(), "user");
	setenv(AX_CPU_GUARD_ENV, "SkylakeX", 1);  /* a guard for another value */
	assert_string_equal(ax_cpu_blas_core_source(), "user");
	setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
	assert_string_equal(ax_cpu_blas_core_source(), "auto");
	unsetenv("OPENBLAS_CORETYPE");
	unsetenv(AX_CPU_GUARD_ENV);
}

/* One line of `archex cpu --coretype` run under the given env prefix. */
static void cli_core(const char *env, char *out, size_t size)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "env -u OPENBLAS_CORETYPE -u %s %s %s cpu --coretype",
		 AX_CPU_GUARD_ENV, env, AX_CLI);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, (int)size, p));
	assert_int_equal(pclose(p), 0);
	out[strcspn(out, "\n")] = 0;
}

/* The CLI lands on the kernel the choice names for this CPU (or stays on
 * OpenBLAS's own when it is not generic), and keeps the user's. */
static void test_cli_reexec(void **state)
{
	(void)state;
	struct ax_cpu c;
	ax_cpu_detect(&c);
	char got[128];
	cli_core("", got, sizeof got);
	assert_false(ax_cpu_choose_coretype(&c, got, NULL, NULL));
	cli_core("OPENBLAS_CORETYPE=Prescott", got, sizeof got);
	assert_string_equal(got, "Prescott");
}

/* The re-executed CLI runs with OMP_WAIT_POLICY=passive when it was
 * unset (libgomp reads it at load), and keeps the user's value. */
static void test_cli_omp_wait(void **state)
{
	(void)state;
	static const struct { const char *env, *want; } cases[] = {
		{ "-u OMP_WAIT_POLICY", "passive" },
		{ "OMP_WAIT_POLICY=active", "active" },
		{ "-u OMP_WAIT_POLICY OPENBLAS_CORETYPE=Prescott", "passive" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char cmd[1024], line[256], got[128] = "";
		snprintf(cmd, sizeof cmd, "env -u OPENBLAS_CORETYPE -u %s %s %s cpu",
			 AX_CPU_GUARD_ENV, cases[i].env, AX_CLI);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		while (fgets(line, sizeof line, p))
			if (sscanf(line, "omp_wait %127s", got) == 1)
				break;
		while (fgets(line, sizeof line, p))
			;
		assert_int_equal(pclose(p), 0);
		assert_string_equal(got, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choice_table),
		cmocka_unit_test(test_generic_names),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_cli_reexec),
		cmocka_unit_test(test_cli_omp_wait),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
