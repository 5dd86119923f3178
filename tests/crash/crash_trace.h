/* crash_trace.h - the record format shared by interpose.c (which writes
 * the daemon's records), the clients of tests/crash (which append
 * acknowledgements) and crash_sim.c (which reads them).
 *
 * A trace is a sequence of records, each a struct crash_rec in the host's
 * byte order followed by len bytes of payload.  Every record is appended
 * with one write(2) to a file opened O_APPEND, so records of different
 * processes never interleave.
 *
 * Files: the daemon writes data.mdb, and data.mdb.shrink when it rewrites
 * the database (src/store/env.c, "The file shrinks"), which it then
 * renames over data.mdb and makes durable with an fsync of the database
 * directory.  Each open of one of these names (or of the directory) is a
 * handle, h, unique in the trace (the pid in its high 32 bits); writes
 * and syncs name their handle, and crash_sim follows which file each
 * handle reaches through the renames and unlinks.
 */
#ifndef MFS_CRASH_TRACE_H
#define MFS_CRASH_TRACE_H

#include <stdint.h>

#define CRASH_MAGIC 0x4d465343u         /* "CSFM" */

enum crash_type {
	CRASH_OPEN = 'O',       /* h opened: a = CRASH_NAME_*, b = the
				 * open(2) flags */
	CRASH_RENAME = 'N',     /* data.mdb.shrink renamed over data.mdb */
	CRASH_UNLINK = 'K',     /* a = CRASH_NAME_* unlinked */
	CRASH_WRITE = 'W',      /* a = file offset, b = 1 if O_DSYNC, payload */
	CRASH_DSYNC_DONE = 'D', /* the O_DSYNC write just before is durable */
	CRASH_SYNC_BEGIN = 'B', /* a = sync id: fsync/fdatasync of h started
				 * (h 0: syncfs/sync, everything) */
	CRASH_SYNC_END = 'E',   /* a = sync id: it returned 0 */
	CRASH_UNSUPPORTED = 'U',/* a write the trace cannot represent */
	/* the clients' records */
	CRASH_LOCATION = 'L',   /* a = location number, payload its name,
				 * "collection/partition"; a number is
				 * never reused, a name may be (a dropped
				 * collection made again) */
	CRASH_INSERT_ISSUED = 'I', /* a = entity id, b = location: an insert
				 * (or an upsert, which moves the entity
				 * there) is about to be sent */
	CRASH_ACK_INSERT = 'A', /* a = entity id, b = location: that insert
				 * or upsert was acknowledged */
	CRASH_DELETE_ISSUED = 'Z', /* a = entity id: a delete of it starts */
	CRASH_ACK_DELETE = 'X', /* a = entity id: its delete was acknowledged */
	CRASH_DROPPED = 'R',    /* a = location: rmdir of its partition or
				 * collection is about to be sent (its
				 * drop is in flight from here); the next
				 * acknowledgement ('A', 'X') follows an
				 * fsync, which made the drop durable too */
};

enum crash_name {
	CRASH_NAME_DATA,        /* data.mdb */
	CRASH_NAME_SHRINK,      /* data.mdb.shrink */
	CRASH_NAME_DIR,         /* the database directory */
};

struct crash_rec {
	uint32_t magic;
	uint32_t type;
	uint64_t a, b;
	uint64_t h;             /* the daemon's handle; 0 in clients' records */
	uint64_t len;
};

#endif
