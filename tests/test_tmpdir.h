/*
 * test_tmpdir.h - one scratch directory per test program, under the build
 * tree: made with mkdtemp() before the tests of a group, removed with
 * everything in it after them (cmocka group setup and teardown).
 */
#ifndef AX_TEST_TMPDIR_H
#define AX_TEST_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory of this test program; "" until ax_test_tmpdir_setup(). */
static char tmpdir[256];

/* Removes path and, for a directory, everything below it (links are
 * removed, never followed); 0 on success. */
static int ax_test_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	DIR *dir = opendir(path);
	if (!dir)
		return -1;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char sub[1024];
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		rc |= ax_test_remove_tree(sub);
	}
	closedir(dir);
	return rc | rmdir(path);
}

/* Makes AX_BINARY_DIR/tmp-<tag>-XXXXXX in tmpdir; 0 on success. */
static inline int ax_test_tmpdir_make(const char *tag)
{
	snprintf(tmpdir, sizeof tmpdir, "%s/tmp-%s-XXXXXX", AX_BINARY_DIR, tag);
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* Removes tmpdir and everything below it; 0 on success. */
static inline int ax_test_tmpdir_remove(void)
{
	return ax_test_remove_tree(tmpdir);
}

#endif
