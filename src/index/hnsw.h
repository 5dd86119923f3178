/* hnsw.h - the HNSW index type (Milvus's HNSW: M, efConstruction; ef).
 *
 * Reached through idx_lookup("HNSW"); declared here for code that names it
 * directly (tests, benchmarks).  See index.h for the vtable's contract and
 * hnsw.c for parameters and ranges.
 */
#ifndef MFS_INDEX_HNSW_H
#define MFS_INDEX_HNSW_H

#include "index/index.h"

extern const struct idx_type idx_hnsw_type;

#endif
