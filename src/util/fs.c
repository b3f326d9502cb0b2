/* fs.c: mapped reads and crash-safe writes. */
#include "util/fs.h"
#include "util/grow.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_map_open(fs_map *m, const char *path, size_t max_size, dk_err *err)
{
    memset(m, 0, sizeof *m);
    /* O_NONBLOCK: opening a FIFO without a writer would block here, before the check
     * below could refuse it (a regular file ignores the flag) */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return dk_errno(err, "%s: cannot open", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return dk_errno(err, "%s: cannot stat", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return dk_errf(err, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)max_size) {
        close(fd);
        return dk_errf(err, "%s: file too large (%lld bytes, limit %zu)", path,
                       (long long)st.st_size, max_size);
    }
    m->size = (size_t)st.st_size;
    if (m->size == 0) {
        close(fd);
        return 0;
    }
    void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return dk_errno(err, "%s: cannot map", path);
    m->data = p;
    m->mapped = 1;
    return 0;
}

FILE *fs_open_regular(const char *path, dk_err *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* as in fs_map_open */
    if (fd < 0) {
        dk_errno(err, "%s: cannot open", path);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (S_ISREG(st.st_mode))
            dk_errno(err, "%s: cannot stat", path);
        else
            dk_errf(err, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    FILE *f = fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        dk_errno(err, "%s: cannot open", path);
        close(fd);
    }
    return f;
}

void fs_map_close(fs_map *m)
{
    if (m->mapped && m->data)
        munmap((void *)m->data, m->size);
    memset(m, 0, sizeof *m);
}

int fs_read_stream(FILE *f, const char *name, size_t max_size, uint8_t **out, size_t *out_n,
                   dk_err *err)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return dk_errf(err, "%s: out of memory", name);
    for (;;) {
        if (n == cap) {
            if (cap >= max_size) {
                free(buf);
                return dk_errf(err, "%s: input larger than %zu bytes", name, max_size);
            }
            cap *= 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return dk_errf(err, "%s: out of memory", name);
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return dk_errf(err, "%s: read error", name);
    }
    if (n > max_size) {
        free(buf);
        return dk_errf(err, "%s: input larger than %zu bytes", name, max_size);
    }
    *out = buf;
    *out_n = n;
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

void fs_remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

void fs_remove_dead_debris(const char *path)
{
    char *c1 = strdup(path), *c2 = strdup(path);
    const char *dir = c1 ? dirname(c1) : NULL, *base = c2 ? basename(c2) : NULL;
    DIR *d = dir ? opendir(dir) : NULL;
    size_t bl = base ? strlen(base) : 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, bl) != 0)
            continue;
        const char *rest = e->d_name + bl;
        const char *num = strncmp(rest, ".tmp.", 5) == 0 ? rest + 5 : strncmp(rest, ".partial.", 9) == 0 ? rest + 9 : NULL;
        char *end;
        long pid = num ? strtol(num, &end, 10) : 0;
        if (!num || pid <= 0 || *end || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or not ours to know): leave it */
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            fs_remove_flat_dir(p);
        else
            unlink(p);
    }
    if (d)
        closedir(d);
    free(c1);
    free(c2);
}

int fs_atomic_open(fs_atomic *a, const char *path, dk_err *err)
{
    memset(a, 0, sizeof *a);
    fs_remove_dead_debris(path); /* path.tmp.PID of writers that were killed */
    a->path = strdup(path);
    if (!a->path || asprintf(&a->tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
        free(a->path);
        a->path = NULL;
        a->tmp = NULL;
        return dk_errf(err, "%s: out of memory", path);
    }
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        int rc = dk_errno(err, "%s: cannot create", a->tmp);
        free(a->path);
        free(a->tmp);
        memset(a, 0, sizeof *a);
        return rc;
    }
    return 0;
}

void fs_atomic_write(fs_atomic *a, const void *data, size_t n)
{
    if (n && fwrite(data, 1, n, a->f) != n)
        a->failed = 1;
}

static void atomic_release(fs_atomic *a)
{
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
}

int fs_atomic_commit(fs_atomic *a, dk_err *err)
{
    int rc = 0;
    if (a->failed || ferror(a->f) || fflush(a->f) != 0)
        rc = dk_errno(err, "%s: write failed", a->tmp);
    else if (fsync(fileno(a->f)) != 0)
        rc = dk_errno(err, "%s: fsync failed", a->tmp);
    if (fclose(a->f) != 0 && rc == 0)
        rc = dk_errno(err, "%s: close failed", a->tmp);
    a->f = NULL;
    if (rc == 0 && rename(a->tmp, a->path) != 0)
        rc = dk_errno(err, "%s: cannot rename into place", a->path);
    if (rc != 0)
        unlink(a->tmp);
    else
        fsync_dir_of(a->path); /* best effort: some filesystems refuse directory fsync */
    atomic_release(a);
    return rc;
}

void fs_atomic_abort(fs_atomic *a)
{
    if (a->f)
        fclose(a->f);
    if (a->tmp)
        unlink(a->tmp);
    atomic_release(a);
}

int fs_write_file_atomic(const char *path, const void *data, size_t n, dk_err *err)
{
    fs_atomic a;
    if (fs_atomic_open(&a, path, err) != 0)
        return -1;
    fs_atomic_write(&a, data, n);
    return fs_atomic_commit(&a, err);
}

int fs_mkdirs(const char *path, dk_err *err)
{
    char *p = strdup(path);
    if (!p)
        return dk_errf(err, "%s: out of memory", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int rc = dk_errno(err, "%s: cannot create directory", p);
            free(p);
            return rc;
        }
        *s = '/';
    }
    int rc = 0;
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        rc = dk_errno(err, "%s: cannot create directory", p);
    else if (!fs_is_dir(p))
        rc = dk_errf(err, "%s: exists and is not a directory", p);
    free(p);
    return rc;
}

int fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

typedef struct {
    char **v;
    size_t n, cap;
} strlist;

static int strlist_push(strlist *l, char *s)
{
    if (!s)
        return -1;
    char **nv = dk_grow(l->v, &l->cap, l->n + 1, sizeof *nv, 16);
    if (!nv) {
        free(s);
        return -1;
    }
    l->v = nv;
    l->v[l->n++] = s;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(const char *dir, strlist *out, int depth, dk_err *err)
{
    if (depth > 64)
        return dk_errf(err, "%s: directories nested too deeply", dir);
    DIR *d = opendir(dir);
    if (!d)
        return dk_errno(err, "%s: cannot open directory", dir);
    strlist names = {0};
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            rc = strlist_push(&names, strdup(e->d_name));
    closedir(d);
    if (rc != 0) {
        fs_free_list(names.v, names.n);
        return dk_errf(err, "%s: out of memory", dir);
    }
    qsort(names.v, names.n, sizeof *names.v, cmp_str);
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        char *path;
        if (asprintf(&path, "%s/%s", dir, names.v[i]) < 0) {
            rc = dk_errf(err, "%s: out of memory", dir);
            break;
        }
        struct stat st;
        if (stat(path, &st) != 0) {
            rc = dk_errno(err, "%s: cannot stat", path);
            free(path);
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(path, out, depth + 1, err);
            free(path);
        } else if (S_ISREG(st.st_mode)) {
            if (strlist_push(out, path) != 0)
                rc = dk_errf(err, "%s: out of memory", dir);
        } else {
            free(path);
        }
    }
    fs_free_list(names.v, names.n);
    return rc;
}

int fs_expand_inputs(char *const *args, size_t n_args, char ***out, size_t *n_out, dk_err *err)
{
    strlist l = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n_args; i++) {
        if (fs_is_dir(args[i]))
            rc = walk_dir(args[i], &l, 0, err);
        else if (strlist_push(&l, strdup(args[i])) != 0)
            rc = dk_errf(err, "%s: out of memory", args[i]);
    }
    if (rc != 0) {
        fs_free_list(l.v, l.n);
        return -1;
    }
    *out = l.v;
    *n_out = l.n;
    return 0;
}

void fs_free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void fs_willneed(const void *p, size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    if (!p || n == 0 || page <= 0)
        return;
    uintptr_t b = (uintptr_t)p & ~(uintptr_t)(page - 1), e = (uintptr_t)p + n;
    (void)madvise((void *)b, e - b, MADV_WILLNEED);
}
