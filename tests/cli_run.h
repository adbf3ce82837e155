/*
 * cli_run.h - runs the archex CLI (or any program) as a child process for
 * the CLI-level tests: stdout and stderr captured through poll() (so a
 * chatty stream cannot deadlock the other), an alarm so that a hang fails
 * instead of blocking ctest, and the exit status or -1 for a signal (a
 * crash, including a sanitizer abort).
 */
#ifndef AX_TEST_CLI_RUN_H
#define AX_TEST_CLI_RUN_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define AX_TEST_TIMEOUT 120  /* seconds: a hang guard, generous because a
				 sanitizer build on 2 loaded cores is slow */

/* Runs argv[0] (a path) with argv; stdout and stderr are stored NUL-
 * terminated, truncated to out_n - 1 and err_n - 1 bytes (the rest is
 * read and dropped). Returns the exit status, -1 on a signal, -2 if the
 * child could not be started. */
static inline int ax_test_run(char *const argv[], char *out, size_t out_n,
			      char *err, size_t err_n)
{
	int po[2], pe[2];
	if (pipe(po) != 0)
		return -2;
	if (pipe(pe) != 0) {
		close(po[0]);
		close(po[1]);
		return -2;
	}
	pid_t pid = fork();
	if (pid < 0)
		return -2;
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		close(po[1]);
		close(pe[1]);
		alarm(AX_TEST_TIMEOUT);   /* a hang becomes SIGALRM: a failure */
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
	char *buf[2] = { out, err };
	size_t cap[2] = { out_n, err_n }, len[2] = { 0, 0 };
	int open_fds = 2;
	while (open_fds > 0) {
		if (poll(fds, 2, -1) < 0)
			break;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char chunk[4096];
			ssize_t r = read(fds[i].fd, chunk, sizeof chunk);
			if (r <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			size_t keep = (size_t)r;
			if (len[i] + keep + 1 > cap[i])
				keep = cap[i] - 1 - len[i];
			memcpy(buf[i] + len[i], chunk, keep);
			len[i] += keep;
		}
	}
	out[len[0]] = '\0';
	err[len[1]] = '\0';
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
