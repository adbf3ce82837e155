/*
 * cpu.h - what the CPU can do, and which OpenBLAS kernel to run on it.
 *
 * Debian's OpenBLAS (0.3.21) picks its kernel when the library loads, from
 * a table of CPU models. On a model it does not know (e.g. a Xeon of
 * family 6, model 207) it falls back to a generic SSE3 kernel (Prescott),
 * about five times slower than the AVX-512 one the CPU could run
 * (docs/performance.md). OPENBLAS_CORETYPE overrides the choice, but only
 * when the library loads, so a program that wants another kernel has to
 * re-execute itself with the variable set: the CLI does this once at
 * start (src/cli/main.c); this module only decides.
 *
 * Features are "usable": the CPUID bit and the OS saving the register
 * state (XGETBV), so a VM that hides AVX-512 state reports no AVX-512.
 */
#ifndef AX_CPU_H
#define AX_CPU_H

#include <stdbool.h>
#include <stddef.h>

struct ax_cpu {
	char vendor[13];     /* "GenuineIntel", "AuthenticAMD", "" elsewhere */
	char brand[49];      /* "Intel(R) Xeon(R) Processor", trimmed */
	int family, model;   /* display family and model, as /proc/cpuinfo */
	bool avx, avx2, fma;
	bool avx512f, avx512bw, avx512vl, avx512dq, avx512cd;
	bool avx512_vnni, avx512_bf16, avx512_fp16;
};

/* Fills c from CPUID and XGETBV (all false on a non-x86 build). */
void ax_cpu_detect(struct ax_cpu *c);

/* The environment variable that marks a process archex re-executed with
 * its own OPENBLAS_CORETYPE choice (its value is that choice). */
#define AX_CPU_GUARD_ENV "ARCHEX_CORETYPE_CHOSEN"

/* The OpenBLAS kernel to re-execute with, or NULL to stay as we are:
 *   - NULL if the guard is set (we already re-executed: never loop);
 *   - NULL if the user set OPENBLAS_CORETYPE (user_env non-empty): a
 *     value the user set is always respected;
 *   - NULL unless `corename` (openblas_get_corename()) is a generic or
 *     pre-AVX core (ax_cpu_core_is_generic);
 *   - "SkylakeX" if AVX-512 F/BW/VL/DQ/CD are usable, else "Haswell" if
 *     AVX2 and FMA are, else NULL.
 * A pure function of its arguments, so tests can walk a table of cases. */
const char *ax_cpu_choose_coretype(const struct ax_cpu *c, const char *corename,
				   const char *user_env, const char *guard);

/* True for the cores OpenBLAS falls back to on an unknown CPU, and the
 * pre-AVX ones (Prescott, Core2, Nehalem, Atom, Opteron, ...); compared
 * without case. */
bool ax_cpu_core_is_generic(const char *corename);

/* The kernel OpenBLAS loaded (openblas_get_corename()). */
const char *ax_cpu_blas_core(void);

/* Where that kernel came from: "auto" (archex re-executed with its
 * choice), "user" (OPENBLAS_CORETYPE set by the user) or "default"
 * (OpenBLAS's own detection), from the environment. */
const char *ax_cpu_blas_core_source(void);

/* "Intel(R) Xeon(R) Processor (family 6 model 207; avx512 bf16 vnni)" */
void ax_cpu_describe(const struct ax_cpu *c, char *buf, size_t size);

#endif
