# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the runtime integration tests (sourced). Usage of a test script:
#
#   test-X.sh CTRMGR_OCI PROBE
#
# Re-executes itself in a private mount namespace, makes a tmpfs scratch dir $T, a state root
# $ROOT and a cgroup parent of its own, and removes all of it (containers by `delete --force`,
# leftover processes by PID from its cgroups) on exit. TAP output.
set -euo pipefail

OCI=$(realpath "$1")
PROBE=$(realpath "$2")

if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP needs root"
        exit 77
fi
if [ -z "${CTRMGR_RT_TEST_IN_NS:-}" ]; then
        export CTRMGR_RT_TEST_IN_NS=1
        exec unshare --mount --propagation private -- "$0" "$@"
fi
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || { echo "1..0 # SKIP busybox-static missing"; exit 77; }
for tool in jq nsenter setpriv; do
        command -v $tool >/dev/null || { echo "1..0 # SKIP $tool missing"; exit 77; }
done

T=$(mktemp -d /tmp/ctrmgr-rt-test.XXXXXX)
mount -t tmpfs -o mode=0755 tmpfs "$T"
ROOT=$T/state
CG2=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' /proc/self/mountinfo)
CGPARENT=/ctrmgr-rt-test-$$
failures=0
ntests=0

log() { echo "# $*"; }
pass() { ntests=$((ntests + 1)); echo "ok $ntests - $*"; }
fail() { ntests=$((ntests + 1)); failures=$((failures + 1)); echo "not ok $ntests - $*"; }
skip() { ntests=$((ntests + 1)); echo "ok $ntests - $1 # SKIP $2"; }
show() { sed 's/^/#   /' "$@"; }

oci() { "$OCI" --root "$ROOT" "$@"; }

# check DESCRIPTION COMMAND…: passes when the command succeeds.
check() {
        local d=$1; shift
        if "$@" >"$T/out" 2>&1; then pass "$d"; else fail "$d"; show "$T/out"; fi
}
# check_fails DESCRIPTION COMMAND…: passes when the command fails.
check_fails() {
        local d=$1; shift
        if "$@" >"$T/out" 2>&1; then fail "$d (succeeded)"; show "$T/out"; else pass "$d"; fi
}
# check_output DESCRIPTION EXTENDED-REGEX COMMAND…: the output (stdout+stderr) must match.
check_output() {
        local d=$1 re=$2; shift 2
        "$@" >"$T/out" 2>&1 || true
        if grep -Eq -- "$re" "$T/out"; then pass "$d"; else fail "$d (no /$re/)"; show "$T/out"; fi
}
# check_no_output DESCRIPTION EXTENDED-REGEX COMMAND…: the command must succeed without matching.
check_no_output() {
        local d=$1 re=$2; shift 2
        if ! "$@" >"$T/out" 2>&1; then fail "$d (command failed)"; show "$T/out"; return; fi
        if grep -Eq -- "$re" "$T/out"; then fail "$d (/$re/ seen)"; show "$T/out"; else pass "$d"; fi
}
# check_eq DESCRIPTION EXPECTED COMMAND…: the command succeeds and prints exactly EXPECTED.
check_eq() {
        local d=$1 want=$2; shift 2
        local got
        got=$("$@" 2>"$T/err")
        if [ "$got" = "$want" ]; then pass "$d"; else fail "$d (want \"$want\", got \"$got\")"; show "$T/err"; fi
}
# check_ne DESCRIPTION UNWANTED COMMAND…: the command succeeds and prints something non-empty
# other than UNWANTED.
check_ne() {
        local d=$1 bad=$2; shift 2
        local got rc=0
        got=$("$@" 2>"$T/err") || rc=$?
        if [ $rc -eq 0 ] && [ -n "$got" ] && [ "$got" != "$bad" ]; then pass "$d"; else fail "$d (got \"$got\", status $rc)"; show "$T/err"; fi
}
wait_for() { # wait_for SECONDS COMMAND…
        local n=$(($1 * 20)); shift
        while [ $n -gt 0 ]; do
                if "$@" >/dev/null 2>&1; then return 0; fi
                sleep 0.05
                n=$((n - 1))
        done
        return 1
}
# gone PID: the process has ended (a zombie counts: orphans wait for the host's PID 1 to reap
# them, which can take a second here).
gone() { [ ! -e "/proc/$1/stat" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
status_of() { oci state "$1" | jq -r .status; }
# status_is ID STATUS: for wait_for, which must re-read the state on every try (an argument
# written as "$(status_of ID)" is expanded once, before the waiting starts).
status_is() { [ "$(status_of "$1")" = "$2" ]; }
pid_of() { oci state "$1" | jq -r .pid; }

# make_bundle DIR [ARGS…]: a busybox rootfs with the probe as /probe and a config.json from
# `ctrmgr-oci spec` without a terminal, in a cgroup below the test's own parent.
make_bundle() {
        local b=$1; shift
        mkdir -p "$b/rootfs/bin" "$b/rootfs/etc" "$b/rootfs/tmp" "$b/rootfs/proc" "$b/rootfs/sys" \
                "$b/rootfs/dev"
        cp /bin/busybox "$b/rootfs/bin/busybox"
        for a in sh sleep echo cat ls id grep hostname mount touch mkdir readlink stat ps true false \
                wc head tr ln rm env awk dd df test printf cut sort uname stty; do
                ln -sf busybox "$b/rootfs/bin/$a"
        done
        cp "$PROBE" "$b/rootfs/probe"
        echo 'root:x:0:0:root:/:/bin/sh' >"$b/rootfs/etc/passwd"
        echo 'root:x:0:' >"$b/rootfs/etc/group"
        "$OCI" spec --bundle "$b"
        local name
        name=$(basename "$b")
        jq_edit "$b" --arg cg "$CGPARENT/$name" '.process.terminal = false | .linux.cgroupsPath = $cg'
        if [ $# -gt 0 ]; then set_args "$b" "$@"; fi
}
# jq_edit BUNDLE JQ-ARGS…: edits BUNDLE/config.json in place.
jq_edit() {
        local b=$1; shift
        jq "$@" <"$b/config.json" >"$b/config.json.new"
        mv "$b/config.json.new" "$b/config.json"
}
# json_array ARGS…: a JSON array of the arguments (with --args, jq would take "-c" for its own
# option; python3 takes over a second to start on these machines).
json_array() { printf '%s\x1f' "$@" | jq -Rsc 'split("\u001f")[:-1]'; }
set_args() {
        local b=$1; shift
        jq_edit "$b" --argjson a "$(json_array "$@")" '.process.args = $a'
}

rt_cleanup() {
        set +e
        if [ -d "$ROOT" ]; then
                for id in $("$OCI" --root "$ROOT" list --quiet 2>/dev/null); do
                        "$OCI" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
                done
        fi
        # every hierarchy: on hybrid hosts podman puts conmon in the v1 ones too
        local h f p
        for h in $(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }' /proc/self/mountinfo); do
                [ -d "$h$CGPARENT" ] || continue
                for f in $(find "$h$CGPARENT" -name cgroup.procs 2>/dev/null); do
                        for p in $(cat "$f"); do kill -9 "$p" 2>/dev/null; done
                done
                sleep 0.1
                find "$h$CGPARENT" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        grep " $T/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | while read -r m; do umount -l "$m"; done
        umount -l "$T" 2>/dev/null
        rmdir "$T" 2>/dev/null
}
trap rt_cleanup EXIT
# From here on a failing command is a failing check, not the end of the script.
set +e

# Ends the test: the plan line and the exit code.
finish() {
        echo "1..$ntests"
        [ "$failures" -eq 0 ]
}

# run_in BUNDLE ARGS…: runs ARGS in a fresh container of BUNDLE (`ctrmgr-oci run`), output on
# stdout/stderr, its exit status returned.
run_seq=0
run_in() {
        local b=$1; shift
        set_args "$b" "$@"
        run_seq=$((run_seq + 1))
        oci run --bundle "$b" "r$run_seq-$(basename "$b")" </dev/null
}
