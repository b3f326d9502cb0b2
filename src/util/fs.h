/* fs.h: reading files whole or mapped, and atomic writes.
 *
 * Every file dokja writes for later use (tokenizers, models, checkpoints, corpora)
 * goes through fs_atomic_*: data lands in a temporary file beside the target, is
 * fsynced, renamed over the target and the directory is fsynced, so a crash leaves
 * either the old file or the new one, never a torn one. */
#ifndef DK_UTIL_FS_H
#define DK_UTIL_FS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

/* A read-only view of a whole file: mmap for regular files, so a large file costs
 * address space rather than RAM. Empty files give data == NULL, size == 0. */
typedef struct {
    const uint8_t *data;
    size_t size;
    int mapped;
} fs_map;

/* Maps path; fails with a one-line message if it cannot be opened, is not a
 * regular file, or is larger than max_size (pass SIZE_MAX for no limit). */
int fs_map_open(fs_map *m, const char *path, size_t max_size, dk_err *err);
void fs_map_close(fs_map *m);
/* Removes what killed writers left beside PATH: PATH.tmp.PID files and PATH.partial.PID
 * directories whose process no longer exists (kill(PID, 0) fails with ESRCH). A live
 * writer's temporary is never touched. */
void fs_remove_dead_debris(const char *path);
/* Removes the files of a directory (not subdirectories) and the directory. */
void fs_remove_flat_dir(const char *dir);

/* PATH opened for reading if it is a regular file: a FIFO, a device (a symlink to
 * /dev/zero) or a directory is refused at once with one line, never read forever. */
FILE *fs_open_regular(const char *path, dk_err *err);

/* Advises the kernel that [p, p + n) of a mapping will be read soon, so it starts
 * reading it from disk now (readahead overlapping the caller's work). Advisory: never
 * fails. */
void fs_willneed(const void *p, size_t n);

/* Reads a whole stream (stdin, pipes) into a malloc'd buffer, at most max_size. */
int fs_read_stream(FILE *f, const char *name, size_t max_size, uint8_t **out, size_t *out_n,
                   dk_err *err);

/* An atomic writer: fs_atomic_open creates "<path>.tmp.<pid>" next to path;
 * write with fs_atomic_write (or the FILE*), then fs_atomic_commit renames it into
 * place, or fs_atomic_abort removes it. Exactly one of commit/abort must be called. */
typedef struct {
    FILE *f;
    char *path;
    char *tmp;
    int failed;
} fs_atomic;

int fs_atomic_open(fs_atomic *a, const char *path, dk_err *err);
void fs_atomic_write(fs_atomic *a, const void *data, size_t n);
int fs_atomic_commit(fs_atomic *a, dk_err *err);
void fs_atomic_abort(fs_atomic *a);

/* Writes a whole buffer atomically. */
int fs_write_file_atomic(const char *path, const void *data, size_t n, dk_err *err);

/* mkdir -p. */
int fs_mkdirs(const char *path, dk_err *err);

/* Is path an existing directory? */
int fs_is_dir(const char *path);



/* Expands input arguments: a directory becomes every regular file below it
 * (recursively, hidden entries skipped, sorted by path so runs are reproducible);
 * anything else is kept as given. *out is a malloc'd array of malloc'd strings;
 * free it with fs_free_list. */
int fs_expand_inputs(char *const *args, size_t n_args, char ***out, size_t *n_out, dk_err *err);
void fs_free_list(char **list, size_t n);

#endif
