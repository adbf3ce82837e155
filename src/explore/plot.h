/*
 * plot.h - renders the gnuplot templates in plots/ by running gnuplot as
 * an external program.
 *
 * gnuplot is started with fork/execv, never through a shell. The caller's
 * variables reach the template as gnuplot string assignments given with
 * -e (name='value', a quote doubled), so data paths and titles are never
 * parsed as commands: gnuplot expands neither backquotes nor @macros
 * inside single-quoted strings. Values with control characters are
 * refused. The driver sets the terminal (PNG: pngcairo; SVG: svg; both
 * 1000x700, white background, text without enhanced markup, so "attn_proj"
 * keeps its underscore) and the output, which is written under a
 * temporary name and renamed into place only when gnuplot succeeds.
 *
 * gnuplot is optional: ax_plot_available() says whether it is on PATH, so
 * callers can write their data files and skip the plots with a message.
 */
#ifndef AX_PLOT_H
#define AX_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum ax_plot_format {
	AX_PLOT_PNG,
	AX_PLOT_SVG,
	AX_PLOT_FORMAT_COUNT
};

/* "png", "svg": also the file extension. */
const char *ax_plot_format_name(enum ax_plot_format f);

/* A template variable, always passed as a gnuplot string; templates turn
 * numeric switches into numbers (logx = logx + 0). */
struct ax_plot_var {
	const char *name;   /* [A-Za-z_][A-Za-z0-9_]* */
	const char *value;
};

/* True if a gnuplot executable is on PATH; its path goes to buf (if
 * non-NULL). */
bool ax_plot_available(char *buf, size_t size);

/* Runs gnuplot on template_path with the terminal for fmt, output
 * out_path and the given variables. Fails with AX_ERR_IO if gnuplot is
 * missing ("gnuplot not found on PATH ..."), cannot be started, or
 * exits with an error (the message quotes gnuplot's first error line);
 * with AX_ERR_INPUT on a bad variable name or value. */
enum ax_status ax_plot_render(const char *template_path, const char *out_path,
			      enum ax_plot_format fmt,
			      const struct ax_plot_var *vars, int nvars,
			      struct ax_diag *d);

#endif
