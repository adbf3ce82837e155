/* diag.c - status names and diagnostic formatting (see diag.h). */
#include "diag.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
	[AX_OK] = "ok",
	[AX_ERR_INPUT] = "input error",
	[AX_ERR_IO] = "I/O error",
	[AX_ERR_NOMEM] = "out of memory",
	[AX_ERR_LIMIT] = "limit exceeded",
	[AX_ERR_FORMAT] = "format error",
	[AX_ERR_INTERNAL] = "internal error",
};
static_assert(sizeof status_names / sizeof status_names[0] == AX_STATUS_COUNT,
	      "every status needs a name");

const char *ax_status_name(enum ax_status s)
{
	return (unsigned)s < AX_STATUS_COUNT ? status_names[s] : "unknown status";
}

enum ax_status ax_diag_set(struct ax_diag *d, enum ax_status status,
			   const char *file, int line, int col,
			   const char *fmt, ...)
{
	if (!d)
		return status;
	d->status = status;
	snprintf(d->file, sizeof d->file, "%s", file ? file : "");
	d->line = line;
	d->col = col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof d->msg, fmt, ap);
	va_end(ap);
	return status;
}

int ax_diag_format(const struct ax_diag *d, char *buf, size_t size)
{
	if (d->file[0] && d->line > 0)
		return snprintf(buf, size, "%s:%d:%d: error: %s", d->file,
				d->line, d->col > 0 ? d->col : 1, d->msg);
	if (d->file[0])
		return snprintf(buf, size, "%s: error: %s", d->file, d->msg);
	return snprintf(buf, size, "error: %s", d->msg);
}
