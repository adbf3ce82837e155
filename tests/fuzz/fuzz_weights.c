/*
 * fuzz_weights.c - libFuzzer target for the weights-file loader: any
 * bytes as a weights file must be rejected with a diagnostic or loaded,
 * never crash, leak, hang or write outside the caller's buffers (ASan
 * sees the exact-size buffers below). The model expects three tensors;
 * the committed seed (tests/fuzz/regress-weights/valid.axw) is a valid
 * file for them. Built with -DAX_FUZZ=ON (clang).
 */
#define _POSIX_C_SOURCE 200809L  /* mkstemp; the fuzz build sets no flags */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weights.h"

static char path[] = "/tmp/archex-fuzz-weights-XXXXXX";
static int fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0 && (fd = mkstemp(path)) < 0)
		abort();
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	/* exact-size heap buffers: an overrun is an ASan report */
	float *a = malloc(2 * 3 * sizeof *a), *b = malloc(4 * sizeof *b);
	float *c = malloc(1);   /* (0, 5): no data */
	if (!a || !b || !c)
		abort();
	const struct ax_weights_entry e[] = {
		{ .name = "enc.0.fc1.weight", .rows = 2, .cols = 3, .data = a },
		{ .name = "enc.0.fc1.bias", .rows = 4, .cols = 1, .data = b },
		{ .name = "empty", .rows = 0, .cols = 5, .data = c },
	};
	struct ax_diag d = { 0 };
	enum ax_status st = ax_weights_load(path, e, 3, &d);
	if (st != AX_OK && (d.msg[0] == '\0' ||
			    (st != AX_ERR_FORMAT && st != AX_ERR_IO)))
		abort();   /* a rejection must say why, as a format error */
	free(a);
	free(b);
	free(c);
	return 0;
}
