/* io_out: writing output files that may hold customer data, safely.
 *
 * Two rules every command with an output path follows (docs/privacy.md, "Files"):
 *  - An output is never one of the command's inputs, nor the privacy store or its side files
 *    (-wal, -shm, -journal): writing there would destroy them. Files are compared by device
 *    and inode (stat), so links and other spellings of a path are caught; a path that does
 *    not exist yet matches nothing, except the store's side files, which SQLite may create
 *    later and are therefore also compared by their canonical name.
 *  - An output is owner-only: created 0600, and an existing regular file is set to 0600 when
 *    it is rewritten. Devices and pipes (/dev/stdout, /dev/null) are written as they are.
 *
 * Refusals are HP_ERR_INVAL (bad usage: exit 2) with a sentence naming both paths; a file
 * that cannot be opened or written is HP_ERR_WRITE (exit 1). */
#ifndef IO_OUT_H
#define IO_OUT_H

#include "core/hp.h"

#include <stdio.h>
#include <sys/stat.h>

/* HP_ERR_INVAL when out is the same file as one of the n inputs that exist (NULL entries
 * are skipped). */
int io_out_refuse_same(const char *out, const char *const *inputs, size_t n, hp_error *err);

/* HP_ERR_INVAL when out is the SQLite store at db, or its -wal, -shm or -journal file
 * (whether or not those exist yet). db NULL: HP_OK. */
int io_out_refuse_store(const char *out, const char *db, hp_error *err);

/* HP_ERR_INVAL when out is one of the files named names[0..n) below dir (depth 3 at most): a
 * model directory's files, whatever the layout of its versions. Other files below dir (a
 * results folder kept inside the model's, say) may be written. */
int io_out_refuse_in_dir(const char *out, const char *dir, const char *const *names, size_t n, hp_error *err);

/* Opens path for writing as an owner-only file, after the checks above against store (may
 * be NULL) and inputs, made on the opened file itself so that nothing is truncated before
 * they pass. NULL on failure, with err set and errno kept from the failing call. */
FILE *io_out_fopen(const char *path, const char *store, const char *const *inputs, size_t n,
                   hp_error *err);

/* Atomic rewrite: a private temporary file beside path (its name in tmp), then
 * io_out_commit flushes, fsyncs and renames it over path (and fsyncs the directory), or
 * io_out_abort removes it. Both close f. */
FILE *io_out_tmp(const char *path, char *tmp, size_t size, hp_error *err);
/* 1 when path is absent or a regular file (not a device, pipe, directory or link): the only
 * kinds a rewrite may rename a temporary file over. Renaming over /dev/full would replace the
 * device node itself. */
int io_out_renamable(const char *path);
int io_out_commit(FILE *f, const char *tmp, const char *path, hp_error *err);
void io_out_abort(FILE *f, const char *tmp);

/* A new output written whole or not at all. For a path that is absent or a regular file (a
 * symbolic link is followed to its target first), the data goes to a private temporary file
 * beside it and io_out_finish renames it over the path only once every byte is written and
 * synced: a failure at any point leaves no partial file (and an earlier file at the path as
 * it was). A device or a pipe (/dev/stdout, /dev/full) is written directly. Either way
 * io_out_finish checks ferror, fflush and fclose and fails with HP_ERR_WRITE naming the
 * path. */
typedef struct {
    FILE *f;
    const char *path;        /* as given (messages) */
    char target[4096];       /* what is renamed over: path, or its link's target */
    char tmp[4096 + 32];     /* "" when written directly */
    int renamed;             /* io_out_finish renamed tmp over target */
} io_out_file;

/* Refuses and opens as io_out_fopen does (err set, HP_ERR_INVAL or HP_ERR_WRITE). */
int io_out_start(io_out_file *o, const char *path, const char *store, const char *const *inputs, size_t n,
                 hp_error *err);
/* rc != HP_OK: the output is abandoned (the temporary file removed) and rc returned.
 * Otherwise it is completed; HP_ERR_WRITE "PATH: write failed: ..." when any write failed.
 * Closes o->f either way. */
int io_out_finish(io_out_file *o, int rc, hp_error *err);
/* 1 once io_out_finish has renamed the temporary file over the target: the file there is
 * new, and the caller removes it (unlink(o->target)) when a later step fails. */
int io_out_is_file(const io_out_file *o);

/* In-place variant of io_out_commit for a file that must keep its inode (hard links, a
 * file reached through a symbolic link): copies the finished temporary file f into the open
 * file fd (truncated first; it stays open), syncs it, then removes tmp. Closes f. Not atomic:
 * a failure midway leaves the complete new content in tmp, and says so. */
int io_out_commit_into(FILE *f, const char *tmp, int fd, const char *path, hp_error *err);

/* The end of a rewrite of an existing regular file open as fd (st: its fstat; f the finished
 * temporary file from io_out_tmp): in_place, the file keeps its inode (io_out_commit_into): every
 * hard link, and the target of a link that led to it, then holds the new content, and the file
 * is made owner-only when this user owns it; otherwise the temporary file is renamed over path
 * (io_out_commit). Closes f; fd stays open. */
int io_out_commit_rewrite(FILE *f, const char *tmp, int fd, const struct stat *st, int in_place, const char *path,
                          hp_error *err);

/* Sets an existing regular file owned by this user to 0600 when group or others have any
 * access. A missing file, or one owned by another user (a deliberate shared setup), is left
 * alone: HP_OK. HP_ERR_WRITE when chmod fails. */
int io_out_make_private(const char *path, hp_error *err);

/* The canonical absolute form of path (its directory resolved, symlinks included; the last
 * component resolved too when it exists). HP_ERR_IO when the directory does not exist. */
int io_out_canonical(const char *path, char *out, size_t size, hp_error *err);

#endif
