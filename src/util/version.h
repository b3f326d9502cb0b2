/* version.h: dokja's version, recorded in every result a script may compare
 * (evaluation JSON, lineage reports). */
#ifndef DK_UTIL_VERSION_H
#define DK_UTIL_VERSION_H

#define DOKJA_VERSION "0.2.0"

#endif
