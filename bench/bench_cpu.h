/*
 * bench_cpu.h - the benchmarks' start: the same OpenBLAS kernel choice as
 * the archex CLI (src/cli/main.c, cpu.h), so their figures are on the
 * kernel `archex run` gets, and a line naming kernel and CPU.
 */
#ifndef AX_BENCH_CPU_H
#define AX_BENCH_CPU_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cpu.h"

/* Re-executes the benchmark once with OPENBLAS_CORETYPE chosen from
 * CPUID when OpenBLAS fell back to a generic kernel; keeps a user's value. */
static inline void bench_choose_kernel(char **argv)
{
	struct ax_cpu c;
	ax_cpu_detect(&c);
	const char *core = ax_cpu_choose_coretype(&c, ax_cpu_blas_core(),
						  getenv("OPENBLAS_CORETYPE"),
						  getenv(AX_CPU_GUARD_ENV));
	char self[4096];
	ssize_t n = core ? readlink("/proc/self/exe", self, sizeof self - 1) : -1;
	if (n <= 0)
		return;
	self[n] = 0;
	setenv("OPENBLAS_CORETYPE", core, 1);
	setenv(AX_CPU_GUARD_ENV, core, 1);
	execv(self, argv);
	unsetenv("OPENBLAS_CORETYPE");
	unsetenv(AX_CPU_GUARD_ENV);
}

/* "SkylakeX (auto); Intel(R) Xeon(R) Processor (family 6 model 207; ...)" */
static inline void bench_describe_kernel(char *buf, size_t size)
{
	struct ax_cpu c;
	char cpu[160];
	ax_cpu_detect(&c);
	ax_cpu_describe(&c, cpu, sizeof cpu);
	snprintf(buf, size, "%s (%s); CPU %s", ax_cpu_blas_core(),
		 ax_cpu_blas_core_source(), cpu);
}

#endif
