/* cli.c - helpers the subcommands share (see cli.h). */
#include "cli.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

int ax_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "archex %s: error: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'archex %s --help'.\n", cmd);
	return AX_EXIT_USAGE;
}

const char *ax_cli_unknown_opt(char **argv)
{
	static char buf[8];
	if (optopt > 0 && optopt < 128 && isprint(optopt)) {
		snprintf(buf, sizeof buf, "-%c", optopt);
		return buf;
	}
	return argv[optind - 1];
}

int ax_cli_bad_option(const char *cmd, char **argv, const struct option *longopts)
{
	const char *arg = ax_cli_unknown_opt(argv);
	const char *best = NULL;
	int dist = 3;
	if (!strncmp(arg, "--", 2)) {
		/* compare the name only, without "=value" */
		size_t n = strcspn(arg + 2, "=");
		for (const struct option *o = longopts; o->name; o++) {
			int e = ax_edit_distance_n(arg + 2, n, o->name, strlen(o->name), 2);
			if (e < dist) {
				dist = e;
				best = o->name;
			}
		}
	}
	if (best)
		return ax_cli_usage_error(cmd, "unknown option '%s'; did you mean '--%s'?", arg, best);
	return ax_cli_usage_error(cmd, "unknown option '%s'", arg);
}

int ax_cli_finish_stdout(const char *cmd)
{
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return AX_EXIT_OK;
	fprintf(stderr, "archex %s: error: cannot write the output: %s\n", cmd,
		errno ? strerror(errno) : "write error");
	return AX_EXIT_ERROR;
}

void ax_cli_print_diag(const struct ax_diag *d)
{
	char buf[2048];
	ax_diag_format(d, buf, sizeof buf);
	fprintf(stderr, "%s\n", buf);
}

bool ax_cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int ax_cli_parse_i64_list(const char *s, int64_t min, int64_t max,
			  int64_t *out, int max_n)
{
	char buf[1024];
	if (!s || strlen(s) >= sizeof buf)
		return -1;
	/* every item must be a number: "1,,2", ",1" and "1," are errors */
	int n = 0;
	for (const char *p = s;; p++) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (n == max_n || !ax_cli_parse_i64(buf, min, max, &out[n]))
			return -1;
		n++;
		if (!comma)
			return n;
		p = comma;
	}
}

int ax_cli_enum(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

void ax_cli_human(char *buf, size_t size, int64_t v)
{
	double a = (double)(v < 0 ? -v : v);
	const char *suffix = "";
	double x = (double)v;
	if (a >= 1e9) {
		x /= 1e9;
		suffix = "G";
	} else if (a >= 1e6) {
		x /= 1e6;
		suffix = "M";
	} else if (a >= 1e3) {
		x /= 1e3;
		suffix = "K";
	} else {
		snprintf(buf, size, "%" PRId64, v);
		return;
	}
	double ax = x < 0 ? -x : x;
	snprintf(buf, size, ax >= 100 ? "%.0f%s" : ax >= 10 ? "%.1f%s" : "%.2f%s",
		 x, suffix);
}

void ax_cli_grouped(char *buf, size_t size, int64_t v)
{
	char raw[32];
	snprintf(raw, sizeof raw, "%" PRId64, v < 0 ? -v : v);
	size_t n = strlen(raw), o = 0;
	if (v < 0 && o + 1 < size)
		buf[o++] = '-';
	for (size_t i = 0; i < n && o + 2 < size; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = raw[i];
	}
	buf[o] = '\0';
}

void ax_cli_poly(char *buf, size_t size, const struct ax_poly *p)
{
	static const enum ax_mono order[] = { AX_MONO_SS, AX_MONO_ST, AX_MONO_TT,
					      AX_MONO_S, AX_MONO_T, AX_MONO_1 };
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		int64_t h = p->h[order[i]];
		if (!h || o >= size)
			continue;
		char coef[40];
		int64_t ah = h < 0 ? -h : h;
		if (ah % 2)
			snprintf(coef, sizeof coef, "%" PRId64 ".5", ah / 2);
		else
			snprintf(coef, sizeof coef, "%" PRId64, ah / 2);
		const char *sep = o ? (h < 0 ? " - " : " + ") : (h < 0 ? "-" : "");
		if (order[i] == AX_MONO_1)
			o += snprintf(buf + o, size - o, "%s%s", sep, coef);
		else
			o += snprintf(buf + o, size - o, "%s%s*%s", sep, coef,
				      ax_mono_names[order[i]]);
	}
	if (!buf[0])
		snprintf(buf, size, "0");
}

void ax_cli_count_defaults(struct ax_count_opts *o)
{
	memset(o, 0, sizeof *o);
	o->convention = AX_CONVENTION_EXACT;
	o->mode = AX_MODE_SEQUENCE;
	o->n_src = o->n_tgt = 1;
	o->src_len[0] = o->tgt_len[0] = 30;
}

int ax_cli_count_opt(const char *cmd, int opt, const char *arg,
		     struct ax_count_opts *o)
{
	int k;
	switch (opt) {
	case 'c':
		k = ax_cli_enum(arg, ax_convention_names, AX_CONVENTION_COUNT);
		if (k < 0)
			return ax_cli_usage_error(cmd, "--convention must be exact or paper, not '%s'", arg), -1;
		o->convention = (enum ax_convention)k;
		return 1;
	case 'm':
		k = ax_cli_enum(arg, ax_mode_names, AX_MODE_COUNT);
		if (k < 0)
			return ax_cli_usage_error(cmd, "--mode must be sequence or incremental, not '%s'", arg), -1;
		o->mode = (enum ax_mode)k;
		return 1;
	case 's':
		o->n_src = ax_cli_parse_i64_list(arg, 1, 1 << 20, o->src_len, 64);
		if (o->n_src < 0)
			return ax_cli_usage_error(cmd, "--src-len wants integers in 1..1048576 separated by commas, not '%s'", arg), -1;
		return 1;
	case 't':
		o->n_tgt = ax_cli_parse_i64_list(arg, 1, 1 << 20, o->tgt_len, 64);
		if (o->n_tgt < 0)
			return ax_cli_usage_error(cmd, "--tgt-len wants integers in 1..1048576 separated by commas, not '%s'", arg), -1;
		return 1;
	}
	return 0;
}

bool ax_cli_load(const char *path, struct ax_config *cfg)
{
	struct ax_diag d = { 0 };
	if (ax_config_load(path, cfg, &d) != AX_OK) {
		ax_cli_print_diag(&d);
		return false;
	}
	return true;
}

bool ax_cli_run_dir(const char **config, const char **weights,
		    bool want_weights, char cfg_buf[AX_CLI_RUN_PATH],
		    char w_buf[AX_CLI_RUN_PATH])
{
	struct stat sb;
	if (stat(*config, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return true;
	const char *dir = *config;
	if ((size_t)snprintf(cfg_buf, AX_CLI_RUN_PATH, "%s/config.yaml", dir) >=
		    AX_CLI_RUN_PATH ||
	    (size_t)snprintf(w_buf, AX_CLI_RUN_PATH, "%s/weights", dir) >=
		    AX_CLI_RUN_PATH) {
		fprintf(stderr, "%s: error: path too long\n", dir);
		return false;
	}
	if (access(cfg_buf, F_OK) != 0) {
		fprintf(stderr, "%s: error: a directory without config.yaml: give "
			"a config file, or a run directory written by 'archex "
			"train'\n", dir);
		return false;
	}
	*config = cfg_buf;
	if (!*weights && want_weights)
		*weights = w_buf;
	return true;
}

const char *ax_cli_data_dir(void)
{
#ifdef AX_DATA_DIR
	return AX_DATA_DIR;
#else
	return ".";
#endif
}

bool ax_cli_data_path(char *buf, size_t size, const char *rel)
{
	struct stat sb;
	snprintf(buf, size, "%s", rel);
	if (!stat(buf, &sb))
		return true;
	snprintf(buf, size, "%s/%s", ax_cli_data_dir(), rel);
	return !stat(buf, &sb);
}

const char *ax_cli_templates_dir(void)
{
	const char *e = getenv("ARCHEX_PLOTS_DIR");
	if (e && *e)
		return e;
#ifdef AX_DATA_DIR
	return AX_DATA_DIR "/plots";
#else
	return "plots";
#endif
}

/* The process's peak resident set so far, in bytes: VmHWM of
 * /proc/self/status, the high-water mark of this program's own memory.
 * getrusage's ru_maxrss is only the fallback: Linux carries it across
 * execve, so a train started by a large parent (a Python benchmark
 * that has run PyTorch) reports the parent's size, copied by fork. */
int64_t ax_cli_peak_rss(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %lld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	if (kb >= 0)
		return (int64_t)kb * 1024;
	struct rusage u;
	return getrusage(RUSAGE_SELF, &u) ? -1 : (int64_t)u.ru_maxrss * 1024;
}
