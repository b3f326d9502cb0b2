/* buildinfo.h: what built this binary, for records that must name everything that
 * decides the bits of a result (the training ledger's genesis): the source commit (with
 * "-dirty" when the tree had uncommitted changes, "unknown" outside git), the compiler and
 * the flags. The Makefile passes them to buildinfo.c only, so a new commit recompiles one
 * file. */
#ifndef DK_UTIL_BUILDINFO_H
#define DK_UTIL_BUILDINFO_H

const char *build_commit(void);
const char *build_compiler(void);
const char *build_flags(void);

#endif
