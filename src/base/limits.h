/* limits.h - the limits of milvusfs, each defined once (SPEC §3, §6, §10).
 *
 * Every layer reads its bounds here: the parsers (fmt) to refuse bad text,
 * the engine to refuse a bad request that did not come through fmt, the
 * table of search parameters (base/sparam.c) for its ranges.  Changing a
 * limit means changing one line here (and the man page that states it).
 * Plain int constants, so that messages print them with %d.
 */
#ifndef MFS_BASE_LIMITS_H
#define MFS_BASE_LIMITS_H

/* Names of collections, partitions, aliases and fields: 1..255 bytes. */
#define MFS_NAME_MAX 255

/* Vector dims: float 2..32768 values; binary a multiple of 8 up to 32768
 * bits. */
#define MFS_DIM_MAX 32768
#define MFS_FLOAT_DIM_MIN 2

/* Search: k (limit, top_k) in 1..16384, offset in 0..16384, and
 * k + offset at most 16384 (Milvus's topk bound). */
#define MFS_TOPK_MAX 16384

/* Index search parameters' ranges: HNSW ef, IVF nprobe (the largest
 * nlist; an index refuses an nprobe above its own nlist), group_size. */
#define MFS_EF_MAX 32768
#define MFS_NPROBE_MAX 65536
#define MFS_GROUP_SIZE_MAX 1024

#endif
