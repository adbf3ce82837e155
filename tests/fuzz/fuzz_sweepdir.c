/*
 * fuzz_sweepdir.c - libFuzzer target for the readers `archex merge` and
 * `sweep --resume` apply to a sweep directory: the input's first line is
 * sweep.json, the rest points.jsonl. Any bytes must be read or rejected
 * with a diagnostic, never crash, leak or overflow (UBSan: a number cast
 * out of range); records that are read must make the tables (Pareto
 * fronts, best per budget) without fault. The seed
 * (tests/fuzz/regress-sweepdir/) is a real two-point directory. Built
 * with -DAX_FUZZ=ON (clang).
 */
#define _POSIX_C_SOURCE 200809L  /* mkstemp; the fuzz build sets no flags */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sweep_out.h"

static char meta_path[] = "/tmp/archex-fuzz-meta-XXXXXX";
static char pts_path[] = "/tmp/archex-fuzz-points-XXXXXX";
static int meta_fd = -1, pts_fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put(int fd, const uint8_t *p, size_t n)
{
	if (ftruncate(fd, 0) != 0 || pwrite(fd, p, n, 0) != (ssize_t)n)
		abort();
}

static enum ax_status count_id(void *ctx, const char *id, size_t len, int64_t line,
			       struct ax_diag *d)
{
	(void)id;
	(void)line;
	(void)d;
	*(size_t *)ctx += len;
	return AX_OK;
}

/* A rejection must say why. */
static void said(enum ax_status st, const struct ax_diag *d)
{
	if (st != AX_OK && d->msg[0] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if ((meta_fd < 0 && (meta_fd = mkstemp(meta_path)) < 0) ||
	    (pts_fd < 0 && (pts_fd = mkstemp(pts_path)) < 0))
		abort();
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first = nl ? (size_t)(nl - data) + 1 : size;
	put(meta_fd, data, first);
	put(pts_fd, data + first, size - first);
	struct ax_sweep_meta m;
	struct ax_diag d = { 0 };
	enum ax_status st = ax_sweep_meta_read(&m, meta_path, &d);
	said(st, &d);
	if (st)
		return 0;
	struct ax_sweep_ident id;
	d = (struct ax_diag){ 0 };
	st = ax_sweep_ident_read(&id, meta_path, &d);
	said(st, &d);
	if (!st) {
		char msg[512];
		ax_sweep_ident_diff(&id, "a", &id, "b", msg, sizeof msg);
		ax_sweep_ident_free(&id);
	}
	/* --resume's reader, then merge's, then the tables */
	struct ax_sweep_recs rs = { 0 };
	struct ax_sweep_read_pos pos;
	size_t ids = 0;
	d = (struct ax_diag){ 0 };
	said(ax_sweep_resume_read(&rs, &m, pts_path, count_id, &ids, &pos, &d), &d);
	ax_sweep_recs_free(&rs);
	d = (struct ax_diag){ 0 };
	st = ax_sweep_recs_read(&rs, &m, pts_path, &d);
	said(st, &d);
	if (!st) {
		ax_sweep_recs_finish(&rs);
		bool *on = calloc((size_t)rs.n + 1, sizeof *on);
		if (!on)
			abort();
		if (ax_sweep_front(&m, &rs, on, &d) == AX_OK) {
			FILE *f = fopen("/dev/null", "w");
			if (!f)
				abort();
			ax_sweep_write_pareto(f, &m, &rs, on);
			ax_sweep_write_best(f, &m, &rs);
			ax_sweep_write_plot_fronts(f, &m, &rs, on);
			fclose(f);
		}
		free(on);
	}
	ax_sweep_recs_free(&rs);
	return 0;
}
