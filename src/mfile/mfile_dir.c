/* Versioned model directories: one symlink switched atomically (see mfile_dir.h). */
#include "mfile/mfile_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The files a version holds, and the temporary names a save may leave behind when killed. */
static const char *const k_version_files[] = { "model.json", "model.safetensors", "model.json.tmp",
                                               "model.safetensors.tmp" };
static const char *const k_linked[] = { "model.json", "model.safetensors" };
#define CURRENT_TMP MFILE_DIR_CURRENT ".tmp"

static int join(char *out, size_t cap, const char *dir, const char *name, hp_error *err)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) return hp_fail(err, HP_ERR_INVAL, "%s/%s: path too long", dir, name);
    return HP_OK;
}

/* fsync of a directory, so the names created or renamed in it survive a crash. A file
 * system that cannot sync directories (EINVAL) is not an error. */
static int sync_dir(const char *path, hp_error *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    int ok = fd >= 0 && (fsync(fd) == 0 || errno == EINVAL);
    int e = errno;
    if (fd >= 0) close(fd);
    return ok ? HP_OK : hp_fail(err, HP_ERR_WRITE, "%s: cannot sync the directory: %s", path, strerror(e));
}

/* "v-" followed by a name of our own making: no '/', not "." or "..", short. */
static int is_version_name(const char *s)
{
    size_t n = strlen(s), pl = strlen(MFILE_DIR_PREFIX);
    if (n <= pl || n >= 64 || strncmp(s, MFILE_DIR_PREFIX, pl) != 0) return 0;
    for (size_t i = pl; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-')) return 0;
    return strcmp(s, ".") && strcmp(s, "..");
}

int mfile_dir_resolve(const char *dir, char *base, size_t cap, char *version, size_t vcap, hp_error *err)
{
    char link[4096], target[128];
    int rc = join(link, sizeof link, dir, MFILE_DIR_CURRENT, err);
    if (rc) return rc;
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0 && (errno == ENOENT || errno == ENOTDIR)) { /* an unversioned directory */
        if (vcap) version[0] = 0;
        int w = snprintf(base, cap, "%s", dir);
        return w >= 0 && (size_t)w < cap ? HP_OK : hp_fail(err, HP_ERR_INVAL, "%s: path too long", dir);
    }
    if (n < 0 && errno == EINVAL)
        return hp_fail(err, HP_ERR_FORMAT, "%s: not a symlink to a model version (%s<id>)", link, MFILE_DIR_PREFIX);
    if (n < 0) return hp_fail(err, HP_ERR_IO, "%s: cannot read the link: %s", link, strerror(errno));
    target[n] = 0;
    if (!is_version_name(target))
        return hp_fail(err, HP_ERR_FORMAT, "%s points to '%s', not to a model version (%s<id>) in %s", link, target,
                       MFILE_DIR_PREFIX, dir);
    if (snprintf(version, vcap, "%s", target) >= (int)vcap) return hp_fail(err, HP_ERR_INVAL, "%s: name too long", link);
    return join(base, cap, dir, target, err);
}

int mfile_dir_begin(const char *dir, char *vdir, size_t cap, char *version, size_t vcap, hp_error *err)
{
    int rc = hp_mkdirs(dir, err);
    if (rc) return rc;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (int k = 0; k < 1000; k++) {
        /* time, then pid and a counter: sorts by age, never reuses a name */
        snprintf(version, vcap, MFILE_DIR_PREFIX "%lld.%09ld-%ld-%d", (long long)ts.tv_sec, (long)ts.tv_nsec,
                 (long)getpid(), k);
        if ((rc = join(vdir, cap, dir, version, err))) return rc;
        if (mkdir(vdir, 0777) == 0) return HP_OK;
        if (errno != EEXIST) return hp_fail(err, HP_ERR_WRITE, "%s: cannot create directory: %s", vdir, strerror(errno));
    }
    return hp_fail(err, HP_ERR_IO, "%s: cannot find a free name for a new model version", dir);
}

/* Points DIR/name at target with a new symlink renamed over it (atomic), unless it already
 * does. tmp_name is the temporary link's name in DIR. */
static int switch_link(const char *dir, const char *name, const char *target, const char *tmp_name, hp_error *err)
{
    char path[4096], tmp[4096], now[4096];
    int rc = join(path, sizeof path, dir, name, err);
    if (!rc) rc = join(tmp, sizeof tmp, dir, tmp_name, err);
    if (rc) return rc;
    ssize_t n = readlink(path, now, sizeof now - 1);
    if (n >= 0 && (now[n] = 0, strcmp(now, target) == 0)) return HP_OK;
    if (unlink(tmp) != 0 && errno != ENOENT)
        return hp_fail(err, HP_ERR_WRITE, "%s: cannot remove a stale link: %s", tmp, strerror(errno));
    if (symlink(target, tmp) != 0) return hp_fail(err, HP_ERR_WRITE, "%s: cannot create a link: %s", tmp, strerror(errno));
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return hp_fail(err, HP_ERR_WRITE, "cannot rename %s over %s: %s", tmp, path, strerror(e));
    }
    return HP_OK;
}

static int is_one_of(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return 1;
    return 0;
}

/* Removes DIR/name if it is a version directory holding nothing but model files; anything
 * else found inside (a user's file) keeps it. */
static void remove_version(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)))
        if (is_one_of(e->d_name, k_version_files, HP_ARRAY_LEN(k_version_files))) unlinkat(fd, e->d_name, 0);
    closedir(d);
    unlinkat(dfd, name, AT_REMOVEDIR); /* fails, harmlessly, when something else was inside */
}

/* After the switch: every version but keep, and the temporary links, go. */
static void clean_up(const char *dir, const char *keep)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) return;
    int dup_fd = dup(dfd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d && dup_fd >= 0) close(dup_fd);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (is_version_name(e->d_name) && strcmp(e->d_name, keep) != 0) remove_version(dfd, e->d_name);
        else if (!strcmp(e->d_name, CURRENT_TMP) || !strcmp(e->d_name, ".model.json.lnk") ||
                 !strcmp(e->d_name, ".model.safetensors.lnk") || !strcmp(e->d_name, "model.json.tmp") ||
                 !strcmp(e->d_name, "model.safetensors.tmp"))
            unlinkat(dfd, e->d_name, 0);
    }
    if (d) closedir(d);
    (void)fsync(dfd);
    close(dfd);
}

int mfile_dir_commit(const char *dir, const char *version, hp_error *err)
{
    char vdir[4096];
    int rc = join(vdir, sizeof vdir, dir, version, err);
    /* the version's files and its own name must be on disk before anything points at it */
    if (!rc) rc = sync_dir(vdir, err);
    if (!rc) rc = sync_dir(dir, err);
    if (!rc) rc = switch_link(dir, MFILE_DIR_CURRENT, version, CURRENT_TMP, err); /* the switch */
    if (!rc) rc = sync_dir(dir, err);
    if (rc) return rc;
    /* DIR/model.json and DIR/model.safetensors follow DIR/current from now on (over the files
     * of an unversioned directory, which the switch has just made stale) */
    for (size_t i = 0; i < HP_ARRAY_LEN(k_linked) && !rc; i++) {
        char target[64], tmp[64];
        snprintf(target, sizeof target, MFILE_DIR_CURRENT "/%s", k_linked[i]);
        snprintf(tmp, sizeof tmp, ".%s.lnk", k_linked[i]);
        rc = switch_link(dir, k_linked[i], target, tmp, err);
    }
    if (rc) {
        hp_error_prefix(err, "%s: the new model is in place (%s), but linking to it failed", dir, version);
        return rc;
    }
    clean_up(dir, version);
    return HP_OK;
}

void mfile_dir_discard(const char *vdir)
{
    const char *slash = strrchr(vdir, '/');
    char parent[4096];
    if (!slash || (size_t)(slash - vdir) >= sizeof parent) return;
    memcpy(parent, vdir, (size_t)(slash - vdir));
    parent[slash - vdir] = 0;
    int dfd = open(parent, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) return;
    remove_version(dfd, slash + 1);
    close(dfd);
}
