/*
 * plot.c - gnuplot driver: finds gnuplot, quotes variables, runs it with
 * fork/execv and reports its errors (see plot.h).
 */
#include "plot.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic_io.h"

#define GP_PATH_MAX 4096

static const char *const format_names[] = {
	[AX_PLOT_PNG] = "png",
	[AX_PLOT_SVG] = "svg",
};
static_assert(sizeof format_names / sizeof format_names[0] ==
	      AX_PLOT_FORMAT_COUNT, "every plot format needs a name");

/* gnuplot terminal per format; %s is nothing, sizes in pixels. */
static const char *const terminals[] = {
	[AX_PLOT_PNG] = "set terminal pngcairo size 1000,700 noenhanced "
			"font 'DejaVu Sans,11' background rgb 'white'",
	[AX_PLOT_SVG] = "set terminal svg size 1000,700 dynamic noenhanced "
			"font 'DejaVu Sans,11' background rgb 'white'",
};
static_assert(sizeof terminals / sizeof terminals[0] == AX_PLOT_FORMAT_COUNT,
	      "every plot format needs a terminal");

const char *ax_plot_format_name(enum ax_plot_format f)
{
	return (unsigned)f < AX_PLOT_FORMAT_COUNT ? format_names[f] : "unknown";
}

bool ax_plot_available(char *buf, size_t size)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/bin:/bin";
	char cand[GP_PATH_MAX];
	const char *p = path;
	for (;;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		/* An empty PATH entry means the current directory. */
		int w = n ? snprintf(cand, sizeof cand, "%.*s/gnuplot", (int)n, p)
			  : snprintf(cand, sizeof cand, "./gnuplot");
		struct stat st;
		if (w > 0 && (size_t)w < sizeof cand && stat(cand, &st) == 0 &&
		    S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
			if (buf && size)
				snprintf(buf, size, "%s", cand);
			return true;
		}
		if (!colon)
			return false;
		p = colon + 1;
	}
}

static bool valid_name(const char *s)
{
	if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Appends 'value' as a gnuplot single-quoted string ('' for a quote)
 * to out; returns false if it does not fit or holds a control byte. */
static bool append_quoted(char *out, size_t size, const char *value)
{
	size_t o = strlen(out);
	if (o + 1 >= size)
		return false;
	out[o++] = '\'';
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (o + 3 >= size)
			return false;
		if (*p == '\'')
			out[o++] = '\'';
		out[o++] = (char)*p;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return true;
}

/* The first line of gnuplot's stderr that looks like an error, or the
 * last non-empty line. */
static void first_error(const char *text, char *out, size_t size)
{
	const char *hit = strstr(text, "error");
	if (!hit)
		hit = strstr(text, "Error");
	const char *start;
	if (hit) {
		start = hit;
		while (start > text && start[-1] != '\n')
			start--;
	} else {
		const char *end = text + strlen(text);
		while (end > text && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		start = end;
		while (start > text && start[-1] != '\n')
			start--;
	}
	size_t n = strcspn(start, "\n");
	snprintf(out, size, "%.*s", (int)n, start);
}

/* "name='value'; ..." for one gnuplot -e, in a new buffer (*out, caller
 * frees); values are quoted by append_quoted. */
static enum ax_status var_commands(const char *template_path,
				   const struct ax_plot_var *vars, int nvars,
				   char **out, struct ax_diag *d)
{
	size_t vcap = 64;
	for (int i = 0; i < nvars; i++)
		vcap += strlen(vars[i].name ? vars[i].name : "") +
			2 * strlen(vars[i].value ? vars[i].value : "") + 8;
	char *varcmd = malloc(vcap);
	*out = varcmd;
	if (!varcmd)
		return ax_diag_set(d, AX_ERR_NOMEM, template_path, 0, 0, "out of memory");
	varcmd[0] = '\0';
	for (int i = 0; i < nvars; i++) {
		if (!valid_name(vars[i].name) || !vars[i].value)
			return ax_diag_set(d, AX_ERR_INPUT, template_path, 0, 0,
					   "plot variable %d: bad name \"%s\" or no value",
					   i, vars[i].name ? vars[i].name : "(null)");
		strcat(varcmd, vars[i].name);
		strcat(varcmd, "=");
		if (!append_quoted(varcmd, vcap, vars[i].value))
			return ax_diag_set(d, AX_ERR_INPUT, template_path, 0, 0,
					   "plot variable %s: value holds a control "
					   "character", vars[i].name);
		strcat(varcmd, "; ");
	}
	return AX_OK;
}

/* Runs gnuplot -e termcmd -e varcmd template with stdin from /dev/null
 * and stdout and stderr collected into errbuf (NUL-terminated, cut to
 * size); *status gets the waitpid status. */
static enum ax_status run_gnuplot(const char *gnuplot, char *termcmd, char *varcmd,
				  const char *template_path, const char *out_path,
				  char *errbuf, size_t size, int *status,
				  struct ax_diag *d)
{
	int pipefd[2];
	if (pipe(pipefd) != 0)
		return ax_diag_set(d, AX_ERR_IO, out_path, 0, 0, "pipe: %s",
				   strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		enum ax_status s = ax_diag_set(d, AX_ERR_IO, out_path, 0, 0,
					       "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return s;
	}
	if (pid == 0) {
		/* Child: stdin from /dev/null, stdout and stderr to the pipe. */
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0) {
			dup2(null, 0);
			close(null);
		}
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		char *argv[] = {(char *)gnuplot, "-e", termcmd, "-e", varcmd,
				(char *)template_path, NULL};
		execv(gnuplot, argv);
		_exit(127);
	}
	close(pipefd[1]);
	size_t elen = 0;
	for (;;) {
		char chunk[1024];
		ssize_t r = read(pipefd[0], chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t take = (size_t)r;
		if (take > size - 1 - elen)
			take = size - 1 - elen;
		memcpy(errbuf + elen, chunk, take);
		elen += take;
	}
	errbuf[elen] = '\0';
	close(pipefd[0]);
	*status = 0;
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return AX_OK;
}

enum ax_status ax_plot_render(const char *template_path, const char *out_path,
			      enum ax_plot_format fmt,
			      const struct ax_plot_var *vars, int nvars,
			      struct ax_diag *d)
{
	if ((unsigned)fmt >= AX_PLOT_FORMAT_COUNT || nvars < 0 ||
	    (nvars > 0 && !vars))
		return ax_diag_set(d, AX_ERR_INPUT, template_path, 0, 0,
				   "plot: bad format or variable list");
	char gnuplot[GP_PATH_MAX];
	if (!ax_plot_available(gnuplot, sizeof gnuplot))
		return ax_diag_set(d, AX_ERR_IO, out_path, 0, 0,
				   "gnuplot not found on PATH; install gnuplot "
				   "(Debian: gnuplot-nox) to draw plots; the data "
				   "files are unaffected");
	struct stat st;
	if (stat(template_path, &st) != 0)
		return ax_diag_set(d, AX_ERR_IO, template_path, 0, 0,
				   "open plot template: %s", strerror(errno));
	/* gnuplot writes a temporary beside out_path; fail early, naming
	 * out_path, rather than with gnuplot's message about the temporary */
	enum ax_status cs = ax_atomic_check_dir(out_path, d);
	if (cs != AX_OK)
		return cs;

	/* argv: gnuplot -e TERM -e VARS template NULL; the variables go into
	 * one -e so their number does not bound argv. */
	char *varcmd = NULL;
	char *termcmd = malloc(2 * GP_PATH_MAX + 256);
	char *tmp = malloc(GP_PATH_MAX + 64);
	enum ax_status s = var_commands(template_path, vars, nvars, &varcmd, d);
	if (s)
		goto free_bufs;
	if (!termcmd || !tmp) {
		s = ax_diag_set(d, AX_ERR_NOMEM, out_path, 0, 0, "out of memory");
		goto free_bufs;
	}
	if ((size_t)snprintf(tmp, GP_PATH_MAX + 64, "%s.tmp.%ld", out_path,
			     (long)getpid()) >= GP_PATH_MAX + 64) {
		s = ax_diag_set(d, AX_ERR_LIMIT, out_path, 0, 0, "path too long");
		goto free_bufs;
	}
	snprintf(termcmd, 2 * GP_PATH_MAX + 256, "%s; set encoding utf8; "
		 "set output ", terminals[fmt]);
	if (!append_quoted(termcmd, 2 * GP_PATH_MAX + 256, tmp)) {
		s = ax_diag_set(d, AX_ERR_INPUT, out_path, 0, 0,
				"output path holds a control character");
		goto free_bufs;
	}

	char errbuf[4096];
	int status;
	if ((s = run_gnuplot(gnuplot, termcmd, varcmd, template_path, out_path,
			     errbuf, sizeof errbuf, &status, d)))
		goto free_bufs;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char line[512];
		first_error(errbuf, line, sizeof line);
		s = ax_diag_set(d, AX_ERR_IO, template_path, 0, 0,
				"gnuplot failed (%s %d) rendering %s: %s",
				WIFEXITED(status) ? "exit status" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status)
						  : WTERMSIG(status),
				out_path, line[0] ? line : "no message");
		unlink(tmp);
		goto free_bufs;
	}
	if (stat(tmp, &st) != 0 || st.st_size == 0) {
		s = ax_diag_set(d, AX_ERR_IO, template_path, 0, 0,
				"gnuplot wrote no output for %s", out_path);
		unlink(tmp);
		goto free_bufs;
	}
	if (rename(tmp, out_path) != 0) {
		s = ax_diag_set(d, AX_ERR_IO, out_path, 0, 0,
				"cannot replace it: %s", strerror(errno));
		unlink(tmp);
	}
free_bufs:
	free(tmp);
	free(termcmd);
	free(varcmd);
	return s;
}
