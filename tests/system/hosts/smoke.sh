#!/usr/bin/env bash
# Smoke test of the tier-1 test host (tests/system/lib/testhost.sh): it is a real booted systemd
# machine (PID 1, journald, system bus, delegated scopes), it is isolated from the machine, a
# second one boots beside it, and stopping (or a crash, or a failing test's trap) leaves nothing
# behind. TAP output.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/testhost.sh
source "$here/../lib/testhost.sh"
export TESTHOST_QUIET=1

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { # DESCRIPTION CMD…
        local what=$1
        shift
        if "$@"; then ok "$what"; else not_ok "$what"; fi
}
diag() { sed 's/^/# /' <<<"$*"; }

if ! why=$(testhost_is_possible); then
        echo "1..0 # SKIP $why"
        exit 0
fi

testhost_trap_cleanup
A=smoke-$$-a
B=smoke-$$-b
canary=/tmp/testhost-canary-$$
echo keep >"$canary"

t0=$EPOCHREALTIME
if testhost_boot "$A"; then
        ok "host $A boots ($(_testhost_elapsed "$t0") s)"
else
        not_ok "host $A boots"
        echo "Bail out! the test host does not boot"
        rm -f "$canary"
        echo "1..$n"
        exit 1
fi

# -- it is a real systemd machine ----------------------------------------------------------------
check "PID 1 inside is systemd" test "$(testhost_exec "$A" cat /proc/1/comm)" = systemd
pid1_exe=$(testhost_exec "$A" readlink /proc/1/exe)
check "PID 1 runs systemd's binary ($pid1_exe)" test "${pid1_exe##*/}" = systemd
state=$(testhost_exec "$A" systemctl is-system-running)
check "systemctl is-system-running says running (got '$state')" test "$state" = running
[ "$state" = running ] || diag "$(testhost_exec "$A" systemctl --failed --no-legend)"
check "exit status passes through testhost_exec" test "$(testhost_exec "$A" sh -c 'exit 7'; echo $?)" = 7
check "the host has its own hostname" test "$(testhost_exec "$A" hostname)" = "$A"

mark="testhost-smoke-$$-$RANDOM"
testhost_exec "$A" systemd-cat -t testhost-smoke echo "$mark"
journal_has_mark() {
        local _
        for _ in $(seq 50); do
                testhost_exec "$A" journalctl -t testhost-smoke -o cat --no-pager 2>/dev/null |
                        grep -qx "$mark" && return 0
                sleep 0.1
        done
        return 1
}
check "journald receives a message and journalctl shows it" journal_has_mark
check "journald runs as a service in the host" \
        test "$(testhost_exec "$A" systemctl is-active systemd-journald.service)" = active

bus_id=$(testhost_exec "$A" busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId)
check "busctl talks to the system bus ($bus_id)" grep -Eq '^s "[0-9a-f]{32}"$' <<<"$bus_id"
version=$(testhost_exec "$A" busctl get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 \
        org.freedesktop.systemd1.Manager Version)
check "systemd answers on the bus ($version)" grep -q '^s "' <<<"$version"

# A delegated scope in ctrmgr.slice, the way ctrmgrd will make one for each container.
scope_out=$(testhost_exec "$A" systemd-run --quiet --scope --slice=ctrmgr.slice -p Delegate=yes \
        --unit=smoke-scope sh -c '
cg=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)
echo "cg=$cg"
grep -qx "$$" "$cg/cgroup.procs" && echo member
test -e "$cg/cgroup.kill" && test -e "$cg/cgroup.freeze" && echo v2-files
mkdir "$cg/sub" && rmdir "$cg/sub" && echo can-delegate
systemctl show -p Delegate smoke-scope.scope')
diag "$scope_out"
check "systemd-run --scope --slice=ctrmgr.slice -p Delegate=yes makes its own cgroup2 directory" \
        grep -qx 'cg=/sys/fs/cgroup/ctrmgr.slice/smoke-scope.scope' <<<"$scope_out"
check "the scope's process is in it, with cgroup.kill and cgroup.freeze" \
        bash -c 'grep -qx member <<<"$1" && grep -qx v2-files <<<"$1"' _ "$scope_out"
check "the scope is delegated (Delegate=yes, sub-cgroups can be made)" \
        bash -c 'grep -qx can-delegate <<<"$1" && grep -qx Delegate=yes <<<"$1"' _ "$scope_out"

check "namespaces can be made inside (what ctrmgr's runtime needs)" \
        testhost_exec "$A" unshare --mount --net --pid --fork --mount-proc \
        sh -c 'ip link set lo up && test "$(ps -o pid= | head -1 | tr -d " ")" = 1'
check "an overlay with its upper layer in /var/lib/ctrmgr can be mounted inside (a tmpfs there)" \
        testhost_exec "$A" unshare --mount sh -c 'd=/var/lib/ctrmgr/smoke-$$ &&
                mkdir -p $d/l $d/u $d/w $d/m && echo x >$d/l/f &&
                mount -t overlay o -o lowerdir=$d/l,upperdir=$d/u,workdir=$d/w $d/m &&
                echo y >$d/m/f && test "$(cat $d/u/f)" = y && umount $d/m && rm -rf $d'

# -- isolation from the machine ------------------------------------------------------------------
testhost_exec "$A" sh -c "echo inside > /var/lib/testhost-smoke-$$"
check "files written inside do not reach the machine" test ! -e "/var/lib/testhost-smoke-$$"
check "booting did not touch the machine's /tmp" test -f "$canary"

# -- a second host beside the first ------------------------------------------------------------
if testhost_boot "$B"; then
        ok "a second host $B boots beside the first"
else
        not_ok "a second host $B boots beside the first"
fi
check "both are running, with different machine ids" bash -c '
        source "$1"
        [ "$(testhost_exec "$2" systemctl is-system-running)" = running ] &&
        [ "$(testhost_exec "$3" systemctl is-system-running)" = running ] &&
        [ "$(testhost_exec "$2" cat /etc/machine-id)" != "$(testhost_exec "$3" cat /etc/machine-id)" ]' \
        _ "$TESTHOST_LIB" "$A" "$B"

# -- teardown leaves nothing -----------------------------------------------------------------------
# Everything a host used: its nspawn and systemd PIDs (with start times), its cgroups, its state
# directory (the mount points).
record() {
        local h=$1
        echo "$(cat "$TESTHOST_STATE/$h/nspawn.pid") $(cat "$TESTHOST_STATE/$h/leader.pid")" >"$canary.$h.pids"
        testhost_cgroups "$h" >"$canary.$h.cgroups"
}
# Nothing of host H remains: no directory, cgroup, process, or mount anywhere on the machine.
gone() {
        local h=$1 cg left=""
        [ -e "$TESTHOST_STATE/$h" ] && left+=" state-dir"
        while read -r cg; do [ -e "$cg" ] && left+=" $cg"; done <"$canary.$h.cgroups"
        [ -s "$canary.$h.cgroups" ] || left+=" (no cgroups recorded)"
        # shellcheck disable=SC2046
        set -- $(cat "$canary.$h.pids")
        while [ $# -ge 2 ]; do
                [ "$(_testhost_proc_id "$1" 2>/dev/null)" = "$2" ] && left+=" pid-$1"
                shift 2
        done
        grep -lF "$TESTHOST_STATE/$h/" /proc/[0-9]*/mountinfo >/dev/null 2>&1 && left+=" mounts"
        find /sys/fs/cgroup -maxdepth 2 -name "testhost-$h*" 2>/dev/null | grep -q . && left+=" cgroup-by-name"
        if [ -n "$left" ]; then
                diag "left behind by $h:$left"
                return 1
        fi
}
record "$A"
record "$B"
t0=$EPOCHREALTIME
testhost_stop "$A"
diag "stop took $(_testhost_elapsed "$t0") s"
check "after stop, nothing of $A is left (processes, cgroups, mounts, state)" gone "$A"
check "$B still runs after $A stopped" test "$(testhost_exec "$B" systemctl is-system-running)" = running

# A crash: nspawn dies by SIGKILL; cleanup must still remove everything.
kill -KILL "$(testhost_nspawn_pid "$B")"
sleep 0.2
testhost_cleanup "$B"
check "after nspawn is killed, testhost_cleanup leaves nothing of $B" gone "$B"

# A failing test: its trap tears down what it booted.
C=smoke-$$-c
bash -c 'source "$1"; TESTHOST_QUIET=1; testhost_trap_cleanup; testhost_boot "$2" || exit 3
        cat "$TESTHOST_STATE/$2/nspawn.pid" "$TESTHOST_STATE/$2/leader.pid" | tr "\n" " " >"$3.$2.pids"
        testhost_cgroups "$2" >"$3.$2.cgroups"; false' _ "$TESTHOST_LIB" "$C" "$canary"
rc=$?
check "a failing test's trap leaves nothing of its host (exit $rc)" bash -c '[ "$1" = 1 ]' _ "$rc"
check "... no processes, cgroups or mounts" gone "$C"

rm -f "$canary" "$canary".*
echo "1..$n"
exit $((failed > 0))
