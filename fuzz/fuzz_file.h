/* fuzz_file.h: for harnesses of readers that take a path: the input written to a file
 * on tmpfs (/dev/shm, where writing costs no disk), under a directory unique to the
 * process, so the reader sees exactly the bytes the fuzzer made. */
#ifndef DK_FUZZ_FILE_H
#define DK_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    static char dir[128], path[256];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/dokja_fuzz_%ld", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
                 (long)getpid());
        mkdir(dir, 0700);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size))
        abort(); /* the harness's own failure, not the reader's */
    fclose(f);
    return path;
}

#endif
