#!/bin/sh
# aliases.sh - aliases are symlinks at the root, with Milvus's rules
# (SPEC §12):
# - ln -s book /m/novels creates alias novels; every path through
#   /m/novels/ reaches book (reads, inserts, searches, partitions); ls
#   lists it as a symlink; a collection may have several aliases;
# - an alias names a collection: not another alias (EINVAL), not a
#   missing one (ENOENT), under the collection name rules (EINVAL); no
#   alias or collection takes the other's name (EEXIST);
# - a collection with aliases cannot be dropped or renamed over (EBUSY,
#   Milvus's words, naming the aliases); a rename of it keeps them;
# - ln -sfn and a rename(2) of a new symlink over an alias move it; a
#   rename renames it; rm and rm -rf drop it and nothing else;
# - aliases are kept across remounts.
. "$(dirname "$0")/lib.sh"
mfs_mount

# sym TARGET PATH: symlink(2), printing OK or the errno name
sym() {
	"$MFS_PYTHON" -c '
import errno, os, sys
try:
    os.symlink(sys.argv[1], sys.argv[2])
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])' "$1" "$2"
}

# sym_logged ERRNO TARGET NAME: symlink(2) of /NAME fails with ERRNO and
# adds one /.errors line for it
sym_logged() {
	_before=$(errors_lines)
	expect_eq "$(sym "$2" "$M/$3")" "$1" "ln -s $2 /$3"
	expect_eq "$(errors_lines)" $((_before + 1)) "/.errors lines after ln -s $2 /$3"
	LAST_ERROR=$(tail -n 1 "$M/.errors")
	case "$LAST_ERROR" in
	*" symlink /$3 $1: "*) ;;
	*) fail "/.errors line of ln -s $2 /$3: '$LAST_ERROR'" ;;
	esac
}

mkdir "$M/book" "$M/other" || fail "mkdir book other"
echo "dim=2" >"$M/book/schema" || fail "schema of book"
echo "dim=2" >"$M/other/schema" || fail "schema of other"
printf '1\t1,0\n2\t0,1\n3\t1,1\n' >>"$M/book/vectors" || fail "insert into book"
printf '7\t0.5,0\n8\t0,0.5\n' >>"$M/other/vectors" || fail "insert into other"

# --- creating, following ----------------------------------------------------------------
ln -s book "$M/novels" || fail "ln -s book novels"
expect_eq "$(readlink "$M/novels")" book "readlink novels"
expect_eq "$(stat -c '%F %s' "$M/novels")" "symbolic link 4" "stat of novels"
expect_eq "$(ls "$M" | tr '\n' ' ')" "book novels other " "ls of the root"
expect_eq "$(ls -l "$M" | grep -c ' novels -> book$')" 1 "ls -l shows novels -> book"
expect_content "$M/novels/count" 3
same_bytes "$M/novels/schema" "$M/book/schema" || fail "schema through the alias"
printf '4\t2,2\n' >>"$M/novels/vectors" || fail "insert through novels"
expect_content "$M/book/count" 4
expect_content "$M/book/entities/4" '{"id":4,"partition":"_default","vector":[2,2]}'
echo 1 >"$M/novels/load" || fail "load through novels"
expect_content "$M/book/state" Loaded
same_bytes "$M/novels/search/1,0&k=2" "$M/book/search/1,0&k=2" || fail "search through novels"
expect_content "$M/novels/search/1,0&k=2" "1${TAB}0" "3${TAB}1"
mkdir "$M/novels/p" || fail "mkdir novels/p"
expect_content "$M/book/partitions" _default p
echo 1 >"$M/book/p/release" || fail "release book/p"
rmdir "$M/novels/p" || fail "rmdir novels/p"
expect_content "$M/book/partitions" _default
ln -s ./book "$M/fiction" || fail "a second alias of book (./book)"
expect_eq "$(readlink "$M/fiction")" book "readlink fiction"

# --- what an alias may not be -----------------------------------------------------------------
sym_logged EINVAL novels n2
case "$LAST_ERROR" in
*"EINVAL: cannot point alias [n2] at [novels]: it is an alias (of collection book), and an alias names a collection") ;;
*) fail "alias of an alias: '$LAST_ERROR'" ;;
esac
sym_logged ENOENT nope n3
case "$LAST_ERROR" in
*"ENOENT: collection not found[collection=nope]") ;;
*) fail "alias of nothing: '$LAST_ERROR'" ;;
esac
sym_logged EINVAL book 9lives
sym_logged EINVAL /etc/passwd n4
sym_logged EINVAL ../book n5
# an alias cannot take a collection's name, nor a collection an alias's
# (the kernel answers these: the name is there)
expect_eq "$(sym book "$M/other")" EEXIST "ln -sT book other"
expect_errno EEXIST mkdir "$M/novels"
expect_errno ENOTDIR rename "$M/other" "$M/novels"
expect_errno EISDIR rename "$M/fiction" "$M/other"
# nothing was made
expect_eq "$(ls "$M" | tr '\n' ' ')" "book fiction novels other " "ls after the refusals"
expect_errno ENOENT stat "$M/n2"

# --- a collection with aliases ----------------------------------------------------------------
echo 1 >"$M/book/release" || fail "release book"
expect_logged EBUSY /book rmdir "$M/book"
case "$LAST_ERROR" in
*"EBUSY: unable to drop the collection [book] because it has associated aliases ["*"], please remove all aliases before dropping the collection") ;;
*) fail "rmdir of an aliased collection: '$LAST_ERROR'" ;;
esac
case "$LAST_ERROR" in
*novels*fiction* | *fiction*novels*) ;;
*) fail "the EBUSY line does not name both aliases: '$LAST_ERROR'" ;;
esac
rm -rf "$M/book" 2>/dev/null && fail "rm -rf of an aliased collection succeeded"
expect_content "$M/book/count" 4
expect_logged EBUSY /other rename "$M/other" "$M/book"
case "$LAST_ERROR" in
*"EBUSY: collection book cannot be replaced: unable to drop the collection [book] because it has associated aliases ["*) ;;
*) fail "rename over an aliased collection: '$LAST_ERROR'" ;;
esac
expect_content "$M/other/count" 2
expect_content "$M/book/count" 4
# a rename of the collection keeps its aliases
expect_ok rename "$M/book" "$M/book2"
expect_eq "$(readlink "$M/novels") $(readlink "$M/fiction")" "book2 book2" "aliases after mv book book2"
expect_content "$M/novels/count" 4

# --- moving, renaming, dropping aliases -----------------------------------------------------------
ln -sfn other "$M/novels" || fail "ln -sfn other novels"
expect_eq "$(readlink "$M/novels")" other "readlink novels after ln -sfn"
expect_content "$M/novels/count" 2
expect_eq "$(ls "$M" | tr '\n' ' ')" "book2 fiction novels other " "ls after ln -sfn (no temporary name left)"
ln -s book2 "$M/tmp1" || fail "ln -s book2 tmp1"
expect_ok rename "$M/tmp1" "$M/novels"
expect_eq "$(readlink "$M/novels")" book2 "readlink novels after a rename over it"
expect_errno ENOENT stat "$M/tmp1"
expect_ok rename "$M/fiction" "$M/fic"
expect_eq "$(readlink "$M/fic")" book2 "readlink fic"
expect_errno ENOENT stat "$M/fiction"
ln -s other "$M/o1" || fail "ln -s other o1"
expect_eq "$(ls "$M" | tr '\n' ' ')" "book2 fic novels o1 other " "ls before the remount"

# --- kept across remounts ---------------------------------------------------------------------------
remount
expect_eq "$(ls "$M" | tr '\n' ' ')" "book2 fic novels o1 other " "ls after the remount"
expect_eq "$(readlink "$M/novels") $(readlink "$M/fic") $(readlink "$M/o1")" \
	"book2 book2 other" "aliases after the remount"
expect_content "$M/fic/count" 4
expect_content "$M/o1/count" 2

# --- dropping -------------------------------------------------------------------------------------------
rm "$M/fic" || fail "rm fic"
rm -rf "$M/novels" || fail "rm -rf novels"
expect_content "$M/book2/count" 4
expect_eq "$(ls "$M" | tr '\n' ' ')" "book2 o1 other " "ls after rm of two aliases"
rmdir "$M/book2" || fail "rmdir book2 once its aliases are gone"
expect_errno ENOENT unlink "$M/fic"
expect_logged EBUSY /other rmdir "$M/other"
rm "$M/o1" || fail "rm o1"
rmdir "$M/other" || fail "rmdir other"
# a collection may now take a former alias's name
mkdir "$M/novels" || fail "mkdir novels once the alias is gone"
remount
expect_eq "$(ls "$M" | tr '\n' ' ')" "novels " "ls after the last remount"
exit 0
