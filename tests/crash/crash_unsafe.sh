#!/bin/sh
# crash_unsafe.sh - the check of the checker: crash.sh against a daemon
# that opens LMDB with MDB_NOSYNC (the flags sync=fsync used before) must
# find simulated crashes that corrupt or lose acknowledged data.
MFS_CRASH_UNSAFE=1
. "$(dirname "$0")/crash.sh"
