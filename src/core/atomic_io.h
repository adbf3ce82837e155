/*
 * atomic_io.h - crash-safe output: whole files replaced atomically, and
 * JSON Lines files that only ever grow by complete lines.
 *
 * Whole files: ax_atomic_open() first removes PATH.tmp.* temporaries of
 * processes that no longer exist (a kill between open and commit), then
 * creates PATH.tmp.<pid> next to PATH and
 * returns a FILE * on it; ax_atomic_commit() flushes, fsyncs, closes,
 * renames it over PATH and fsyncs the directory, so a reader sees either
 * the old PATH or the complete new one, also after a crash or power loss.
 * ax_atomic_abort() removes the temporary and leaves PATH untouched.
 *
 * JSON Lines (a sweep's results, docs/sweeps.md): each record is appended
 * with one write() on an O_APPEND descriptor; fsync is grouped, at most
 * every AX_JSONL_SYNC_SECONDS (250 ms) and on close, not run per append.
 * A kill can still leave a torn last line (a write cut short); ax_jsonl_recover() cuts the bytes after the last '\n' before a
 * resumed run reads or appends, so a resume never sees a torn record.
 * O_APPEND writes are atomic with respect to other local writers; over NFS
 * they are not, so shards on a network file system write separate files
 * (which `archex merge` joins).
 *
 * Errors name the target path (the one the caller gave, never the
 * temporary), the operation and strerror(errno); a file that cannot be
 * created names the directory too:
 *     out/x.yaml: error: cannot create a file in directory out: No such
 *     file or directory
 */
#ifndef AX_ATOMIC_IO_H
#define AX_ATOMIC_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"

#define AX_PATH_MAX 4096

struct ax_atomic {
	FILE *f;                    /* open on tmp; NULL when none */
	char path[AX_PATH_MAX];     /* the target */
	char tmp[AX_PATH_MAX + 32]; /* PATH.tmp.<pid>[.<k>] */
};

/* Opens a fresh temporary beside path (mode 0666 & ~umask) and returns
 * a FILE * on it, or NULL with d filled. If PATH.tmp.<pid> already exists
 * (left by a killed process that had the same pid) the next free name
 * PATH.tmp.<pid>.<k> is used; an existing file is never truncated. */
FILE *ax_atomic_open(struct ax_atomic *a, const char *path,
		     struct ax_diag *d);

/* Checks that a file can be created beside path: its directory exists,
 * is a directory and is writable (access(2)). For writers that cannot
 * use ax_atomic_open (gnuplot opens its own output), so that they fail
 * with the same message before starting. */
enum ax_status ax_atomic_check_dir(const char *path, struct ax_diag *d);

/* Makes the temporary the new path (see above). On failure the
 * temporary is removed, path is left as it was, and d names the step. */
enum ax_status ax_atomic_commit(struct ax_atomic *a, struct ax_diag *d);

/* Closes and removes the temporary; safe to call after a failed or
 * successful commit and more than once. */
void ax_atomic_abort(struct ax_atomic *a);

struct ax_jsonl {
	int fd;                     /* O_WRONLY | O_APPEND; -1 when closed */
	bool broken;                /* a write was cut short: no more appends */
	double last_sync;           /* CLOCK_MONOTONIC seconds of the last fsync */
	char path[AX_PATH_MAX];
};

/* Appends are fsynced as a group at most this often, and on close. */
#define AX_JSONL_SYNC_SECONDS 0.25

/* Opens (creating if needed) path for appending. Fails with
 * AX_ERR_FORMAT if the file ends in a partial line: run
 * ax_jsonl_recover() first, so new records never glue onto a torn one. */
enum ax_status ax_jsonl_open(struct ax_jsonl *j, const char *path,
			     struct ax_diag *d);

/* Appends line (len bytes, with or without its final '\n'; it must hold
 * no other '\n') plus '\n' with a single write(). A write cut short fails
 * with AX_ERR_IO and marks j broken; the torn tail is for
 * ax_jsonl_recover() to remove. fsync runs at most every
 * AX_JSONL_SYNC_SECONDS and on close: a killed process loses nothing
 * write() returned for (the page cache holds it); a machine crash loses at
 * most the last fraction of a second of records, which --resume redoes.
 * One fsync per record capped sweeps at about 5k points/s. */
enum ax_status ax_jsonl_append(struct ax_jsonl *j, const char *line,
			       size_t len, struct ax_diag *d);

/* fsyncs the records appended so far. */
enum ax_status ax_jsonl_sync(struct ax_jsonl *j, struct ax_diag *d);
/* fsyncs, then closes. */
enum ax_status ax_jsonl_close(struct ax_jsonl *j, struct ax_diag *d);

/* Cuts the bytes after the last '\n' of path (the whole file if it has
 * none) and fsyncs. A missing file is fine (nothing to recover). If
 * removed is non-NULL it receives the number of bytes cut. */
enum ax_status ax_jsonl_recover(const char *path, int64_t *removed,
				struct ax_diag *d);

/* Result of scanning one line for its "id". */
enum ax_jsonl_id {
	AX_JSONL_ID_FOUND,
	AX_JSONL_ID_ABSENT,     /* a JSON object without a string "id" */
	AX_JSONL_ID_MALFORMED,  /* not an object, or broken before the id */
	AX_JSONL_ID_COUNT
};

/* Parses line[0..len) as one JSON object (ax_json_parse: libjansson)
 * and writes the string value of its top-level "id" member, unescaped,
 * into out, which needs room for len bytes; *out_len gets its length (the
 * id may hold NUL bytes). Member names are compared unescaped, and of
 * repeated "id" members the last wins, as in every archex JSON reader.
 * Anything but one valid JSON object (broken syntax, invalid UTF-8,
 * trailing bytes) is AX_JSONL_ID_MALFORMED. */
enum ax_jsonl_id ax_jsonl_scan_id(const char *line, size_t len, char *out,
				  size_t *out_len);

/* Called once per complete line that has an id; line is 1-based. A
 * status other than AX_OK stops the reading and is returned. */
typedef enum ax_status (*ax_jsonl_id_fn)(void *ctx, const char *id,
					 size_t len, int64_t line,
					 struct ax_diag *d);

/* Calls fn for the id of every complete line of path, in file order.
 * Lines without a usable id are counted in *skipped (may be NULL); a
 * trailing partial line is ignored. A missing file holds no ids. */
enum ax_status ax_jsonl_read_ids(const char *path, ax_jsonl_id_fn fn,
				 void *ctx, int64_t *skipped,
				 struct ax_diag *d);

#endif
