#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `ctrmgr status` of units on their way up: Notify=true waiting for READY=1 and Notify=healthy
# waiting for a passing health check are "activating (start)" with a running container, and
# status shows them so (since when, main PID, health, process tree). ctrmgrd without systemd
# (cgroupfs, file logs) on a private bus, as test-daemon.sh runs it. Runs as root in a private
# mount namespace; removes every process, mount and cgroup it made.
#
#   test-status.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=$(realpath "$1")
src=$(realpath "$2")

skip() { echo "1..0 # SKIP $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
if [ -z "${CTRMGR_TEST_IN_NS:-}" ]; then
        export CTRMGR_TEST_IN_NS=1
        exec unshare --mount --propagation private -- "$0" "$@"
fi
command -v dbus-daemon >/dev/null || skip "dbus-daemon missing"
command -v busctl >/dev/null || skip "busctl missing"
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || skip "busybox-static missing"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 hierarchy"

ctrmgr=$build/tools/ctrmgr
ctrmgrd=$build/manager/ctrmgrd
T=$(mktemp -d /tmp/ctrmgr-status-test.XXXXXX)
mount -t tmpfs -o mode=0755 tmpfs "$T"
chmod 0755 "$T"
parent=/ctrmgr-status-test-$$
bus_pid= daemon_pid= bg_pids=() failures=0 n=0

export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus
export CTRMGR_PAGER=cat NO_COLOR=1 TZ=UTC

fail() { n=$((n + 1)); echo "not ok $n - $*"; failures=$((failures + 1)); }
pass() { n=$((n + 1)); echo "ok $n - $*"; }
show() { sed 's/^/#   /' "$@"; }
# check_output DESCRIPTION REGEX FILE
check_output() {
        if grep -Eq -- "$2" "$3"; then pass "$1"; else fail "$1 (no /$2/)"; show "$3"; fi
}
check() { # check DESCRIPTION COMMAND…
        local d=$1; shift
        if "$@" >"$T/out" 2>&1; then pass "$d"; else fail "$d"; show "$T/out"; fi
}
wait_for() { # wait_for SECONDS COMMAND…
        local k=$(($1 * 10)); shift
        while [ $k -gt 0 ]; do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.1
                k=$((k - 1))
        done
        return 1
}
prop() { # prop UNIT PROPERTY → value
        local path
        path=$(busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call org.ctrmgr1 /org/ctrmgr1 org.ctrmgr1.Manager GetUnit s "$1" | awk '{ print $2 }' | tr -d '"')
        busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" get-property org.ctrmgr1 "$path" org.ctrmgr1.Unit "$2" | cut -d' ' -f2- | tr -d '"'
}
is_activating() { # is_activating UNIT: activating (start) with a main PID
        [ "$(prop "$1" ActiveState) $(prop "$1" SubState)" = "activating start" ] && [ "$(prop "$1" MainPID)" -gt 0 ]
}
# status UNIT: `ctrmgr status UNIT` into $T/status.UNIT, its exit status into $T/status.UNIT.rc
status() {
        local rc=0
        "$ctrmgr" status "$1" >"$T/status.$1" 2>&1 || rc=$?
        echo $rc >"$T/status.$1.rc"
}

cleanup() {
        set +e
        if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
                "$ctrmgr" stop waiter checker >/dev/null 2>&1
                kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null
        fi
        for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
        for f in $(find "$cg2$parent" -name cgroup.procs 2>/dev/null); do
                for p in $(cat "$f"); do kill -9 "$p" 2>/dev/null; done
        done
        sleep 0.2
        [ -d "$cg2$parent" ] && find "$cg2$parent" -depth -type d -exec rmdir {} \; 2>/dev/null
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null && wait "$bus_pid" 2>/dev/null
        grep " $T/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | while read -r m; do umount -l "$m"; done
        umount -l "$T" 2>/dev/null
        rmdir "$T" 2>/dev/null
}
trap cleanup EXIT

mkdir -p "$T/units" "$T/run" "$T/log" "$T/lib"
"$src/examples/images/build-busybox.sh" --ctrmgr "$ctrmgr" --store "$T/lib/images" >/dev/null ||
        skip "could not build the busybox image"

# Never sends READY=1: activating until stopped.
cat >"$T/units/waiter.ctr" <<'EOF'
[Unit]
Description=Waits for READY=1 that never comes
[Container]
Image=busybox:latest
Exec=sleep 1000
Notify=false
StopTimeout=1
[Service]
TimeoutStartSec=5min
EOF
# Its health check never passes: activating, health "starting".
cat >"$T/units/checker.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sleep 1000
Notify=healthy
HealthCmd=echo not yet; exit 1
HealthInterval=1s
HealthRetries=1000
StopTimeout=1
[Service]
TimeoutStartSec=5min
EOF

sed -e "s|@ADDRESS@|$T/bus|" -e "s|@POLICY@|<include>$src/manager/data/org.ctrmgr1.conf</include>|" \
        "$src/tests/integration/manager/bus.conf.in" >"$T/bus.conf"
dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile --nosyslog &
bus_pid=$!
wait_for 5 test -S "$T/bus" || { echo "Bail out! dbus-daemon did not start"; exit 1; }
"$ctrmgrd" --unit-path "$T/units" --state-dir "$T/run" --image-store "$T/lib/images" \
        --layers-dir "$T/lib/layers" --containers-dir "$T/lib/containers" --lib-dir "$T/lib" \
        --log-dir "$T/log" --log-target file --cgroup-driver cgroupfs --cgroup-parent "$parent" \
        --no-boot-units 2>>"$T/daemon.log" &
daemon_pid=$!
wait_for 10 "$ctrmgr" list || { echo "Bail out! ctrmgrd did not come up"; cat "$T/daemon.log"; exit 1; }

# ---------------------------------------------------------------- Notify=true, after an earlier run
# waiter runs once as Notify=false (active at once), stops, and comes back as Notify=true: the
# "since" of its activating state is this start, not the earlier run's activation.
check "start waiter with Notify=false" "$ctrmgr" start waiter
check "stop it" "$ctrmgr" stop waiter
sleep 1.2
sed -i 's/^Notify=false/Notify=true/' "$T/units/waiter.ctr"
check "daemon-reload: waiter now waits for READY=1" "$ctrmgr" daemon-reload
"$ctrmgr" start waiter >"$T/start.waiter" 2>&1 &
bg_pids+=($!)
wait_for 10 is_activating waiter || true
status waiter
f=$T/status.waiter
since=$(prop waiter InactiveExitTimestamp)
since_text=$(date -d "@$((since / 1000000))" '+%a %Y-%m-%d %H:%M:%S %Z')
check_output "status: Active: activating (start) since this start" \
        "Active: activating \\(start\\) since $since_text; " "$f"
check_output "status: the main PID while activating" "Main PID: $(prop waiter MainPID)\$" "$f"
check_output "status: the image digest while activating" 'Image: busybox:latest \(sha256:[0-9a-f]{64}\)' "$f"
check_output "status: the scope's cgroup while activating" "CGroup: $parent/ctrmgr-waiter.scope\$" "$f"
check_output "status: the process tree while activating" '─[0-9]+ sleep 1000$' "$f"
check_output "status: not active yet, exit status 3" '^3$' "$f.rc"
"$ctrmgr" --output json status waiter >"$T/json" 2>&1 || true
check_output "status --output json: activating, start" '"activeState":"activating","subState":"start"' "$T/json"
# Global options after the verb, as systemctl takes them.
"$ctrmgr" status -o json --no-pager waiter >"$T/json2" 2>&1 || true
check_output "status -o json --no-pager after the verb" '"activeState":"activating","subState":"start"' "$T/json2"

# ---------------------------------------------------------------- Notify=healthy, failing check
"$ctrmgr" start checker >"$T/start.checker" 2>&1 &
bg_pids+=($!)
wait_for 10 is_activating checker || true
wait_for 10 bash -c "grep -q 'not yet' <(busctl --address='$DBUS_SYSTEM_BUS_ADDRESS' get-property org.ctrmgr1 /org/ctrmgr1/unit/checker org.ctrmgr1.Unit HealthLog)" || true
status checker
f=$T/status.checker
check_output "status: activating (start) while the health check fails" 'Active: activating \(start\) since ' "$f"
check_output "status: Health: starting, with the last check's verdict" \
        'Health: starting \(last check: exit status 1, "not yet"\)' "$f"
check_output "status: its main PID" 'Main PID: [1-9][0-9]*$' "$f"

"$ctrmgr" stop waiter checker >/dev/null 2>&1 || true
for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null || true; done
bg_pids=()

echo "1..$n"
[ $failures -eq 0 ] || { echo "# $failures failures"; show "$T/daemon.log" | tail -30; exit 1; }
exit 0
