/*
 * cli.h - what the archex subcommands share: the command table, strict
 * number parsing, human-readable numbers and diagnostics on stderr.
 * Exit codes: 0 success, 1 runtime or input error, 2 usage error.
 */
#ifndef AX_CLI_H
#define AX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "model.h"
#include "cost.h"
#include "diag.h"

enum { AX_EXIT_OK = 0, AX_EXIT_ERROR = 1, AX_EXIT_USAGE = 2 };

struct ax_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

int ax_cmd_count(int argc, char **argv);
int ax_cmd_graph(int argc, char **argv);
int ax_cmd_sweep(int argc, char **argv);
int ax_cmd_merge(int argc, char **argv);
int ax_cmd_plot(int argc, char **argv);
int ax_cmd_run(int argc, char **argv);
int ax_cmd_init(int argc, char **argv);
int ax_cmd_cpu(int argc, char **argv);
int ax_cmd_calibrate(int argc, char **argv);
int ax_cmd_data(int argc, char **argv);
int ax_cmd_bleu(int argc, char **argv);
int ax_cmd_import(int argc, char **argv);
int ax_cmd_eval(int argc, char **argv);
int ax_cmd_train(int argc, char **argv);
int ax_cmd_study(int argc, char **argv);

/* Prints "archex CMD: error: MSG" and a hint to use --help; returns 2. */
int ax_cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The option getopt_long just refused as unknown: "-x" from optopt (also
 * inside a cluster such as -xy, where argv[optind - 1] is the previous
 * argument), else the long option as given. */
const char *ax_cli_unknown_opt(char **argv);
/* The usage error for the option getopt_long just refused as unknown,
 * with the nearest long option of longopts as a hint ("did you mean
 * '--out'?"); returns 2. */
struct option;
int ax_cli_bad_option(const char *cmd, char **argv, const struct option *longopts);
/* Flushes stdout; on a write error (a full disk, a closed pipe) says so
 * on stderr. Returns the exit code: 0, or 1 after an error. */
int ax_cli_finish_stdout(const char *cmd);
/* Prints the diagnostic as FILE:LINE:COL: error: MSG. */
void ax_cli_print_diag(const struct ax_diag *d);
/* The process's peak resident set so far in bytes (VmHWM of
 * /proc/self/status; getrusage only as the fallback), -1 if unknown. */
int64_t ax_cli_peak_rss(void);

/* Whole-string integer in [min, max]; false on garbage or overflow. */
bool ax_cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Comma-separated integers in [min, max]; returns the count, -1 on error
 * (including more than max_n values). */
int ax_cli_parse_i64_list(const char *s, int64_t min, int64_t max,
			  int64_t *out, int max_n);
/* Index of s in names[0..n), or -1. */
int ax_cli_enum(const char *s, const char *const *names, int n);
/* "2.88M", "90.2M", "1.23G", "512" */
void ax_cli_human(char *buf, size_t size, int64_t v);
/* "1,234,567" */
void ax_cli_grouped(char *buf, size_t size, int64_t v);
/* A polynomial as "200*T^2 + 82800*T" (coefficients may be halves). */
void ax_cli_poly(char *buf, size_t size, const struct ax_poly *p);

/* Options shared by count and graph. */
struct ax_count_opts {
	enum ax_convention convention;
	enum ax_mode mode;
	int n_src, n_tgt;
	int64_t src_len[64];
	int64_t tgt_len[64];
};
/* Handles --convention, --mode, --src-len, --tgt-len; returns 1 if the
 * option was one of them, 0 if not, -1 (after printing) on a bad value. */
int ax_cli_count_opt(const char *cmd, int opt, const char *arg,
		     struct ax_count_opts *o);
void ax_cli_count_defaults(struct ax_count_opts *o);

/* The gnuplot templates: $ARCHEX_PLOTS_DIR, else the source tree's plots/
 * (compiled in as AX_DATA_DIR), else ./plots. */
const char *ax_cli_templates_dir(void);
/* The source tree (compiled in as AX_DATA_DIR), "." without it. */
const char *ax_cli_data_dir(void);
/* rel if it exists in the working directory, else AX_DATA_DIR/rel if
 * that exists (true), else false; the path found is in buf. */
bool ax_cli_data_path(char *buf, size_t size, const char *rel);

/* Loads and validates path; prints the diagnostic on failure. */
bool ax_cli_load(const char *path, struct ax_config *cfg);

/* The size of the buffers of ax_cli_run_dir. */
#define AX_CLI_RUN_PATH 4200

/* A run directory given as CONFIG (`archex train --out RUN`): *config
 * becomes RUN/config.yaml (in cfg_buf) and, if *weights is NULL and
 * want_weights, *weights becomes RUN/weights (in w_buf). Any other path
 * is left as it is. Returns false after printing "RUN: error: ..." when
 * the directory holds no config.yaml. */
bool ax_cli_run_dir(const char **config, const char **weights,
		    bool want_weights, char cfg_buf[AX_CLI_RUN_PATH],
		    char w_buf[AX_CLI_RUN_PATH]);

#endif
