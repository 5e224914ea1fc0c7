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

/* HP_ERR_INVAL when out is the same file as one of the n inputs that exist (NULL entries
 * are skipped). */
int io_out_refuse_same(const char *out, const char *const *inputs, size_t n, hp_error *err);

/* HP_ERR_INVAL when out is the SQLite store at db, or its -wal, -shm or -journal file
 * (whether or not those exist yet). db NULL: HP_OK. */
int io_out_refuse_store(const char *out, const char *db, hp_error *err);

/* HP_ERR_INVAL when out is a regular file below dir (depth 3 at most): a model directory's
 * files, whatever the layout of its versions. */
int io_out_refuse_in_dir(const char *out, const char *dir, hp_error *err);

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

/* Sets an existing regular file owned by this user to 0600 when group or others have any
 * access. A missing file, or one owned by another user (a deliberate shared setup), is left
 * alone: HP_OK. HP_ERR_WRITE when chmod fails. */
int io_out_make_private(const char *path, hp_error *err);

/* The canonical absolute form of path (its directory resolved, symlinks included; the last
 * component resolved too when it exists). HP_ERR_IO when the directory does not exist. */
int io_out_canonical(const char *path, char *out, size_t size, hp_error *err);

#endif
