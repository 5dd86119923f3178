#!/bin/sh
# security.sh - owners, groups and modes (SPEC §12) and escaped /.errors
# (SPEC §7):
# - with -o allow_other and without default_permissions, another user can
#   read what the modes let it read and change nothing else: insert,
#   delete, rm entities/<id>, load, schema, saved queries, mkdir, rmdir,
#   mv, ln -s (aliases) are EACCES, chmod and chown EPERM, each with one
#   /.errors line, and nothing changes;
# - mkdir gives the caller's uid and gid and the mode asked less the
#   umask; the files inside follow their directory (read-only files stay
#   read-only); _default follows its collection; a partition made by
#   another user is that user's;
# - chmod by the owner or root, chown by root only, chgrp by the owner to
#   one of its groups; everything kept across remounts; files and the
#   root keep EPERM;
# - a name with a newline or a control byte makes one escaped line in
#   /.errors and in the daemon's log.
# The other user is nobody (setpriv); the script itself runs as root.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (to act as another user with setpriv)"
command -v setpriv >/dev/null 2>&1 || skip "setpriv(1) not installed"
NB=$(id -u nobody 2>/dev/null) || skip "no user nobody"
NG=$(id -g nobody)
# a group nobody is not in, to give it as a supplementary one
XG=100
[ "$XG" != "$NG" ] || XG=101

# nobody must reach the mount point and write its probe's pid file
chmod 0755 "$T"
mkdir "$T/u" && chmod 0777 "$T/u" || fail "mkdir $T/u"

# as_nobody [--groups=G] COMMAND...: run as nobody (no supplementary
# groups unless given).
as_nobody() {
	case ${1:-} in
	--groups=*) _g=$1; shift ;;
	*) _g=--clear-groups ;;
	esac
	setpriv --reuid="$NB" --regid="$NG" "$_g" "$@"
}

# expect_nobody ERRNO PROBE-ARGS...: the probe, run as nobody, prints ERRNO.
expect_nobody() {
	_want=$1; shift
	_got=$(as_nobody "$PROBE" "$@" 2>>"$T/u/probe.err")
	[ "$_got" = "$_want" ] ||
		fail "as nobody: errno_probe $*: expected $_want, got '$_got'"
}

# logged_nobody ERRNO PATH PROBE-ARGS...: expect_logged, as nobody.
logged_nobody() {
	_want=$1 _path=$2; shift 2
	_before=$(errors_lines)
	_got=$(as_nobody "$PROBE" -P "$T/u/probe.pid" "$@" 2>>"$T/u/probe.err")
	[ "$_got" = "$_want" ] ||
		fail "as nobody: errno_probe $*: expected $_want, got '$_got'"
	_after=$(errors_lines)
	[ "$_after" -eq $((_before + 1)) ] ||
		fail "as nobody: errno_probe $*: /.errors went from $_before to $_after lines, expected one more$NL$(tail -n 3 "$M/.errors")"
	_line=$(tail -n 1 "$M/.errors")
	printf '%s\n' "$_line" | grep -Eq "$ERR_RE" || fail "/.errors line malformed: '$_line'"
	case "$_line" in
	*" pid=$(cat "$T/u/probe.pid") "*) ;;
	*) fail "/.errors line does not name the probe's pid: '$_line'" ;;
	esac
	case "$_line" in
	*" $_path $_want: "*) ;;
	*) fail "/.errors line does not read '$_path $_want: ...': '$_line'" ;;
	esac
	LAST_ERROR=$_line
}

# expect_stat PATH 'MODE UID GID' (octal mode without type bits)
expect_stat() {
	expect_eq "$(stat -c '%a %u %g' "$1")" "$2" "mode, owner and group of $1"
}

umask 022
mfs_mount allow_other
C=$M/c
mkdir "$C" || fail "mkdir c"
echo "dim=2" >"$C/schema" || fail "schema"
printf '1\t1,0\n2\t0,1\n3\t1,1\n' >>"$C/vectors" || fail "insert"
printf 'k=2\n1,0\n' >"$C/search/q" || fail "save search/q"
echo 1 >"$C/load" || fail "load c"

# --- what mkdir gives ----------------------------------------------------------
expect_stat "$M" "755 0 0"
expect_stat "$M/.errors" "444 0 0"
expect_stat "$C" "755 0 0"
mkdir -m 0750 "$M/g" || fail "mkdir -m 0750 g"
expect_stat "$M/g" "750 0 0"
(umask 077 && mkdir "$M/h") || fail "mkdir h under umask 077"
expect_stat "$M/h" "700 0 0"
# The files inside follow their directory, cut to their kind.
expect_stat "$M/g/schema" "640 0 0"
expect_stat "$M/g/count" "440 0 0"
expect_stat "$M/g/release" "200 0 0"
expect_stat "$M/g/search" "750 0 0"
expect_stat "$M/g/entities" "750 0 0"
expect_stat "$M/g/_default" "750 0 0"
expect_stat "$M/g/_default/vectors" "640 0 0"
expect_stat "$M/h/vectors" "600 0 0"
expect_stat "$C/search/q" "644 0 0"
expect_stat "$C/entities/1" "444 0 0"

# --- S1: another user changes nothing (allow_other, no default_permissions) ----
expect_nobody OK read "$C/count"
expect_eq "$(as_nobody cat "$C/count")" 3 "count read by nobody"
expect_eq "$(as_nobody cat "$C/search/q" | cut -f1 | tr '\n' ' ')" "1 3 " "search/q run by nobody"
logged_nobody EACCES /c/vectors write "$C/vectors" '4\t0.5,0.5\n'
case "$LAST_ERROR" in
*"permission denied: a change needs w permission on collection c (owner 0, group 0, mode 0755), caller uid $NB gid $NG") ;;
*) fail "EACCES line: '$LAST_ERROR'" ;;
esac
logged_nobody EACCES /c/delete write "$C/delete" '1\n'
logged_nobody EACCES /c/entities/1 unlink "$C/entities/1"
logged_nobody EACCES /c/load write "$C/load" '1\n'
logged_nobody EACCES /c/schema write "$C/schema" 'description=mine\n'
logged_nobody EACCES /c/index write "$C/index" 'index_type=HNSW\n'
logged_nobody EACCES /c/search/q unlink "$C/search/q"
logged_nobody EACCES /c/search/q2 open "$C/search/q2" wc
logged_nobody EACCES /c/_default/vectors write "$C/_default/vectors" '4\t0.5,0.5\n'
logged_nobody EACCES /x mkdir "$M/x"
logged_nobody EACCES /c/p mkdir "$C/p"
# an alias is made in the root: w on the root, as mkdir of a collection
_before=$(errors_lines)
as_nobody "$MFS_PYTHON" -c 'import os, sys; os.symlink("c", sys.argv[1])' \
	"$M/al" 2>/dev/null && fail "nobody made alias al"
expect_eq "$(errors_lines)" $((_before + 1)) "/.errors lines after nobody's ln -s c al"
case "$(tail -n 1 "$M/.errors")" in
*" symlink /al EACCES: permission denied: a change needs w permission on the root / (owner 0, group 0, mode 0755), caller uid $NB gid $NG") ;;
*) fail "EACCES line of nobody's ln -s: '$(tail -n 1 "$M/.errors")'" ;;
esac
expect_errno ENOENT stat "$M/al"
logged_nobody EACCES /c rmdir "$C"
logged_nobody EACCES /c rename "$C" "$M/d"
logged_nobody EPERM /c chmod "$C" 777
logged_nobody EPERM /c chown "$C" "$NB" -1
logged_nobody EPERM /c chown "$C" -1 "$NG"
# g is 0750: nobody (not in group 0) may not even reach it.
# (a lookup that fails is not logged: the kernel may ask twice)
expect_nobody EACCES read "$M/g/count"
as_nobody ls "$M/g" >/dev/null 2>&1 && fail "ls g (0750) as nobody succeeded"
expect_nobody EACCES stat "$M/g/count"
expect_nobody OK stat "$M/g"
expect_content "$C/count" 3
expect_content "$C/schema" dim=2 metric_type=L2 vector_type=FLOAT_VECTOR description=
expect_content "$C/state" Loaded
expect_eq "$(ls "$M" | tr '\n' ' ')" "c g h " "collections after nobody's attempts"
expect_content "$C/search/q" "1${TAB}0" "3${TAB}1"
expect_stat "$C" "755 0 0"
# access(2) answers for the caller
as_nobody test -w "$C/vectors" && fail "test -w c/vectors is true for nobody"
as_nobody test -r "$C/vectors" || fail "test -r c/vectors is false for nobody"
test -w "$C/vectors" || fail "test -w c/vectors is false for root"

# --- chown, chgrp, chmod ---------------------------------------------------------
expect_ok chown "$C" "$NB" "$NG"
expect_stat "$C" "755 $NB $NG"
expect_stat "$C/vectors" "644 $NB $NG"
expect_stat "$C/_default" "755 $NB $NG"
# now nobody may write c, and what it makes is its own
printf '4\t0.5,0.5\n' | as_nobody sh -c "cat >>'$C/vectors'" || fail "insert as the owner nobody"
expect_content "$C/count" 4
as_nobody mkdir "$C/p" || fail "mkdir c/p as nobody"
expect_stat "$C/p" "755 $NB $NG"
printf '5\t0.25,0.5\n' | as_nobody sh -c "cat >>'$C/p/vectors'" || fail "insert into c/p as nobody"
expect_content "$C/count" 5
# the owner changes the mode; not the owner
expect_nobody OK chmod "$C" 700
expect_stat "$C" "700 $NB $NG"
expect_stat "$C/count" "400 $NB $NG"
expect_stat "$C/_default/count" "400 $NB $NG"
expect_stat "$C/p" "755 $NB $NG"
# only root changes the owner, even to oneself back
logged_nobody EPERM /c chown "$C" 0 -1
case "$LAST_ERROR" in
*"only root may change the owner of collection c (owner $NB), caller uid $NB") ;;
*) fail "chown EPERM line: '$LAST_ERROR'" ;;
esac
# the owner may chgrp to its own groups only
logged_nobody EPERM /c chown "$C" -1 0
case "$LAST_ERROR" in
*"the owner may change the group of collection c only to a group of its own, and is not in group 0") ;;
*) fail "chgrp EPERM line: '$LAST_ERROR'" ;;
esac
_got=$(as_nobody --groups="$XG" "$PROBE" chown "$C" -1 "$XG")
expect_eq "$_got" OK "chgrp c $XG by its owner, a member of $XG"
expect_stat "$C" "700 $NB $XG"
# a member of the group gets the group's bits: 0750 lets group $XG read
expect_ok chmod "$C" 750
_got=$(as_nobody --groups="$XG" "$PROBE" read "$C/count")
expect_eq "$_got" OK "read c/count as the owner"
expect_ok chown "$M/g" 0 "$XG"
_got=$(setpriv --reuid=1 --regid=1 --groups="$XG" "$PROBE" read "$M/g/count")
expect_eq "$_got" OK "read g/count (0750, group $XG) as a member of $XG"
_got=$(setpriv --reuid=1 --regid=1 --groups="$XG" "$PROBE" write "$M/g/vectors" '1\t1,1\n')
expect_eq "$_got" EACCES "write g/vectors (0750, group $XG) as a member of $XG"
_got=$(setpriv --reuid=1 --regid=1 --clear-groups "$PROBE" read "$M/g/count")
expect_eq "$_got" EACCES "read g/count (0750, group $XG) as a non-member"
# root passes whatever the mode
expect_ok chmod "$M/h" 000
expect_ok read "$M/h/count"
expect_ok write "$M/h/vectors" '1\t1,1\n'
expect_ok chmod "$M/h" 700
# files, the search/ directories and the root keep their modes
expect_logged EPERM /c/schema chmod "$C/schema" 600
expect_logged EPERM /c/search chmod "$C/search" 700
expect_logged EPERM / chmod "$M" 700
expect_logged EPERM /c/count chown "$C/count" 0 0

# --- kept across remounts -----------------------------------------------------------
remount allow_other
expect_stat "$C" "750 $NB $XG"
expect_stat "$C/p" "755 $NB $NG"
expect_stat "$C/_default" "750 $NB $XG"
expect_stat "$M/g" "750 0 $XG"
expect_stat "$M/h" "700 0 0"
expect_stat "$M/h/vectors" "600 0 0"
# a rename keeps them
mv "$M/h" "$M/h2" || fail "mv h h2"
expect_stat "$M/h2" "700 0 0"
# without allow_other the modes still show (only the mounting user gets in)
remount
expect_stat "$C" "750 $NB $XG"
expect_stat "$M/h2/count" "400 0 0"
expect_content "$C/count" 5
remount allow_other

# --- S4: names reach /.errors and the log escaped --------------------------------------
_before=$(errors_lines)
_got=$("$PROBE" mkdir "$M/a${NL}b")
expect_eq "$_got" EINVAL "mkdir with a newline in the name"
expect_eq "$(errors_lines)" $((_before + 1)) "/.errors lines after mkdir 'a<NL>b'"
_line=$(tail -n 1 "$M/.errors")
case "$_line" in
*" mkdir /a\\nb EINVAL: "*) ;;
*) fail "/.errors line of mkdir 'a<NL>b': '$_line'" ;;
esac
printf '%s\n' "$_line" | grep -Eq "$ERR_RE" || fail "/.errors line malformed: '$_line'"
_before=$(errors_lines)
_got=$("$PROBE" read "$(printf '%s/search/x\001y\033[2J%s2026-01-01T00:00:00Z pid=1 rmdir c EBUSY: forged' "$C" "$NL")")
expect_eq "$_got" EINVAL "reading an inline query (it has a =) with control bytes in its name"
expect_eq "$(errors_lines)" $((_before + 1)) "/.errors lines after a forged name"
_line=$(tail -n 1 "$M/.errors")
case "$_line" in
*' open /c/search/x\x01y\x1b[2J\n2026-01-01T00:00:00Z pid=1 rmdir c EBUSY: forged EINVAL: '*) ;;
*) fail "/.errors line of the forged name: '$_line'" ;;
esac
grep -q '^2026-01-01T00:00:00Z pid=1 rmdir c EBUSY: forged' "$T/log" &&
	fail "the forged line reached the daemon's log as a line of its own"
grep -qF 'x\x01y\x1b[2J\n2026-01-01T00:00:00Z' "$T/log" ||
	fail "the escaped name is not in the daemon's log"
# a backslash in a path is doubled, so a path reads back
expect_eq "$("$PROBE" mkdir "$M/back\\nslash")" EINVAL "mkdir back\\nslash"
case "$(tail -n 1 "$M/.errors")" in
*' mkdir /back\\nslash EINVAL: '*) ;;
*) fail "/.errors line of a backslash: '$(tail -n 1 "$M/.errors")'" ;;
esac
# invalid UTF-8 as \xNN, valid UTF-8 as it is
expect_eq "$("$PROBE" mkdir "$(printf '%s/\303\251\377' "$M")")" EINVAL "mkdir of invalid UTF-8"
case "$(tail -n 1 "$M/.errors")" in
*" mkdir /$(printf '\303\251')\\xff EINVAL: "*) ;;
*) fail "/.errors line of invalid UTF-8: '$(tail -n 1 "$M/.errors")'" ;;
esac

# --- a database made before owners: defaults -----------------------------------------
# The same database with the owner, group and mode cut off every coll and
# pinfo value (what an older milvusfs wrote) mounts and shows the daemon's
# user, 0755, and the daemon checks those.
if command -v mdb_dump >/dev/null 2>&1 && command -v mdb_load >/dev/null 2>&1; then
	mfs_unmount || fail "unmount"
	mdb_dump -a "$DB" >"$T/dump" || fail "mdb_dump"
	py "$T/dump" "$T/dump.old" <<'EOF' || fail "cutting the owners off the dump"
import struct, sys
out, db, cut = [], None, 0
lines = open(sys.argv[1]).read().splitlines()
i = 0
while i < len(lines):
    l = lines[i]
    if l.startswith("database="):
        db = l[len("database="):]
    if l.startswith(" ") and db in ("coll", "pinfo"):
        k, v = l, bytes.fromhex(lines[i + 1][1:])
        if db == "coll":
            dl = struct.unpack(">H", v[20:22])[0]
            il = struct.unpack(">H", v[22 + dl:24 + dl])[0]
            base = 24 + dl + il
        else:
            base = 37
        assert len(v) in (base, base + 12), (db, v.hex())
        cut += len(v) > base
        out += [k, " " + v[:base].hex()]
        i += 2
        continue
    out.append(l)
    i += 1
assert cut >= 4, "owners cut from %d records" % cut
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOF
	mkdir "$T/db.old" && mdb_load -f "$T/dump.old" "$T/db.old" || fail "mdb_load"
	DB=$T/db.old
	mfs_mount allow_other
	expect_stat "$C" "755 0 0"
	expect_stat "$C/p" "755 0 0"
	expect_stat "$M/h2/vectors" "644 0 0"
	expect_content "$C/count" 5
	logged_nobody EACCES /c/vectors write "$C/vectors" '6\t0.5,0.5\n'
	# partitions without their own follow their collection
	expect_ok chmod "$C" 700
	expect_stat "$C/p" "700 0 0"
	expect_stat "$C/_default" "700 0 0"
else
	note "mdb_dump/mdb_load not installed: a database without owners not tested"
fi
exit 0
