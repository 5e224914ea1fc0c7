/* mfile_dir: the versioned layout of a model directory, so that saving over a model is
 * atomic as a whole (model.json and model.safetensors together), not file by file.
 *
 *   DIR/v-<id>/model.json, DIR/v-<id>/model.safetensors   one complete version each
 *   DIR/current -> v-<id>                                  the version in use (a symlink)
 *   DIR/model.json -> current/model.json                   conveniences for people and
 *   DIR/model.safetensors -> current/model.safetensors     tools that open the files
 *
 * A save writes and fsyncs a new version directory, then switches DIR/current with one
 * rename(2) of a new symlink over it and fsyncs DIR: a kill at any instant leaves DIR/current
 * naming either the old version or the new one, both whole. Older versions are removed
 * only after the switch. A directory without DIR/current (written by earlier builds: the two
 * files side by side) is read as it is, and becomes versioned on the next save.
 *
 * Two processes must not save into the same DIR at once (the later one's clean-up may remove
 * the other's version in progress). Readers may run during a save: rec_load resolves
 * DIR/current once, and retries when a save switched it in the middle of the load. */
#ifndef MFILE_DIR_H
#define MFILE_DIR_H

#include <stddef.h>

#include "core/hp.h"

#define MFILE_DIR_CURRENT "current"
#define MFILE_DIR_PREFIX "v-"

/* The folder holding the model's files now: "DIR/v-<id>" when DIR/current names a version,
 * DIR itself for an unversioned directory. *version gets "v-<id>" or "" (cap bytes each). */
int mfile_dir_resolve(const char *dir, char *base, size_t cap, char *version, size_t vcap, hp_error *err);

/* Creates DIR (and parents) and a new, empty version directory in it: its path in vdir,
 * its name ("v-<id>") in version. */
int mfile_dir_begin(const char *dir, char *vdir, size_t cap, char *version, size_t vcap, hp_error *err);

/* Makes version (complete, its files fsync'ed) the current one, then removes every other
 * version and leftover temporary file. A failure before the switch leaves the old model
 * current; clean-up problems after it are not errors (the next save retries them). */
int mfile_dir_commit(const char *dir, const char *version, hp_error *err);

/* Removes a version directory that will not be committed (best effort). */
void mfile_dir_discard(const char *vdir);

#endif
