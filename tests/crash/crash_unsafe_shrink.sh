#!/bin/sh
# crash_unsafe_shrink.sh - the check of the checker for the rewrites of
# data.mdb: crash.sh against a daemon that renames its compacted copy over
# data.mdb without syncing it or the directory (MFS_STORE_UNSAFE_SHRINK=1)
# must find simulated crashes that corrupt or lose acknowledged data.
MFS_CRASH_UNSAFE=shrink
. "$(dirname "$0")/crash.sh"
