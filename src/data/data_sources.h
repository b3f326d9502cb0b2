/* data_sources.h: the sources file of `dokja data build --sources FILE.json`.
 *
 *   {"sources": [{"path": "telecom/chat.jsonl", "partner": "telecom",
 *                 "licence": "proprietary, consortium agreement 2025-03", "weight": 2},
 *                ...]}
 *
 * path, partner and licence are required non-empty strings (partner and licence at most
 * 256 bytes, no control characters); weight is optional (a number > 0; absent: the
 * source's share of the training tokens). A relative path is relative to the directory
 * of the sources file, and must exist. Unknown keys, at the top or in a source, are
 * refused (a misspelt "license" must not silently drop the licence). */
#ifndef DK_DATA_SOURCES_H
#define DK_DATA_SOURCES_H

#include <stddef.h>

#include "data/data_build.h"
#include "util/err.h"

/* Reads FILE into *specs (n entries). On failure returns -1 with one line in err
 * naming the place, e.g. "s.json: sources[2].licence: must be a non-empty string",
 * and *specs is NULL. On success free with data_sources_free. */
int data_sources_load(const char *file, data_source_spec **specs, size_t *n, dk_err *err);
void data_sources_free(data_source_spec *specs, size_t n);

#endif
