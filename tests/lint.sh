#!/bin/sh
# lint.sh - keep the layers honest: each system header in its one layer,
# dependencies pointing one way (ARCHITECTURE.md).
set -u
src=${MFS_SRCDIR:-$(dirname "$0")/..}/src
fail=0

only_in() {   # header, allowed path pattern (grep -E on file paths)
	bad=$(grep -rlE "#include[[:space:]]*<$1>" "$src" | grep -vE "$2")
	if [ -n "$bad" ]; then
		echo "lint: <$1> included outside $2:"; echo "$bad"; fail=1
	fi
}
no_dep() {    # module, modules it must not include
	mod=$1; shift
	for dep in "$@"; do
		bad=$(grep -rlE "#include[[:space:]]*\"$dep/" "$src/$mod" 2>/dev/null)
		if [ -n "$bad" ]; then
			echo "lint: $mod must not depend on $dep:"; echo "$bad"; fail=1
		fi
	done
}

only_in 'fuse[0-9]*/?fuse[a-z_]*\.h' '/src/fs/|/src/main\.c'
only_in 'lmdb\.h' '/src/store/'
only_in 'cblas\.h' '/src/vec/'
only_in 'jansson\.h' '/src/field/|/src/fmt/'
no_dep base field fmt vec index store engine fs
no_dep field fmt vec index store engine fs
no_dep fmt index store engine fs
no_dep vec fmt index store engine fs
no_dep index fmt store engine fs
no_dep store fmt vec index engine fs
no_dep engine fmt fs
[ $fail -eq 0 ] && echo "lint: layers ok"
exit $fail
