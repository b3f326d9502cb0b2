/* buildinfo.c: see buildinfo.h. */
#include "util/buildinfo.h"

#ifndef DOKJA_COMMIT
#define DOKJA_COMMIT "unknown"
#endif
#ifndef DOKJA_CFLAGS
#define DOKJA_CFLAGS "unknown"
#endif

const char *build_commit(void) { return DOKJA_COMMIT; }
const char *build_compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown";
#endif
}
const char *build_flags(void) { return DOKJA_CFLAGS; }
