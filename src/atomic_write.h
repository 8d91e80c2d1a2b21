/* Files people keep are replaced, never rewritten in place: the new text
 * goes to a temporary file in the same directory, is flushed to the disk,
 * renamed over the old name, and the directory is flushed too (rename is
 * atomic but not durable without that). A crash or a full disk at any step
 * leaves the previous file as it was, and no temporary file behind. */
#ifndef GLM_ATOMIC_WRITE_H
#define GLM_ATOMIC_WRITE_H

#include <stddef.h>
#include <sys/types.h>

/* Replace path with buf[0..len) (mode for a new file, e.g. 0600). A
 * symlinked path replaces the file it points to. 0, or -1 with errno kept
 * and a one-line "PATH: what failed" in err. */
int atomic_write_file(const char *path, const void *buf, size_t len, mode_t mode,
                      char *err, size_t errlen);

/* fsync the directory holding path (after a rename into it). Filesystems
 * that cannot sync a directory (EINVAL, EBADF) count as success. */
int fsync_parent_dir(const char *path);

/* Create dir and its missing parents with mode (0700 for our folders). */
int mkdir_p(const char *dir, mode_t mode);

/* Tests only: make step n fail as if the disk were full (1 create temp,
 * 2 write, 3 fsync, 4 close, 5 rename, 6 fsync dir); 0 = off. */
void atomic_write_fail_at(int step);

#endif
