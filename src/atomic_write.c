/* Atomic, durable file replacement; see atomic_write.h. The steps follow
 * redis's rdbSave (temp file, fsync, rename, fsync of the directory) and
 * vim's viminfo (temp next to the target, created exclusively). */
#include "config.h"
#include "src/atomic_write.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail_step;

void atomic_write_fail_at(int step)
{
	fail_step = step;
}

/* The failure injection point: behaves like the disk filling up. */
static int injected(int step)
{
	if (fail_step == step) {
		errno = ENOSPC;
		return 1;
	}
	return 0;
}

static int dir_fsync(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else if ((size_t)(slash - path) < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	else
		return errno = ENAMETOOLONG, -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Some filesystems cannot sync a directory; that is not our failure. */
	if (fsync(fd) && errno != EINVAL && errno != EBADF && errno != EROFS)
		rc = -1;
	close(fd);
	return rc;
}

int fsync_parent_dir(const char *path)
{
	return dir_fsync(path);
}

int mkdir_p(const char *dir, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof buf)
		return errno = ENAMETOOLONG, -1;
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, mode) && errno != EEXIST)
				return -1;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w;
		if (injected(2))
			return -1;
		w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int atomic_write_file(const char *path, const void *buf, size_t len, mode_t mode,
                      char *err, size_t errlen)
{
	char target[PATH_MAX], tmp[PATH_MAX + 16];
	const char *slash, *what = NULL;
	struct stat st;
	int fd = -1, rc, saved;

	/* A symlinked file is replaced where it really lives (readline does the
	 * same), so the link survives. */
	if (!realpath(path, target)) {
		if (errno != ENOENT || strlen(path) >= sizeof target) {
			what = "cannot resolve the path";
			goto fail;
		}
		strcpy(target, path);
	}
	slash = strrchr(target, '/');
	if (slash)
		snprintf(tmp, sizeof tmp, "%.*s/.%s.XXXXXX", (int)(slash - target), target, slash + 1);
	else
		snprintf(tmp, sizeof tmp, ".%s.XXXXXX", target);

	fd = injected(1) ? -1 : mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		what = "cannot create a temporary file beside it";
		tmp[0] = '\0';
		goto fail;
	}
	/* Keep an existing file's mode; new files get the caller's. */
	if (fchmod(fd, stat(target, &st) == 0 ? (st.st_mode & 07777) : mode)) {
		what = "cannot set the file mode";
		goto fail;
	}
	if (write_all(fd, buf, len)) {
		what = "write failed";
		goto fail;
	}
	if (injected(3) || fsync(fd)) {
		what = "fsync failed";
		goto fail;
	}
	/* close can report a delayed write error (NFS): it counts. */
	rc = close(fd);
	fd = -1;
	if (injected(4) || rc) {
		what = "close failed";
		goto fail;
	}
	if (injected(5) || rename(tmp, target)) {
		what = "cannot rename the temporary file over it";
		goto fail;
	}
	tmp[0] = '\0';          /* renamed: nothing left to clean up */
	if (injected(6) || dir_fsync(target)) {
		/* The new file is in place; only its durability is in doubt. */
		what = "cannot sync its directory";
		goto fail;
	}
	return 0;

fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlink(tmp);
	if (err && errlen)
		snprintf(err, errlen, "%s: %s: %s", path, what, strerror(saved));
	errno = saved;
	return -1;
}
