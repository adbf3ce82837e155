/*
 * run.h - running the external programs a corpus build needs (bible,
 * diatheke, spm_train, spm_encode, spm_decode) through fork/exec with an
 * argument vector, never a shell, and collecting their output.
 *
 * A program that is not on PATH is an error naming the Debian package
 * that provides it; a program that exits non-zero is an error quoting the
 * last line of its stderr.
 */
#ifndef AX_RUN_H
#define AX_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

/* Looks prog up on PATH; true with its path in out (size bytes). */
bool ax_run_find(const char *prog, char *out, size_t size);

/* What ax_run collected. */
struct ax_run_out {
	char *text;    /* stdout, NUL-terminated (caller frees) */
	size_t len;
};

/* Runs argv[0] (looked up on PATH; package names the Debian package
 * to suggest when it is missing) with stdin from stdin_path (NULL:
 * /dev/null). With out non-NULL stdout is collected there; with
 * stdout_path non-NULL it goes to that file instead (created or
 * truncated). Fails on a non-zero exit or a signal. */
enum ax_status ax_run(char *const argv[], const char *package,
		      const char *stdin_path, const char *stdout_path,
		      struct ax_run_out *out, struct ax_diag *d);
/* The same in directory cwd (NULL: the current one); stdin_path and
 * stdout_path are then relative to cwd. */
enum ax_status ax_run_in(const char *cwd, char *const argv[],
			 const char *package, const char *stdin_path,
			 const char *stdout_path, struct ax_run_out *out,
			 struct ax_diag *d);

#endif
