/*
 * diag.h - status codes and caller-owned diagnostics.
 *
 * Library functions return enum ax_status and, on failure, fill a
 * struct ax_diag that the caller owns. The library never prints and never
 * calls exit(); the CLI formats the diagnostic as
 *     FILE:LINE:COL: error: MESSAGE
 * (GCC's convention). Lines and columns are 1-based; 0 means "unknown",
 * in which case the formatter omits them.
 */
#ifndef AX_DIAG_H
#define AX_DIAG_H

#include <stddef.h>

enum ax_status {
	AX_OK = 0,
	AX_ERR_INPUT,     /* bad config, bad sweep, bad flag value */
	AX_ERR_IO,        /* cannot open, read or write a file */
	AX_ERR_NOMEM,     /* allocation failed */
	AX_ERR_LIMIT,     /* a size beyond what archex accepts */
	AX_ERR_FORMAT,    /* a corrupt or foreign binary file */
	AX_ERR_INTERNAL,  /* a bug of ours that was caught */
	AX_STATUS_COUNT
};

struct ax_diag {
	enum ax_status status;
	char file[512];   /* path of the offending file, "" if none */
	int line;         /* 1-based; 0 = unknown */
	int col;          /* 1-based; 0 = unknown */
	char msg[1024];
};

const char *ax_status_name(enum ax_status s);

/* Sets every field of d (if d is non-NULL) and returns status, so that
 * failures read `return ax_diag_set(d, AX_ERR_INPUT, path, l, c, "...")`. */
enum ax_status ax_diag_set(struct ax_diag *d, enum ax_status status,
			   const char *file, int line, int col,
			   const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Writes "file:line:col: error: msg" (parts omitted when unknown) into
 * buf; returns what snprintf returns. */
int ax_diag_format(const struct ax_diag *d, char *buf, size_t size);

#endif
