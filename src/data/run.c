/*
 * run.c - fork/exec of external programs with their output collected
 * (see run.h). stdout and stderr are read together with poll(), so a
 * chatty stderr never blocks the child.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

bool ax_run_find(const char *prog, char *out, size_t size)
{
	if (strchr(prog, '/')) {
		snprintf(out, size, "%s", prog);
		return access(out, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	for (const char *p = path;;) {
		size_t n = strcspn(p, ":");
		if (n > 0 && (size_t)snprintf(out, size, "%.*s/%s", (int)n, p,
					      prog) < size) {
			struct stat st;
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(out, X_OK) == 0)
				return true;
		}
		if (!p[n])
			return false;
		p += n + 1;
	}
}

/* A growing buffer. */
struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *q = realloc(b->p, cap);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* The child's side: stdin, stdout and stderr in place, then exec. */
static void child(const char *cwd, const char *exe, char *const argv[],
		  const char *stdin_path, const char *stdout_path, int outfd,
		  int errfd)
{
	if (cwd && chdir(cwd) != 0)
		_exit(126);
	int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
	if (in < 0)
		_exit(126);
	dup2(in, 0);
	close(in);
	if (stdout_path) {
		int o = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		if (o < 0)
			_exit(126);
		dup2(o, 1);
		close(o);
	} else {
		dup2(outfd, 1);
	}
	dup2(errfd, 2);
	/* the C locale: programs print the same bytes whatever the user's */
	setenv("LC_ALL", "C.UTF-8", 1);
	execv(exe, argv);
	_exit(127);
}

/* Reads both pipes until both close. */
static void drain(int outfd, int errfd, struct buf *out, struct buf *err)
{
	struct pollfd p[2] = { { .fd = outfd, .events = POLLIN },
			       { .fd = errfd, .events = POLLIN } };
	int open_n = 2;
	while (open_n > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char chunk[65536];
			ssize_t r = read(p[i].fd, chunk, sizeof chunk);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				p[i].fd = -1;
				open_n--;
				continue;
			}
			buf_add(i == 0 ? out : err, chunk, (size_t)r);
		}
	}
}

/* The last non-empty line of text, for an error message. */
static void last_line(const char *text, char *line, size_t size)
{
	size_t n = text ? strlen(text) : 0;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		n--;
	size_t s = n;
	while (s > 0 && text[s - 1] != '\n')
		s--;
	snprintf(line, size, "%.*s", (int)(n - s), text ? text + s : "");
}

enum ax_status ax_run(char *const argv[], const char *package,
		      const char *stdin_path, const char *stdout_path,
		      struct ax_run_out *out, struct ax_diag *d)
{
	return ax_run_in(NULL, argv, package, stdin_path, stdout_path, out, d);
}

enum ax_status ax_run_in(const char *cwd, char *const argv[],
			 const char *package, const char *stdin_path,
			 const char *stdout_path, struct ax_run_out *out,
			 struct ax_diag *d)
{
	char exe[4096];
	if (out) {
		out->text = NULL;
		out->len = 0;
	}
	if (!ax_run_find(argv[0], exe, sizeof exe))
		return ax_diag_set(d, AX_ERR_IO, argv[0], 0, 0,
				   "program not found on PATH; install the "
				   "Debian package %s (apt-get install %s)",
				   package, package);
	int po[2], pe[2];
	if (pipe(po) != 0)
		return ax_diag_set(d, AX_ERR_IO, argv[0], 0, 0, "pipe: %s",
				   strerror(errno));
	if (pipe(pe) != 0) {
		close(po[0]);
		close(po[1]);
		return ax_diag_set(d, AX_ERR_IO, argv[0], 0, 0, "pipe: %s",
				   strerror(errno));
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(po[0]);
		close(pe[0]);
		child(cwd, exe, argv, stdin_path, stdout_path, po[1], pe[1]);
	}
	close(po[1]);
	close(pe[1]);
	struct buf bo = { 0 }, be = { 0 };
	if (pid > 0)
		drain(po[0], pe[0], &bo, &be);
	close(po[0]);
	close(pe[0]);
	if (pid < 0) {
		free(bo.p);
		free(be.p);
		return ax_diag_set(d, AX_ERR_IO, argv[0], 0, 0, "fork: %s",
				   strerror(errno));
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	char line[512];
	last_line(be.p, line, sizeof line);
	free(be.p);
	enum ax_status s = AX_OK;
	if (bo.oom)
		s = ax_diag_set(d, AX_ERR_NOMEM, argv[0], 0, 0, "out of memory "
				"reading its output");
	else if (WIFSIGNALED(status))
		s = ax_diag_set(d, AX_ERR_IO, argv[0], 0, 0, "killed by signal %d",
				WTERMSIG(status));
	else if (WEXITSTATUS(status) == 126)
		s = ax_diag_set(d, AX_ERR_IO, stdout_path ? stdout_path : argv[0],
				0, 0, "cannot open its input or output file");
	else if (WEXITSTATUS(status) != 0)
		s = ax_diag_set(d, AX_ERR_IO, argv[0], 0, 0, "exited with status "
				"%d: %s", WEXITSTATUS(status),
				line[0] ? line : "(no message)");
	if (s != AX_OK || !out) {
		free(bo.p);
		return s;
	}
	if (!bo.p) {
		bo.p = calloc(1, 1);
		if (!bo.p)
			return ax_diag_set(d, AX_ERR_NOMEM, argv[0], 0, 0, "out of memory");
	}
	out->text = bo.p;
	out->len = bo.len;
	return AX_OK;
}
