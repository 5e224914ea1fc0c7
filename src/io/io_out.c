/* io_out: output files that may hold customer data: never an input or the store, always
 * owner-only, rewritten atomically. See io_out.h. */
#include "io/io_out.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PRIVATE_MODE 0600

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* ------------------------------------------------------------------ canonical names */

/* Splits path into its directory ("." when none) and last component. */
static int split_path(const char *path, char *dir, size_t dsize, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dsize, ".");
        *base = path;
        return HP_OK;
    }
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= dsize) return HP_ERR_RANGE;
    memcpy(dir, path, n);
    dir[n] = 0;
    *base = slash + 1;
    return HP_OK;
}

int io_out_canonical(const char *path, char *out, size_t size, hp_error *err)
{
    char *full = realpath(path, NULL);
    if (full) {
        int fits = strlen(full) < size;
        if (fits) memcpy(out, full, strlen(full) + 1);
        free(full);
        return fits ? HP_OK : hp_fail(err, HP_ERR_RANGE, "%s: path too long", path);
    }
    if (errno != ENOENT) return hp_fail(err, HP_ERR_IO, "%s: %s", path, strerror(errno));
    /* the deepest directory that exists, resolved, then the rest as written (a folder an
     * output goes into may be created later) */
    char dir[PATH_MAX];
    const char *base;
    if (split_path(path, dir, sizeof dir, &base) || !*base)
        return hp_fail(err, HP_ERR_IO, "%s: not a file path", path);
    size_t keep = base == path ? 0 : strlen(dir); /* "file" alone: dir is "." */
    while (!(full = realpath(dir, NULL))) {
        char *slash = strrchr(dir, '/');
        if (errno != ENOENT || !slash) {
            if (errno == ENOENT && !slash && (full = realpath(".", NULL))) { keep = 0; break; }
            return hp_fail(err, HP_ERR_IO, "%s: %s", dir, strerror(errno));
        }
        *slash = 0;
        keep = (size_t)(slash - dir);
        if (keep == 0) { dir[0] = '/', dir[1] = 0; }
    }
    /* path + keep: the part not resolved, starting at its '/' (or the whole relative path) */
    const char *rest = path + keep;
    if (keep == 0 && path[0] != '/') rest = path;
    while (*rest == '/') rest++;
    int n = snprintf(out, size, "%s%s%s", full, strcmp(full, "/") ? "/" : "", rest);
    free(full);
    return n > 0 && (size_t)n < size ? HP_OK : hp_fail(err, HP_ERR_RANGE, "%s: path too long", path);
}

/* ------------------------------------------------------------------ refusals */

static int refuse_inputs(const struct stat *o, const char *out, const char *const *inputs, size_t n,
                         hp_error *err)
{
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (!inputs[i] || stat(inputs[i], &st) != 0) continue;
        if (same_file(o, &st))
            return hp_fail(err, HP_ERR_INVAL, "'%s' is the same file as '%s', an input of this command; "
                           "writing there would destroy it (choose another output path)", out, inputs[i]);
    }
    return HP_OK;
}

int io_out_refuse_same(const char *out, const char *const *inputs, size_t n, hp_error *err)
{
    struct stat o;
    /* only a regular file is destroyed by writing (a terminal may be both stdin and stdout) */
    if (!out || stat(out, &o) != 0 || !S_ISREG(o.st_mode)) return HP_OK;
    return refuse_inputs(&o, out, inputs, n, err);
}

static const struct { const char *suffix, *what; } k_store_files[] = {
    { "", "the privacy store" }, { "-wal", "the privacy store's WAL file" },
    { "-shm", "the privacy store's shared-memory file" },
    { "-journal", "the privacy store's rollback journal" },
};

static int refuse_store_file(const char *out, const char *db, int i, hp_error *err)
{
    return hp_fail(err, HP_ERR_INVAL, "'%s' is %s '%s%s'; writing there would destroy it (choose "
                   "another output path)", out, k_store_files[i].what, db, k_store_files[i].suffix);
}

/* o: the output's stat when it exists (NULL otherwise). */
static int refuse_store_stat(const struct stat *o, const char *out, const char *db, hp_error *err)
{
    char canon_out[PATH_MAX], canon_db[PATH_MAX], side[PATH_MAX + 16];
    int named = io_out_canonical(out, canon_out, sizeof canon_out, NULL) == HP_OK &&
                io_out_canonical(db, canon_db, sizeof canon_db, NULL) == HP_OK;
    for (size_t i = 0; i < HP_ARRAY_LEN(k_store_files); i++) {
        struct stat st;
        snprintf(side, sizeof side, "%s%s", db, k_store_files[i].suffix);
        if (o && stat(side, &st) == 0 && same_file(o, &st)) return refuse_store_file(out, db, (int)i, err);
        /* SQLite names its side files after the resolved store path, and creates them later */
        snprintf(side, sizeof side, "%s%s", canon_db, k_store_files[i].suffix);
        if (named && strcmp(canon_out, side) == 0) return refuse_store_file(out, db, (int)i, err);
    }
    return HP_OK;
}

int io_out_refuse_store(const char *out, const char *db, hp_error *err)
{
    if (!out || !db) return HP_OK;
    struct stat o;
    int exists = stat(out, &o) == 0;
    if (exists && !S_ISREG(o.st_mode)) return HP_OK;
    return refuse_store_stat(exists ? &o : NULL, out, db, err);
}

static int named(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0) return 1;
    return 0;
}

static int refuse_below(const struct stat *o, const char *out, const char *dir, const char *top, int depth,
                        const char *const *names, size_t n, hp_error *err)
{
    DIR *d = opendir(dir);
    if (!d) return HP_OK;
    struct dirent *e;
    int rc = HP_OK;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[PATH_MAX];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path || stat(path, &st)) continue;
        if (S_ISDIR(st.st_mode) && depth < 3) rc = refuse_below(o, out, path, top, depth + 1, names, n, err);
        else if (S_ISREG(st.st_mode) && named(e->d_name, names, n) && same_file(o, &st))
            rc = hp_fail(err, HP_ERR_INVAL, "'%s' is the model file '%s' (model '%s'); writing there would "
                         "destroy it (choose another output path)", out, path, top);
    }
    closedir(d);
    return rc;
}

int io_out_refuse_in_dir(const char *out, const char *dir, const char *const *names, size_t n, hp_error *err)
{
    struct stat o;
    if (!out || !dir || stat(out, &o) != 0 || !S_ISREG(o.st_mode)) return HP_OK;
    return refuse_below(&o, out, dir, dir, 1, names, n, err);
}

/* ------------------------------------------------------------------ opening */

static FILE *fail_open(int fd, hp_error *err, int status, const char *path, const char *what, int e)
{
    if (status == HP_ERR_WRITE) hp_fail(err, status, "%s: %s: %s", path, what, strerror(e));
    if (fd >= 0) close(fd);
    errno = e;
    return NULL;
}

FILE *io_out_fopen(const char *path, const char *store, const char *const *inputs, size_t n,
                   hp_error *err)
{
    /* by name first: the store's side files may not exist yet, and nothing is created */
    if (io_out_refuse_store(path, store, err) || io_out_refuse_same(path, inputs, n, err))
        return fail_open(-1, err, HP_ERR_INVAL, path, NULL, EINVAL);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, PRIVATE_MODE);
    if (fd < 0) return fail_open(-1, err, HP_ERR_WRITE, path, "cannot write", errno);
    struct stat st;
    if (fstat(fd, &st)) return fail_open(fd, err, HP_ERR_WRITE, path, "cannot write", errno);
    if (!S_ISREG(st.st_mode)) { /* a device or a pipe: written as it is */
        FILE *f = fdopen(fd, "w");
        return f ? f : fail_open(fd, err, HP_ERR_WRITE, path, "cannot write", errno);
    }
    /* again on the file opened, so that a path swapped meanwhile is caught before truncation */
    if (refuse_inputs(&st, path, inputs, n, err) || (store && refuse_store_stat(&st, path, store, err)))
        return fail_open(fd, err, HP_ERR_INVAL, path, NULL, EINVAL);
    if (ftruncate(fd, 0)) return fail_open(fd, err, HP_ERR_WRITE, path, "cannot truncate", errno);
    if ((st.st_mode & 07777) != PRIVATE_MODE && fchmod(fd, PRIVATE_MODE))
        return fail_open(fd, err, HP_ERR_WRITE, path, "cannot make it owner-only (mode 0600)", errno);
    FILE *f = fdopen(fd, "w");
    return f ? f : fail_open(fd, err, HP_ERR_WRITE, path, "cannot write", errno);
}

int io_out_make_private(const char *path, hp_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) return HP_OK;
    if (!(st.st_mode & 077)) return HP_OK;
    if (chmod(path, PRIVATE_MODE))
        return hp_fail(err, HP_ERR_WRITE, "%s: cannot make it owner-only (mode 0600): %s", path, strerror(errno));
    return HP_OK;
}

/* ------------------------------------------------------------------ atomic rewrite */

FILE *io_out_tmp(const char *path, char *tmp, size_t size, hp_error *err)
{
    if (snprintf(tmp, size, "%s.tmp.XXXXXX", path) >= (int)size) {
        hp_fail(err, HP_ERR_WRITE, "%s: path too long", path);
        return NULL;
    }
    int fd = mkstemp(tmp); /* 0600 */
    if (fd < 0) {
        int e = errno;
        hp_fail(err, HP_ERR_WRITE, "%s: cannot create a temporary file beside it: %s", path, strerror(e));
        errno = e;
        return NULL;
    }
    FILE *f = fchmod(fd, PRIVATE_MODE) ? NULL : fdopen(fd, "w");
    if (!f) {
        int e = errno;
        hp_fail(err, HP_ERR_WRITE, "%s: %s", tmp, strerror(e));
        close(fd);
        unlink(tmp);
        errno = e;
    }
    return f;
}

static void sync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    const char *base;
    if (split_path(path, dir, sizeof dir, &base)) return;
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    fsync(fd); /* the rename itself is durable once the directory is */
    close(fd);
}

int io_out_renamable(const char *path)
{
    struct stat st;
    return lstat(path, &st) != 0 ? errno == ENOENT : S_ISREG(st.st_mode);
}

int io_out_commit(FILE *f, const char *tmp, const char *path, hp_error *err)
{
    int bad = ferror(f) | (fflush(f) != 0) | (fsync(fileno(f)) != 0);
    int e = errno;
    bad |= fclose(f) != 0;
    if (bad) {
        unlink(tmp);
        return hp_fail(err, HP_ERR_WRITE, "%s: rewrite failed: %s", path, strerror(e ? e : EIO));
    }
    if (!io_out_renamable(path)) {
        unlink(tmp);
        return hp_fail(err, HP_ERR_WRITE, "%s: not a regular file: not rewritten", path);
    }
    if (rename(tmp, path)) {
        e = errno;
        unlink(tmp);
        return hp_fail(err, HP_ERR_WRITE, "%s: rewrite failed: %s", path, strerror(e));
    }
    sync_dir_of(path);
    return HP_OK;
}

void io_out_abort(FILE *f, const char *tmp)
{
    if (f) fclose(f);
    unlink(tmp);
}

/* ------------------------------------------------------------------ new outputs, whole or not at all */

int io_out_start(io_out_file *o, const char *path, const char *store, const char *const *inputs, size_t n,
                 hp_error *err)
{
    hp_error local = { 0 };
    if (!err) err = &local;
    memset(o, 0, sizeof *o);
    o->path = path;
    int rc = io_out_refuse_store(path, store, err);
    if (!rc) rc = io_out_refuse_same(path, inputs, n, err);
    if (rc) return rc;
    struct stat st;
    snprintf(o->target, sizeof o->target, "%s", path);
    /* a link to a regular file: the target is replaced (renaming over the link would leave
     * the target as it was and turn the link into a file) */
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
        io_out_canonical(path, o->target, sizeof o->target, NULL) != HP_OK)
        snprintf(o->target, sizeof o->target, "%s", path);
    if (!io_out_renamable(o->target)) { /* a device or a pipe: nothing to replace */
        o->f = io_out_fopen(path, store, inputs, n, err);
        return o->f ? HP_OK : (err->status ? err->status : HP_ERR_WRITE);
    }
    o->f = io_out_tmp(o->target, o->tmp, sizeof o->tmp, NULL);
    if (o->f) return HP_OK;
    o->tmp[0] = 0; /* the folder is missing or not writable: the same words as a direct open */
    return hp_fail(err, HP_ERR_WRITE, "%s: cannot write: %s", path, strerror(errno));
}

int io_out_is_file(const io_out_file *o)
{
    return o->renamed;
}

int io_out_finish(io_out_file *o, int rc, hp_error *err)
{
    FILE *f = o->f;
    o->f = NULL;
    if (!f) return rc;
    if (rc) {
        if (o->tmp[0]) io_out_abort(f, o->tmp);
        else fclose(f);
        return rc;
    }
    errno = 0;
    int bad = ferror(f) | (fflush(f) != 0);
    bad |= o->tmp[0] && fsync(fileno(f)) != 0; /* a device cannot be synced (EINVAL) */
    int e = errno;
    bad |= fclose(f) != 0;
    if (!e) e = errno;
    if (bad) {
        if (o->tmp[0]) unlink(o->tmp);
        return hp_fail(err, HP_ERR_WRITE, "%s: write failed: %s", o->path, strerror(e ? e : EIO));
    }
    if (!o->tmp[0]) return HP_OK;
    if (!io_out_renamable(o->target)) {
        unlink(o->tmp);
        return hp_fail(err, HP_ERR_WRITE, "%s: became a device, a directory or a link while being written: not "
                       "written", o->path);
    }
    if (rename(o->tmp, o->target)) {
        e = errno;
        unlink(o->tmp);
        return hp_fail(err, HP_ERR_WRITE, "%s: write failed: %s", o->path, strerror(e));
    }
    sync_dir_of(o->target);
    o->renamed = 1;
    return HP_OK;
}

/* ------------------------------------------------------------------ rewrite in place */

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int io_out_commit_into(FILE *f, const char *tmp, int fd, const char *path, hp_error *err)
{
    errno = 0;
    int bad = ferror(f) | (fflush(f) != 0) | (fsync(fileno(f)) != 0);
    int e = errno;
    if (bad) { /* the new content is not complete: the file is left as it is */
        io_out_abort(f, tmp);
        return hp_fail(err, HP_ERR_WRITE, "%s: rewrite failed (file unchanged): %s", path, strerror(e ? e : EIO));
    }
    char buf[1 << 16];
    off_t off = 0;
    ssize_t r = 0;
    if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET) < 0) bad = 1;
    /* the temporary file's descriptor is read-write (mkstemp) though its stream only writes */
    while (!bad && (r = pread(fileno(f), buf, sizeof buf, off)) > 0) {
        bad = write_all(fd, buf, (size_t)r) != 0;
        off += r;
    }
    bad |= r < 0 || fsync(fd) != 0;
    e = errno;
    fclose(f);
    if (bad)
        return hp_fail(err, HP_ERR_WRITE, "%s: rewrite in place failed midway: %s; its complete new content is "
                       "in %s", path, strerror(e ? e : EIO), tmp);
    unlink(tmp);
    return HP_OK;
}

int io_out_commit_rewrite(FILE *f, const char *tmp, int fd, const struct stat *st, int in_place, const char *path,
                          hp_error *err)
{
    if (!in_place) return io_out_commit(f, tmp, path, err);
    /* owner-only, as a renamed rewrite is; a file another user owns is a deliberate setup */
    if (st->st_uid == geteuid() && (st->st_mode & 077)) (void)fchmod(fd, PRIVATE_MODE);
    return io_out_commit_into(f, tmp, fd, path, err);
}
