/*
 * atomic_io.c - atomic file replacement, JSON Lines appends (fsynced as
 * a group every 250 ms and on close), torn-tail recovery and the id
 * reader of JSON Lines files (see atomic_io.h).
 */
#include "atomic_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "json_read.h"

static enum ax_status io_error(struct ax_diag *d, const char *path,
			       const char *op, int err)
{
	return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "%s: %s", op,
			   strerror(err));
}

static bool copy_path(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n == 0 || n >= size)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

/* Writes path's directory into dir ("." or "/" for the bare cases). */
static void dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/* fsyncs the directory holding path, so a rename or a new file in it
 * survives a crash. File systems that cannot fsync a directory say
 * EINVAL; there is nothing more to do on those. */
static enum ax_status sync_dir(const char *path, struct ax_diag *d)
{
	char dir[AX_PATH_MAX];
	dir_of(path, dir, sizeof dir);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return io_error(d, dir, "open directory for fsync", errno);
	int rc = fsync(fd);
	int err = errno;
	close(fd);
	if (rc != 0 && err != EINVAL)
		return io_error(d, dir, "fsync directory", err);
	return AX_OK;
}

/* Removes PATH.tmp.<pid>[.<k>] left by processes that no longer exist
 * (killed between open and commit), so that repeated kills and resumes
 * do not pile up temporaries. A live pid's file is left alone: another
 * process may be writing it. Best effort: errors are ignored. */
static void remove_stale_tmps(const char *path)
{
	char dir[AX_PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t blen = strlen(base);

	dir_of(path, dir, sizeof dir);
	DIR *dp = opendir(dir);
	if (!dp)
		return;
	struct dirent *e;
	while ((e = readdir(dp))) {
		const char *n = e->d_name;
		if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp.", 5) != 0)
			continue;
		char *end;
		errno = 0;
		long pid = strtol(n + blen + 5, &end, 10);
		if (errno || end == n + blen + 5 || pid <= 0 ||
		    (*end && (*end != '.' || !end[1] ||
			      strspn(end + 1, "0123456789") != strlen(end + 1))))
			continue;
		if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		char full[AX_PATH_MAX + 300];
		snprintf(full, sizeof full, "%s/%s", dir, n);
		unlink(full);
	}
	closedir(dp);
}

/* The error of a file that cannot be created beside path: it names path
 * (what the user gave), the directory and errno, not the temporary. */
static enum ax_status create_error(struct ax_diag *d, const char *path,
				   int err)
{
	char dir[AX_PATH_MAX];
	dir_of(path, dir, sizeof dir);
	return ax_diag_set(d, AX_ERR_IO, path, 0, 0,
			   "cannot create a file in directory %s: %s", dir,
			   strerror(err));
}

enum ax_status ax_atomic_check_dir(const char *path, struct ax_diag *d)
{
	char dir[AX_PATH_MAX];
	dir_of(path, dir, sizeof dir);
	struct stat st;
	if (stat(dir, &st) != 0)
		return create_error(d, path, errno);
	if (!S_ISDIR(st.st_mode))
		return create_error(d, path, ENOTDIR);
	if (access(dir, W_OK | X_OK) != 0)
		return create_error(d, path, errno);
	return AX_OK;
}

FILE *ax_atomic_open(struct ax_atomic *a, const char *path,
		     struct ax_diag *d)
{
	memset(a, 0, sizeof *a);
	if (!path || !copy_path(a->path, sizeof a->path, path)) {
		ax_diag_set(d, AX_ERR_LIMIT, path, 0, 0,
			    "atomic open: empty path or longer than %d bytes",
			    AX_PATH_MAX - 1);
		return NULL;
	}
	remove_stale_tmps(a->path);
	long pid = (long)getpid();
	int fd = -1;
	for (int k = 0; k < 1000 && fd < 0; k++) {
		if (k == 0)
			snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, pid);
		else
			snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld.%d", path,
				 pid, k);
		fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST) {
			int err = errno;
			create_error(d, path, err);
			a->tmp[0] = '\0';
			errno = err;
			return NULL;
		}
	}
	if (fd < 0) {
		ax_diag_set(d, AX_ERR_IO, path, 0, 0,
			    "cannot create a temporary: 1000 stale temporaries "
			    "exist; remove %s.tmp.*", path);
		a->tmp[0] = '\0';
		return NULL;
	}
	a->f = fdopen(fd, "w");
	if (!a->f) {
		int err = errno;
		close(fd);
		unlink(a->tmp);
		io_error(d, path, "fdopen temporary", err);
		a->tmp[0] = '\0';
		errno = err;
		return NULL;
	}
	return a->f;
}

enum ax_status ax_atomic_commit(struct ax_atomic *a, struct ax_diag *d)
{
	if (!a->f)
		return ax_diag_set(d, AX_ERR_INTERNAL, a->path, 0, 0,
				   "atomic commit: nothing open");
	enum ax_status s = AX_OK;
	FILE *f = a->f;
	a->f = NULL;
	if (fflush(f) != 0 || ferror(f)) {
		s = io_error(d, a->path, "write", errno ? errno : EIO);
		fclose(f);
		goto remove_tmp;
	}
	if (fsync(fileno(f)) != 0) {
		s = io_error(d, a->path, "fsync", errno);
		fclose(f);
		goto remove_tmp;
	}
	if (fclose(f) != 0) {
		s = io_error(d, a->path, "close", errno);
		goto remove_tmp;
	}
	if (rename(a->tmp, a->path) != 0) {
		int err = errno;
		s = ax_diag_set(d, AX_ERR_IO, a->path, 0, 0,
				"cannot replace it: %s", strerror(err));
		goto remove_tmp;
	}
	a->tmp[0] = '\0';
	/* The data is in place; a failed directory fsync only weakens the
	 * guarantee across power loss, but it is still reported. */
	return sync_dir(a->path, d);

remove_tmp:
	unlink(a->tmp);
	a->tmp[0] = '\0';
	return s;
}

void ax_atomic_abort(struct ax_atomic *a)
{
	if (a->f) {
		fclose(a->f);
		a->f = NULL;
	}
	if (a->tmp[0]) {
		unlink(a->tmp);
		a->tmp[0] = '\0';
	}
}

enum ax_status ax_jsonl_open(struct ax_jsonl *j, const char *path,
			     struct ax_diag *d)
{
	j->fd = -1;
	j->broken = false;
	if (!path || !copy_path(j->path, sizeof j->path, path))
		return ax_diag_set(d, AX_ERR_LIMIT, path, 0, 0,
				   "jsonl open: empty path or longer than %d bytes",
				   AX_PATH_MAX - 1);
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return io_error(d, path, "open for append", errno);
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		close(fd);
		return io_error(d, path, "fstat", err);
	}
	if (st.st_size > 0) {
		char last = 0;
		ssize_t r = pread(fd, &last, 1, st.st_size - 1);
		if (r != 1 || last != '\n') {
			int err = errno;
			close(fd);
			if (r < 0)
				return io_error(d, path, "read last byte", err);
			return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
					   "ends in a partial line (a killed "
					   "write?); recover it before appending");
		}
	}
	j->fd = fd;
	return AX_OK;
}

static double monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum ax_status ax_jsonl_append(struct ax_jsonl *j, const char *line,
			       size_t len, struct ax_diag *d)
{
	if (j->fd < 0)
		return ax_diag_set(d, AX_ERR_INTERNAL, j->path, 0, 0,
				   "jsonl append: file not open");
	if (j->broken)
		return ax_diag_set(d, AX_ERR_IO, j->path, 0, 0,
				   "append: an earlier write was cut short; "
				   "reopen after recovery");
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len == 0 || memchr(line, '\n', len))
		return ax_diag_set(d, AX_ERR_INPUT, j->path, 0, 0,
				   "append: a record must be one non-empty line");
	if (len > (size_t)SSIZE_MAX - 1)
		return ax_diag_set(d, AX_ERR_LIMIT, j->path, 0, 0,
				   "append: record of %zu bytes is too long", len);
	char *buf = malloc(len + 1);
	if (!buf)
		return ax_diag_set(d, AX_ERR_NOMEM, j->path, 0, 0,
				   "append: cannot allocate %zu bytes", len + 1);
	memcpy(buf, line, len);
	buf[len] = '\n';
	ssize_t w;
	do
		w = write(j->fd, buf, len + 1);
	while (w < 0 && errno == EINTR);
	int err = errno;
	free(buf);
	if (w < 0)
		return io_error(d, j->path, "append", err);
	if ((size_t)w != len + 1) {
		j->broken = true;
		return ax_diag_set(d, AX_ERR_IO, j->path, 0, 0,
				   "append: short write (%zd of %zu bytes; disk "
				   "full?); recovery will drop the partial line",
				   w, len + 1);
	}
	if (monotonic() - j->last_sync >= AX_JSONL_SYNC_SECONDS)
		return ax_jsonl_sync(j, d);
	return AX_OK;
}

enum ax_status ax_jsonl_sync(struct ax_jsonl *j, struct ax_diag *d)
{
	if (j->fd < 0)
		return AX_OK;
	j->last_sync = monotonic();
	if (fsync(j->fd) != 0)
		return io_error(d, j->path, "fsync", errno);
	return AX_OK;
}

enum ax_status ax_jsonl_close(struct ax_jsonl *j, struct ax_diag *d)
{
	if (j->fd < 0)
		return AX_OK;
	enum ax_status st = ax_jsonl_sync(j, d);
	int rc = close(j->fd);
	j->fd = -1;
	if (rc != 0)
		return io_error(d, j->path, "close", errno);
	return st;
}

enum ax_status ax_jsonl_recover(const char *path, int64_t *removed,
				struct ax_diag *d)
{
	if (removed)
		*removed = 0;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return AX_OK;
		return io_error(d, path, "open for recovery", errno);
	}
	enum ax_status s = AX_OK;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		s = io_error(d, path, "fstat", errno);
		goto close_fd;
	}
	/* Scan backwards in blocks for the last '\n'. */
	char block[4096];
	off_t end = st.st_size, keep = 0;
	while (end > 0) {
		off_t start = end > (off_t)sizeof block ? end - (off_t)sizeof block : 0;
		size_t want = (size_t)(end - start);
		ssize_t r = pread(fd, block, want, start);
		if (r != (ssize_t)want) {
			s = io_error(d, path, "read", r < 0 ? errno : EIO);
			goto close_fd;
		}
		char *nl = NULL;
		for (size_t i = want; i > 0; i--) {
			if (block[i - 1] == '\n') {
				nl = &block[i - 1];
				break;
			}
		}
		if (nl) {
			keep = start + (off_t)(nl - block) + 1;
			break;
		}
		end = start;
	}
	if (keep == st.st_size)
		goto close_fd;
	if (ftruncate(fd, keep) != 0) {
		s = io_error(d, path, "truncate torn tail", errno);
		goto close_fd;
	}
	if (fsync(fd) != 0) {
		s = io_error(d, path, "fsync", errno);
		goto close_fd;
	}
	if (removed)
		*removed = (int64_t)(st.st_size - keep);
close_fd:
	close(fd);
	return s;
}

enum ax_jsonl_id ax_jsonl_scan_id(const char *line, size_t len, char *out,
				  size_t *out_len)
{
	json_t *root = ax_json_parse(line, len, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return AX_JSONL_ID_MALFORMED;
	}
	const json_t *id = json_object_get(root, "id");
	enum ax_jsonl_id r = AX_JSONL_ID_ABSENT;
	if (json_is_string(id)) {
		/* Unescaped, a string is never longer than its JSON form,
		 * so it fits the len bytes out has. */
		*out_len = json_string_length(id);
		memcpy(out, json_string_value(id), *out_len);
		r = AX_JSONL_ID_FOUND;
	}
	json_decref(root);
	return r;
}

enum ax_status ax_jsonl_read_ids(const char *path, ax_jsonl_id_fn fn,
				 void *ctx, int64_t *skipped,
				 struct ax_diag *d)
{
	if (skipped)
		*skipped = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return AX_OK;
		return io_error(d, path, "open for reading", errno);
	}
	enum ax_status s = AX_OK;
	char *buf = NULL, *id = NULL;
	size_t cap = 0, id_cap = 0;
	int64_t lineno = 0;
	ssize_t n;
	errno = 0;
	while ((n = getline(&buf, &cap, f)) > 0) {
		lineno++;
		if (buf[n - 1] != '\n')
			break; /* torn tail: not a record */
		if ((size_t)n > id_cap) {
			char *p = realloc(id, (size_t)n);
			if (!p) {
				s = ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0,
						"cannot allocate %zd bytes", n);
				goto free_all;
			}
			id = p;
			id_cap = (size_t)n;
		}
		size_t id_len = 0;
		if (ax_jsonl_scan_id(buf, (size_t)n - 1, id, &id_len) !=
		    AX_JSONL_ID_FOUND) {
			if (skipped)
				(*skipped)++;
			continue;
		}
		s = fn(ctx, id, id_len, lineno, d);
		if (s != AX_OK)
			goto free_all;
		errno = 0;
	}
	if (ferror(f))
		s = io_error(d, path, "read", errno ? errno : EIO);
free_all:
	free(id);
	free(buf);
	fclose(f);
	return s;
}
