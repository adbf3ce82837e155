/*
 * cpu.c - CPU feature detection (CPUID + XGETBV) and the choice of the
 * OpenBLAS kernel (cpu.h). The choice is a pure function so it can be
 * tested on a table of CPUs; the re-execution is the CLI's.
 */
#include "cpu.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define AX_X86 1
#endif

/* OpenBLAS's kernel name (not in every cblas.h). */
char *openblas_get_corename(void);

#ifdef AX_X86
/* XCR0: which register states the OS saves on a context switch. */
static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static void trim_brand(char *s)
{
	size_t n = strlen(s), i = 0;
	while (n > 0 && s[n - 1] == ' ')
		s[--n] = 0;
	while (s[i] == ' ')
		i++;
	memmove(s, s + i, n - i + 1);
}

static void detect_names(struct ax_cpu *c, unsigned max_leaf, unsigned b,
			 unsigned cx, unsigned dx)
{
	memcpy(c->vendor, &b, 4);
	memcpy(c->vendor + 4, &dx, 4);
	memcpy(c->vendor + 8, &cx, 4);
	c->vendor[12] = 0;
	unsigned a;
	if (__get_cpuid(0x80000000u, &a, &b, &cx, &dx) && a >= 0x80000004u) {
		unsigned r[12];
		for (unsigned i = 0; i < 3; i++)
			__get_cpuid(0x80000002u + i, &r[4 * i], &r[4 * i + 1],
				    &r[4 * i + 2], &r[4 * i + 3]);
		memcpy(c->brand, r, 48);
		c->brand[48] = 0;
		trim_brand(c->brand);
	}
	(void)max_leaf;
}
#endif

void ax_cpu_detect(struct ax_cpu *c)
{
	memset(c, 0, sizeof *c);
#ifdef AX_X86
	unsigned max_leaf, a, b, cx, dx;
	if (!__get_cpuid(0, &max_leaf, &b, &cx, &dx))
		return;
	detect_names(c, max_leaf, b, cx, dx);
	if (max_leaf < 1 || !__get_cpuid(1, &a, &b, &cx, &dx))
		return;
	/* display family and model (Intel SDM vol. 2A, CPUID leaf 1) */
	c->family = (int)((a >> 8) & 0xf);
	c->model = (int)((a >> 4) & 0xf);
	if (c->family == 0xf)
		c->family += (int)((a >> 20) & 0xff);
	if (c->family == 6 || c->family >= 0xf)
		c->model += (int)(((a >> 16) & 0xf) << 4);
	bool osxsave = cx & (1u << 27);
	uint64_t xcr0 = osxsave ? xgetbv0() : 0;
	bool ymm = (xcr0 & 0x6) == 0x6;          /* SSE + AVX state */
	bool zmm = ymm && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM0-15, ZMM16-31 */
	c->avx = ymm && (cx & (1u << 28));
	c->fma = ymm && (cx & (1u << 12));
	if (max_leaf < 7 || !__get_cpuid_count(7, 0, &a, &b, &cx, &dx))
		return;
	unsigned sub1 = a;   /* leaf 7: the highest subleaf */
	c->avx2 = ymm && (b & (1u << 5));
	c->avx512f = zmm && (b & (1u << 16));
	c->avx512dq = zmm && (b & (1u << 17));
	c->avx512cd = zmm && (b & (1u << 28));
	c->avx512bw = zmm && (b & (1u << 30));
	c->avx512vl = zmm && (b & (1u << 31));
	c->avx512_vnni = zmm && (cx & (1u << 11));
	c->avx512_fp16 = zmm && (dx & (1u << 23));
	if (sub1 >= 1 && __get_cpuid_count(7, 1, &a, &b, &cx, &dx))
		c->avx512_bf16 = zmm && (a & (1u << 5));
#endif
}

bool ax_cpu_core_is_generic(const char *corename)
{
	/* OpenBLAS's x86 fallbacks and its pre-AVX cores (driver/others/
	 * dynamic.c's corename table); "unknown" when it names none. */
	static const char *const generic[] = {
		"prescott", "katmai", "coppermine", "northwood", "banias",
		"core2", "penryn", "dunnington", "nehalem", "atom", "opteron",
		"opteron_sse3", "barcelona", "bobcat", "generic", "unknown",
	};
	if (!corename || !*corename)
		return true;
	for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
		if (!strcasecmp(corename, generic[i]))
			return true;
	return false;
}

const char *ax_cpu_choose_coretype(const struct ax_cpu *c, const char *corename,
				   const char *user_env, const char *guard)
{
	if (guard && *guard)
		return NULL;
	if (user_env && *user_env)
		return NULL;
	if (!ax_cpu_core_is_generic(corename))
		return NULL;
	if (c->avx512f && c->avx512bw && c->avx512vl && c->avx512dq && c->avx512cd)
		return "SkylakeX";
	if (c->avx2 && c->fma)
		return "Haswell";
	return NULL;
}

const char *ax_cpu_blas_core(void)
{
	const char *s = openblas_get_corename();
	return s ? s : "unknown";
}

const char *ax_cpu_blas_core_source(void)
{
	const char *ct = getenv("OPENBLAS_CORETYPE");
	const char *guard = getenv(AX_CPU_GUARD_ENV);
	if (ct && *ct)
		return guard && !strcmp(guard, ct) ? "auto" : "user";
	return "default";
}

void ax_cpu_describe(const struct ax_cpu *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s (family %d model %d;%s%s%s%s%s)",
		 *c->brand ? c->brand : (*c->vendor ? c->vendor : "unknown CPU"),
		 c->family, c->model,
		 c->avx512f ? " avx512" : c->avx2 ? " avx2" : c->avx ? " avx" : " sse",
		 c->avx512_bf16 ? " bf16" : "", c->avx512_vnni ? " vnni" : "",
		 c->avx512_fp16 ? " fp16" : "", c->fma ? " fma" : "");
}
