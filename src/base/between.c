/* between.c - the thread's hook for mfs_between (between.h). */
#include "base/between.h"

__thread void (*mfs_between_hook)(void);
