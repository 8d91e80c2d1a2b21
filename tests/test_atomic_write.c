/* atomic_write_file replaces a file whole or not at all: a failure at any
 * step (disk full, crash before rename) leaves the old file byte for byte
 * and no temporary file behind. */
#include "config.h"
#include "tests/testutil.h"
#include "src/atomic_write.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/glmchat-atomic-XXXXXX";

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

int main(void)
{
	char path[256], link[256], sub[256], err[512];
	const char *old = "old contents\n";
	size_t len;
	char *got;
	struct stat st;

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof path, "%s/session.json", dir);

	ok(atomic_write_file(path, old, strlen(old), 0600, err, sizeof err) == 0, "write a new file");
	got = slurp(path, &len);
	ok(got && len == strlen(old) && !memcmp(got, old, len), "contents are what was written");
	free(got);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "new file has mode 0600");

	for (int step = 1; step <= 5; step++) {
		const char *new = "NEW CONTENTS, which must not appear\n";
		int rc;

		atomic_write_fail_at(step);
		errno = 0;
		rc = atomic_write_file(path, new, strlen(new), 0600, err, sizeof err);
		atomic_write_fail_at(0);
		ok(rc == -1 && errno == ENOSPC, "failure at step %d is reported (%s)", step, err);
		ok(strstr(err, path) != NULL, "the message names the file");
		got = slurp(path, &len);
		ok(got && len == strlen(old) && !memcmp(got, old, len),
		   "old file byte-identical after a failure at step %d", step);
		free(got);
		is_int(entries(), 1, "no temporary file left after step %d", step);
	}
	/* Step 6 (directory fsync) fails after the rename: the new file is in
	 * place, but the caller hears that durability is in doubt. */
	atomic_write_fail_at(6);
	ok(atomic_write_file(path, "six\n", 4, 0600, err, sizeof err) == -1, "directory fsync failure reported");
	atomic_write_fail_at(0);
	got = slurp(path, &len);
	ok(got && !strcmp(got, "six\n"), "after the rename the new contents are in place");
	free(got);

	/* An existing file keeps its mode. */
	chmod(path, 0640);
	ok(atomic_write_file(path, "x", 1, 0600, err, sizeof err) == 0 && stat(path, &st) == 0 &&
	   (st.st_mode & 0777) == 0640, "replacing keeps the file's mode");

	/* A symlink is followed: the link stays, its target is replaced. */
	snprintf(link, sizeof link, "%s/link.json", dir);
	ok(symlink(path, link) == 0, "symlink made");
	ok(atomic_write_file(link, "via link", 8, 0600, err, sizeof err) == 0, "write through a symlink");
	ok(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "the symlink is still a symlink");
	got = slurp(path, &len);
	ok(got && !strcmp(got, "via link"), "its target has the new contents");
	free(got);
	unlink(link);

	/* Empty contents are a valid file. */
	ok(atomic_write_file(path, "", 0, 0600, err, sizeof err) == 0 && stat(path, &st) == 0 &&
	   st.st_size == 0, "an empty file");

	/* A missing directory is an error naming the path, not a crash. */
	snprintf(sub, sizeof sub, "%s/no/such/dir/f.json", dir);
	ok(atomic_write_file(sub, "x", 1, 0600, err, sizeof err) == -1 && strstr(err, sub),
	   "missing directory: one-line error (%s)", err);
	snprintf(sub, sizeof sub, "%s/no/such/dir", dir);
	ok(mkdir_p(sub, 0700) == 0 && stat(sub, &st) == 0 && S_ISDIR(st.st_mode),
	   "mkdir_p makes the missing parents");
	ok(mkdir_p(sub, 0700) == 0, "mkdir_p on an existing directory is fine");
	ok(fsync_parent_dir(path) == 0, "fsync_parent_dir");

	unlink(path);
	snprintf(sub, sizeof sub, "rm -rf '%s'", dir);
	if (system(sub) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
