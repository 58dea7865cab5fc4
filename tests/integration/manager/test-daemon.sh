#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Integration test of ctrmgrd without systemd: cgroupfs below the machine's cgroup2 hierarchy,
# a private D-Bus "system" bus with the real policy file, no journald (file logs), driven with
# the ctrmgr CLI. Runs as root in a private mount namespace; removes every process, mount and
# cgroup it made.
#
#   test-daemon.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=$(realpath "$1")
src=$(realpath "$2")

skip() { echo "1..0 # SKIP $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
if [ -z "${CTRMGR_TEST_IN_NS:-}" ]; then
        export CTRMGR_TEST_IN_NS=1
        exec unshare --mount --propagation private -- "$0" "$@"
fi
for tool in dbus-daemon setpriv; do
        command -v $tool >/dev/null || skip "$tool missing"
done
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || skip "busybox-static missing"

cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 hierarchy"

ctrmgr=$build/tools/ctrmgr
ctrmgrd=$build/manager/ctrmgrd
T=$(mktemp -d /tmp/ctrmgr-manager-test.XXXXXX)
mount -t tmpfs -o mode=0755 tmpfs "$T"
chmod 0755 "$T"
parent=/ctrmgr-test-$$
bus_pid=
daemon_pid=
bus2_pid=
daemon2_pid=
failures=0

export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus
export CTRMGR_PAGER=cat NO_COLOR=1

log() { echo "# $*"; }
n=0
fail() { n=$((n + 1)); echo "not ok $n - $*"; failures=$((failures + 1)); }
pass() { n=$((n + 1)); echo "ok $n - $*"; }
check() { # check DESCRIPTION COMMAND…
        local d=$1; shift
        if "$@" >"$T/out" 2>&1; then pass "$d"; else fail "$d"; sed 's/^/#   /' "$T/out"; fi
}
check_output() { # check_output DESCRIPTION REGEX COMMAND…
        local d=$1 re=$2; shift 2
        "$@" >"$T/out" 2>&1 || true
        if grep -Eq -- "$re" "$T/out"; then pass "$d"; else fail "$d (no /$re/)"; sed 's/^/#   /' "$T/out"; fi
}
wait_for() { # wait_for SECONDS COMMAND…
        local n=$(($1 * 10)); shift
        while [ $n -gt 0 ]; do
                if "$@" >/dev/null 2>&1; then return 0; fi
                sleep 0.1
                n=$((n - 1))
        done
        return 1
}
prop() { # prop UNIT PROPERTY → value (busctl's "TYPE VALUE" without the type)
        local path
        path=$(busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call org.ctrmgr1 /org/ctrmgr1 org.ctrmgr1.Manager GetUnit s "$1" | awk '{ print $2 }' | tr -d '"')
        busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" get-property org.ctrmgr1 "$path" org.ctrmgr1.Unit "$2" | cut -d' ' -f2- | tr -d '"'
}
export -f prop
gone() { # gone PID: no such process, or a zombie nobody has reaped yet (PID 1 here may be slow)
        local st
        st=$(awk '{ print $3 }' /proc/"$1"/stat 2>/dev/null) || return 0
        [ -z "$st" ] || [ "$st" = Z ]
}
export -f gone

cleanup() {
        set +e
        if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
                for u in sleeper trapper added app bound db cyc-a cyc-b rofs vols nocp stopsig base needsbase bootstop unless recov slowstop; do "$ctrmgr" stop $u >/dev/null 2>&1; done
                kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null
        fi
        # Anything still running in our cgroups (a failed test) goes by PID.
        for f in $(find "$cg2$parent" -name cgroup.procs 2>/dev/null); do
                for p in $(cat "$f"); do kill -9 "$p" 2>/dev/null; done
        done
        sleep 0.2
        find "$cg2$parent" -depth -type d -exec rmdir {} \; 2>/dev/null
        [ -n "$daemon2_pid" ] && kill "$daemon2_pid" 2>/dev/null && wait "$daemon2_pid" 2>/dev/null
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null && wait "$bus_pid" 2>/dev/null
        [ -n "$bus2_pid" ] && kill "$bus2_pid" 2>/dev/null && wait "$bus2_pid" 2>/dev/null
        grep " $T/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | while read -r m; do umount -l "$m"; done
        umount -l "$T" 2>/dev/null
        rmdir "$T" 2>/dev/null
}
trap cleanup EXIT

# ---------------------------------------------------------------- image: busybox:latest
mkdir -p "$T/units" "$T/run" "$T/log" "$T/lib"
if [ -x "$src/examples/images/build-busybox.sh" ] && "$ctrmgr" image --help >/dev/null 2>&1; then
        "$src/examples/images/build-busybox.sh" --ctrmgr "$ctrmgr" --store "$T/lib/images" >/dev/null
else
        command -v umoci >/dev/null || skip "neither examples/images nor umoci"
        umoci init --layout "$T/lib/images"
        umoci new --image "$T/lib/images:latest"
        umoci unpack --image "$T/lib/images:latest" "$T/bundle" >/dev/null
        mkdir -p "$T/bundle/rootfs/bin" "$T/bundle/rootfs/etc"
        cp /bin/busybox "$T/bundle/rootfs/bin/busybox"
        for a in sh sleep echo cat ls httpd; do ln -s busybox "$T/bundle/rootfs/bin/$a"; done
        echo 'root:x:0:0:root:/root:/bin/sh' >"$T/bundle/rootfs/etc/passwd"
        umoci repack --image "$T/lib/images:latest" "$T/bundle" >/dev/null
        umoci config --image "$T/lib/images:latest" --config.cmd sh --config.env PATH=/bin
        umoci tag --image "$T/lib/images:latest" busybox:latest
        rm -rf "$T/bundle"
fi

# ---------------------------------------------------------------- units
cat >"$T/units/sleeper.ctr" <<'EOF'
[Unit]
Description=Sleeps, ignoring SIGTERM as PID 1 does

[Container]
Image=busybox:latest
Exec=/bin/sh -c 'echo "hello from $HOSTNAME"; echo "to stderr" >&2; exec sleep 1000'
StopTimeout=1

[Install]
WantedBy=multi-user.target
EOF
cat >"$T/units/trapper.ctr" <<'EOF'
[Unit]
Description=Exits cleanly on SIGTERM

[Container]
Image=busybox:latest
Exec=/bin/sh -c 'trap "echo bye; exit 0" TERM; echo started; while :; do sleep 0.2; done'
EOF
cat >"$T/units/broken.ctr" <<'EOF'
[Container]
Image=busybox:latest
Memory=lots
EOF

# ---------------------------------------------------------------- bus and daemon
sed -e "s|@ADDRESS@|$T/bus|" -e "s|@POLICY@|<include>$src/manager/data/org.ctrmgr1.conf</include>|" \
        "$src/tests/integration/manager/bus.conf.in" >"$T/bus.conf"
dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile --nosyslog &
bus_pid=$!
wait_for 5 test -S "$T/bus" || { echo "Bail out! dbus-daemon did not start"; exit 1; }

start_daemon() {
        "$ctrmgrd" --unit-path "$T/units" --state-dir "$T/run" --image-store "$T/lib/images" \
                --layers-dir "$T/lib/layers" --containers-dir "$T/lib/containers" --lib-dir "$T/lib" --log-dir "$T/log" \
                --log-target file --cgroup-driver cgroupfs --cgroup-parent "$parent" "$@" 2>>"$T/daemon.log" &
        daemon_pid=$!
        wait_for 10 "$ctrmgr" list || { echo "Bail out! ctrmgrd did not come up"; cat "$T/daemon.log"; exit 1; }
}

t0=$(date +%s%N)
start_daemon
t1=$(date +%s%N)
log "ctrmgrd up with boot units started in $(((t1 - t0) / 1000000)) ms"

# ---------------------------------------------------------------- boot units, list, status
# The daemon answers on the bus at once; its boot units become active in the background.
wait_for 10 bash -c "\"$ctrmgr\" list | grep -Eq '^. sleeper +loaded +active'" || true
check_output "boot unit sleeper is active" '^. sleeper +loaded +active +running' "$ctrmgr" list
check_output "trapper (no WantedBy) stays inactive" '^. trapper +loaded +inactive +dead' "$ctrmgr" list
check_output "broken unit shows load error" '^. broken +error' "$ctrmgr" list
check_output "broken unit's status names file and line" "broken.ctr:3" "$ctrmgr" status broken
check_output "status: Active line" 'Active: active \(running\) since' "$ctrmgr" status sleeper
check_output "status: boot start shown" 'Loaded: loaded \(.*sleeper.ctr; enabled\)' "$ctrmgr" status sleeper
check_output "status: image digest" 'Image: busybox:latest \(sha256:[0-9a-f]{64}\)' "$ctrmgr" status sleeper
check_output "status: cgroup is the scope" "CGroup: $parent/ctrmgr-sleeper.scope" "$ctrmgr" status sleeper
check_output "status: process tree" 'sleep 1000' "$ctrmgr" status sleeper
check_output "status --output json" '"activeState":"active"' "$ctrmgr" --output json status sleeper

pid=$(prop sleeper MainPID)
check "sleeper has a main PID" test "${pid:-0}" -gt 0
check "MainPID is a running process" kill -0 "$pid"
check_output "MainPID is in ctrmgr-sleeper.scope" "^0::$parent/ctrmgr-sleeper.scope\$" cat /proc/$pid/cgroup
check_output "ImageDigest on the bus" '^sha256:' prop sleeper ImageDigest
check_output "ScopeUnit on the bus" '^ctrmgr-sleeper.scope$' prop sleeper ScopeUnit
check_output "TasksCurrent counts the container's tasks" '^[1-9]' prop sleeper TasksCurrent
check_output "introspection lists the unit interface" 'org.ctrmgr1.Unit' \
        busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" introspect org.ctrmgr1 /org/ctrmgr1/unit/sleeper
check_output "container output in the unit's log file" 'hello from sleeper' cat "$T/log/sleeper.log"
check_output "stderr in the unit's log file" 'to stderr' cat "$T/log/sleeper.log"
check_output "daemon messages in the unit's log file" 'ctrmgrd: Started' cat "$T/log/sleeper.log"
check_output "ctrmgr logs reads it back" 'hello from sleeper' "$ctrmgr" logs sleeper
check_output "ctrmgr spec prints the baseline" 'CAP_NET_BIND_SERVICE' "$ctrmgr" spec --unit-path "$T/units" \
        --image-store "$T/lib/images" --state-dir "$T/run" --cgroup-driver cgroupfs sleeper

# ---------------------------------------------------------------- access control
check_output "unprivileged user reads status" 'Active: active' \
        setpriv --reuid=65534 --regid=65534 --clear-groups "$ctrmgr" status sleeper
check_output "unprivileged user cannot StopUnit" 'Access denied|AccessDenied|not allowed' \
        setpriv --reuid=65534 --regid=65534 --clear-groups "$ctrmgr" stop sleeper
check "sleeper still running after the denied stop" kill -0 "$pid"

# ---------------------------------------------------------------- exec
check_output "exec runs in the container's UTS namespace" '^sleeper$' "$ctrmgr" exec sleeper hostname
check_output "... in its cgroup namespace" '^0::/$' "$ctrmgr" exec sleeper cat /proc/self/cgroup
"$ctrmgr" exec sleeper sleep 3 >/dev/null 2>&1 &
expid=$!
wait_for 3 bash -c "[ \$(wc -l <'$cg2$parent/ctrmgr-sleeper.scope/cgroup.procs') -ge 2 ]" || true
check_output "... and its scope: the scope holds the exec'd process" '^sleep 3$' \
        bash -c "for p in \$(cat '$cg2$parent/ctrmgr-sleeper.scope/cgroup.procs'); do tr '\\0' ' ' </proc/\$p/cmdline; echo; done | sed 's/ \$//'"
wait "$expid" 2>/dev/null || true
check_output "... and its PID namespace (PID 1 is the container's sleep)" '^sleep$' \
        "$ctrmgr" exec sleeper cat /proc/1/comm
check "exec passes the command's exit status" bash -c "\"$ctrmgr\" exec sleeper sh -c 'exit 7'; [ \$? = 7 ]"
check_output "options after the command are the command's, global ones too" '^--no-pager -o json$' \
        "$ctrmgr" exec sleeper echo --no-pager -o json
check_output "exec -t gives the command a terminal" '/dev/pts/[0-9]' \
        script -qec "\"$ctrmgr\" exec -t sleeper tty" /dev/null
check_output "exec into a unit that is not running fails, naming it" 'Failed to exec in trapper' \
        "$ctrmgr" exec trapper true
check "... with exit status 1" bash -c "\"$ctrmgr\" exec trapper true 2>/dev/null; [ \$? = 1 ]"
check "an unprivileged user cannot exec" bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups \
        \"$ctrmgr\" exec sleeper true 2>/dev/null"

# ---------------------------------------------------------------- start, stop, restart, kill
t0=$(date +%s%N)
check "start trapper" "$ctrmgr" start trapper
t1=$(date +%s%N)
log "start latency (StartUnit round trip): $(((t1 - t0) / 1000000)) ms"
check_output "trapper active" '^active$' prop trapper ActiveState
tpid=$(prop trapper MainPID)
check "trapper has a main PID" test "${tpid:-0}" -gt 0
wait_for 3 grep -q started "$T/log/trapper.log" || true
check "stop trapper (clean exit on SIGTERM)" "$ctrmgr" stop trapper
check_output "trapper inactive after stop" '^inactive$' prop trapper ActiveState
check "trapper's process is gone" gone $tpid
check "trapper's scope cgroup removed" test ! -e "$cg2$parent/ctrmgr-trapper.scope"
check "trapper's rootfs unmounted" bash -c "! grep -q ' $T/run/trapper/rootfs ' /proc/self/mountinfo"
check_output "trapper exited with status 0" '^0$' prop trapper ExecMainStatus

check "restart sleeper (needs SIGKILL after StopTimeout=1)" "$ctrmgr" restart sleeper
npid=$(prop sleeper MainPID)
check "restart gave a new main PID" test "$npid" != "$pid" -a "$npid" != 0
check_output "sleeper active after restart" '^active$' prop sleeper ActiveState
check "old sleeper process is gone" gone $pid

check "kill --signal KILL sleeper" "$ctrmgr" kill --signal KILL sleeper
wait_for 5 bash -c "[ \"\$(prop sleeper ActiveState)\" = failed ]" || true
check_output "sleeper failed after SIGKILL" '^failed$' prop sleeper ActiveState
check_output "status shows the signal" 'code=killed, signal=SIGKILL' "$ctrmgr" status sleeper
check "start sleeper again" "$ctrmgr" start sleeper
check_output "start of a broken unit fails with its error" 'broken.ctr:3' "$ctrmgr" start broken

# ---------------------------------------------------------------- Restart=
cat >"$T/units/crasher.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=/bin/sh -c 'exit 3'
[Service]
Restart=on-failure
RestartSec=100ms
StartLimitBurst=3
StartLimitIntervalSec=1min
EOF
check "daemon-reload picks up crasher" "$ctrmgr" daemon-reload
"$ctrmgr" start crasher >/dev/null 2>&1 || true
wait_for 10 bash -c "[ \"\$(prop crasher ActiveState)\" = failed ]" || true
check_output "crasher ends failed after its start limit" '^failed$' prop crasher ActiveState
check_output "crasher was restarted 3 times" '^3$' prop crasher NRestarts
check_output "crasher's exit status" '^3$' prop crasher ExecMainStatus
check_output "crasher's result is start-limit-hit" '^start-limit-hit$' prop crasher Result
check_output "a start by hand is refused while the limit holds" 'repeated too quickly' "$ctrmgr" start crasher
check "reset-failed crasher" "$ctrmgr" reset-failed crasher
check_output "crasher inactive after reset-failed" '^inactive$' prop crasher ActiveState
check_output "its restart counter starts over" '^0$' prop crasher NRestarts
check_output "reset-failed is root's" 'Access denied' \
        setpriv --reuid=65534 --regid=65534 --clear-groups "$ctrmgr" reset-failed
rm "$T/units/crasher.ctr"

# ---------------------------------------------------------------- daemon-reload
cat >"$T/units/added.ctr" <<'EOF'
[Unit]
Description=Added later
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
EOF
check "start trapper for the reload test" "$ctrmgr" start trapper
sed -i 's/^Description=.*/Description=Changed on disk/' "$T/units/trapper.ctr"
printf '[Container]\nImage=busybox:latest\nExec=sleep 1\n' >"$T/units/broken.ctr"
check "daemon-reload" "$ctrmgr" daemon-reload
check_output "new unit appears" '^. added +loaded +inactive' "$ctrmgr" list
check_output "fixed unit loads" '^. broken +loaded' "$ctrmgr" list
check_output "changed running unit says so" 'changed on disk' "$ctrmgr" status trapper
check "restart applies the change" "$ctrmgr" restart trapper
check_output "new description after restart" '^Changed on disk$' prop trapper Description
rm "$T/units/added.ctr"
check "start added, then remove its file" "$ctrmgr" start added
apid=$(prop added MainPID)
check "added has a main PID" test "${apid:-0}" -gt 0
check "daemon-reload after removal" "$ctrmgr" daemon-reload
wait_for 5 gone $apid || true
check "removed unit's container stopped" gone $apid
wait_for 3 bash -c "! \"$ctrmgr\" list | grep -q ' added '" || true
check "removed unit is gone" bash -c "! \"$ctrmgr\" list | grep -q ' added '"

# ---------------------------------------------------------------- ReadOnly=true
cat >"$T/units/rofs.ctr" <<'EOF'
[Container]
Image=busybox:latest
ReadOnly=true
Network=host
Exec=/bin/sh -c 'if touch /probe 2>/dev/null; then echo root-writable; else echo root-read-only; fi; touch /tmp/x && echo tmp-writable; cat /etc/resolv.conf >/dev/null && echo resolv-ok; exec sleep 1000'
StopTimeout=1
EOF
mkdir -p "$T/units/rofs.ctr.d"
printf '[Container]\nEnvironment=FROM_DROPIN=yes\n' >"$T/units/rofs.ctr.d/10-env.conf"
check "daemon-reload with a ReadOnly=true unit" "$ctrmgr" daemon-reload
check_output "status lists the drop-in directory" "Drop-In: $T/units/rofs.ctr.d" "$ctrmgr" status rofs
check_output "... and the drop-in" '└─10-env.conf' "$ctrmgr" status rofs
check_output "status says a unit without [Install] is disabled" 'Loaded: loaded \(.*rofs.ctr; disabled\)' "$ctrmgr" status rofs
check_output "the drop-in's Environment= is in the spec" 'FROM_DROPIN=yes' "$ctrmgr" spec --unit-path "$T/units" \
        --image-store "$T/lib/images" --state-dir "$T/run" --cgroup-driver cgroupfs rofs
check "start rofs (ReadOnly=true, Network=host: /etc/resolv.conf bound into a read-only root)" "$ctrmgr" start rofs
wait_for 3 grep -q resolv-ok "$T/log/rofs.log" || true
check_output "its root is read-only" 'root-read-only' cat "$T/log/rofs.log"
check_output "/tmp is a writable tmpfs" 'tmp-writable' cat "$T/log/rofs.log"
check_output "/etc/resolv.conf is there" 'resolv-ok' cat "$T/log/rofs.log"
"$ctrmgr" stop rofs >/dev/null 2>&1
rm -rf "$T/units/rofs.ctr" "$T/units/rofs.ctr.d"

# ---------------------------------------------------------------- dependencies (manager/policy)
cat >"$T/units/db.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
EOF
cat >"$T/units/app.ctr" <<'EOF'
[Unit]
Requires=db
After=db
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
EOF
cat >"$T/units/bound.ctr" <<'EOF'
[Unit]
BindsTo=db
After=db
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
EOF
cat >"$T/units/needy.ctr" <<'EOF'
[Unit]
Requires=nonexistent
[Container]
Image=busybox:latest
Exec=sleep 1000
EOF
cat >"$T/units/cyc-a.ctr" <<'EOF'
[Unit]
After=cyc-b
Wants=cyc-b
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
EOF
cat >"$T/units/cyc-b.ctr" <<'EOF'
[Unit]
After=cyc-a
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
EOF
check "daemon-reload with dependent units" "$ctrmgr" daemon-reload
check_output "the ordering cycle is reported at load" 'Ordering cycle found at load: cyc-. -> cyc-. -> cyc-.' cat "$T/daemon.log"
check "start app (Requires=db, After=db)" "$ctrmgr" start app
check_output "db was pulled in" '^active$' prop db ActiveState
check_output "app active" '^active$' prop app ActiveState
dbts=$(prop db ActiveEnterTimestamp) appts=$(prop app ActiveEnterTimestamp)
check "db became active before app (After=db)" test "${dbts:-0}" -gt 0 -a "${dbts:-0}" -le "${appts:-0}"
check "stop db" "$ctrmgr" stop db
check_output "app stopped with db (Requires=)" '^inactive$' prop app ActiveState
appoff=$(prop app InactiveEnterTimestamp) dboff=$(prop db InactiveEnterTimestamp)
check "app stopped before db (reverse order)" test "${appoff:-0}" -gt 0 -a "${appoff:-0}" -le "${dboff:-0}"
check_output "a missing required unit fails the start, named" 'nonexistent' "$ctrmgr" start needy
check_output "needy was not started" '^inactive$' prop needy ActiveState
check "start bound (BindsTo=db) pulls in db" "$ctrmgr" start bound
check_output "db active again" '^active$' prop db ActiveState
check "kill db with SIGKILL" "$ctrmgr" kill --signal KILL db
wait_for 5 bash -c "[ \"\$(prop bound ActiveState)\" = inactive ]" || true
check_output "bound stopped when db went down on its own" '^inactive$' prop bound ActiveState
check_output "the daemon said why" 'bound to db, which went down' cat "$T/log/bound.log"
check "start cyc-a: the cycle is broken by dropping the wanted cyc-b" "$ctrmgr" start cyc-a
check_output "the transaction's note says which job it dropped" 'Ordering cycle .*not starting cyc-b' cat "$T/daemon.log"
check_output "cyc-a active" '^active$' prop cyc-a ActiveState
check_output "cyc-b left out" '^inactive$' prop cyc-b ActiveState
"$ctrmgr" stop cyc-a cyc-b app bound db >/dev/null 2>&1
rm -f "$T"/units/{db,app,bound,needy,cyc-a,cyc-b}.ctr
"$ctrmgr" daemon-reload >/dev/null 2>&1

# ---------------------------------------------------------------- volumes, stop signal, percentages
cat >"$T/units/vols.ctr" <<'EOF'
[Container]
Image=busybox:latest
Volume=/scratch
Volume=keep:/keep
Volume=etcvol:/etc
Exec=/bin/sh -c 'echo anon >/scratch/x; echo named >/keep/y; exec sleep 1000'
StopTimeout=1
EOF
cat >"$T/units/nocp.ctr" <<'EOF'
[Container]
Image=busybox:latest
Volume=nocpvol:/etc:nocopy
Exec=sleep 1000
StopTimeout=1
EOF
mkdir -p "$T/ssroot/bin"
cp /bin/busybox "$T/ssroot/bin/busybox"
for a in sh sleep echo; do ln -s busybox "$T/ssroot/bin/$a"; done
"$ctrmgr" image --store "$T/lib/images" --layers "$T/lib/layers" --containers "$T/lib/containers" \
        import-rootfs "$T/ssroot" stopsig:latest --stop-signal SIGUSR1 --env PATH=/bin >/dev/null
cat >"$T/units/stopsig.ctr" <<'EOF'
[Container]
Image=stopsig:latest
Exec=/bin/sh -c 'trap "echo got USR1; exit 0" USR1; trap "echo got TERM; exit 0" TERM; echo up; while :; do sleep 0.2; done'
EOF
cat >"$T/units/half.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sleep 1000
MemoryMax=50%
TasksMax=10%
EOF
check "daemon-reload with volumes, an image StopSignal and percentages" "$ctrmgr" daemon-reload
check "start vols (Volume=/scratch anonymous, Volume=keep:/keep named)" "$ctrmgr" start vols
wait_for 5 test -s "$T/lib/volumes/keep/y" || true
check_output "the anonymous volume is a directory of the daemon's" '^anon$' cat "$T/lib/volumes/.anonymous/vols/0/x"
check_output "the named volume is <lib-dir>/volumes/keep" '^named$' cat "$T/lib/volumes/keep/y"
check_output "an empty named volume is filled from the image (copy-up): /etc/passwd" '^root:' \
        cat "$T/lib/volumes/etcvol/passwd"
check "start nocp (Volume=nocpvol:/etc:nocopy)" "$ctrmgr" start nocp
check "nocopy: the volume stays empty" bash -c "[ -z \"\$(ls -A '$T/lib/volumes/nocpvol')\" ]"
"$ctrmgr" stop nocp >/dev/null 2>&1
check "stop vols" "$ctrmgr" stop vols
check "the anonymous volume went with the container" test ! -e "$T/lib/volumes/.anonymous/vols"
check "the named volume stays" test -s "$T/lib/volumes/keep/y"
check "start stopsig (the image says StopSignal=SIGUSR1, the unit nothing)" "$ctrmgr" start stopsig
wait_for 5 grep -q up "$T/log/stopsig.log" || true
check "stop stopsig" "$ctrmgr" stop stopsig
check_output "the container got the image's stop signal" '^got USR1$' cat "$T/log/stopsig.log"
memtotal=$(awk '$1 == "MemTotal:" { print $2 * 1024 }' /proc/meminfo)
"$ctrmgr" spec --unit-path "$T/units" --image-store "$T/lib/images" --state-dir "$T/run" \
        --cgroup-driver cgroupfs half >"$T/half.json" 2>&1 || true
got=$(jq -r '.linux.resources.memory.limit // empty' "$T/half.json")
check "MemoryMax=50% is half of MemTotal in the spec (got ${got:-none} of $memtotal)" \
        test -n "$got" -a $((got * 2 / 1048576)) -eq $((memtotal / 1048576))
check "TasksMax=10% is a pids limit in the spec (got $(jq -r '.linux.resources.pids.limit // empty' "$T/half.json"))" \
        test "$(jq -r '.linux.resources.pids.limit // 0' "$T/half.json")" -gt 0

# ---------------------------------------------------------------- daemon-reload: reverted change, removed requirement
cat >"$T/units/base.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
EOF
cat >"$T/units/needsbase.ctr" <<'EOF'
[Unit]
Requires=base
After=base
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
EOF
check "daemon-reload with base and needsbase" "$ctrmgr" daemon-reload
check "start needsbase (pulls in base)" "$ctrmgr" start needsbase
cp "$T/units/needsbase.ctr" "$T/needsbase.orig"
echo "Description=changed" >>"$T/units/needsbase.ctr"
"$ctrmgr" daemon-reload >/dev/null 2>&1
check_output "a changed running unit needs a restart" '^true$' prop needsbase NeedDaemonReload
cp "$T/needsbase.orig" "$T/units/needsbase.ctr"
"$ctrmgr" daemon-reload >/dev/null 2>&1
check_output "reverting the change before a restart clears that" '^false$' prop needsbase NeedDaemonReload
rm "$T/units/base.ctr"
check "daemon-reload after removing base" "$ctrmgr" daemon-reload
wait_for 10 bash -c "[ \"\$(prop needsbase ActiveState)\" = inactive ]" || true
check_output "needsbase stopped with the removed unit it requires" '^inactive$' prop needsbase ActiveState
rm -f "$T/units/needsbase.ctr" "$T/units/nocp.ctr" "$T/units/vols.ctr" "$T/units/stopsig.ctr" "$T/units/half.ctr"
"$ctrmgr" daemon-reload >/dev/null 2>&1

# ---------------------------------------------------------------- daemon restart keeps containers
cat >"$T/units/bootstop.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
[Install]
WantedBy=multi-user.target
EOF
cat >"$T/units/unless.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
[Service]
Restart=unless-stopped
[Install]
WantedBy=multi-user.target
EOF
cat >"$T/units/orphan.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
EOF
cat >"$T/units/recov.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
[Service]
Restart=always
RestartSec=100ms
EOF
cat >"$T/units/slowstop.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=3
EOF
cat >"$T/units/failer.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sh -c 'exit 3'
EOF
cat >"$T/units/deadalways.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sleep 1000
[Service]
Restart=always
RestartSec=100ms
EOF
cat >"$T/units/deadno.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sleep 1000
EOF
cat >"$T/units/limited.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sh -c 'exit 3'
[Service]
Restart=on-failure
RestartSec=100ms
StartLimitBurst=2
StartLimitIntervalSec=10min
EOF
cat >"$T/units/interrupted.ctr" <<'EOF'
[Container]
Image=busybox:latest
Exec=sleep 1000
EOF
check "daemon-reload with the restart test units" "$ctrmgr" daemon-reload
for u in bootstop unless orphan recov slowstop failer deadalways deadno limited; do "$ctrmgr" start $u >/dev/null 2>&1; done
wait_for 10 bash -c "[ \"\$(prop limited Result)\" = start-limit-hit ]" || true
check_output "limited hit its start limit before the daemon restart" '^start-limit-hit$' prop limited Result
wait_for 10 bash -c "[ \"\$(prop failer ActiveState)\" = failed ]" || true
check_output "failer failed before the daemon restart" '^failed$' prop failer ActiveState
check "stop bootstop and unless by hand" "$ctrmgr" stop bootstop unless
check "the stop of unless is remembered in <lib-dir>/stopped" test -e "$T/lib/stopped/unless"
spid=$(prop sleeper MainPID) opid=$(prop orphan MainPID) rpid=$(prop recov MainPID) wpid=$(prop slowstop MainPID)
dapid=$(prop deadalways MainPID) dnpid=$(prop deadno MainPID)
check "sleeper has a main PID before the daemon restart" test "${spid:-0}" -gt 0
check "deadalways and deadno have main PIDs" test "${dapid:-0}" -gt 0 -a "${dnpid:-0}" -gt 0
kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
check "container survives the daemon's exit" kill -0 "$spid"
# Two containers die while no daemon watches them.
kill -9 "$dapid" "$dnpid"
wait_for 5 bash -c "! kill -0 $dapid 2>/dev/null && ! kill -0 $dnpid 2>/dev/null" || true
# What a daemon killed in the middle of starting "interrupted" leaves: its bundle directory and a
# running container in the runtime's state, but no state.json (written once the start is over).
mkdir -p "$T/left/rootfs/bin" "$T/run/interrupted"
cp /bin/busybox "$T/left/rootfs/bin/" && ln -s busybox "$T/left/rootfs/bin/sleep"
(cd "$T/left" && "$build/tools/oci/ctrmgr-oci" spec)
jq --arg cg "$parent/left" '.process.terminal = false | .process.args = ["sleep", "1000"] |
        .linux.cgroupsPath = $cg' "$T/left/config.json" >"$T/left/c" && mv "$T/left/c" "$T/left/config.json"
"$build/tools/oci/ctrmgr-oci" --root "$T/run/.oci" run -d --bundle "$T/left" interrupted </dev/null >/dev/null 2>&1
ipid=$("$build/tools/oci/ctrmgr-oci" --root "$T/run/.oci" state interrupted | jq -r .pid) || true
check "a container left by an interrupted start runs" kill -0 "${ipid:-0}"
rm "$T/units/orphan.ctr"
start_daemon
check_output "restarted daemon reports sleeper active" '^active$' prop sleeper ActiveState
check_output "with the same main PID" "^$spid\$" prop sleeper MainPID
check_output "a boot unit stopped by hand stays stopped: boot units start once per boot" '^inactive$' \
        prop bootstop ActiveState
check_output "the daemon said so" 'Boot units were started in this boot already' cat "$T/daemon.log"
wait_for 5 gone "$ipid" || true
check "the next daemon removes the container of a start it did not finish" gone "$ipid"
check_output "... and says so" 'A start of interrupted was under way when ctrmgrd went away' cat "$T/daemon.log"
check "... and its runtime state" test ! -e "$T/run/.oci/interrupted"
check "... and its cgroup" test ! -e "$cg2$parent/left"
check_output "the unit is failed (Restart=no)" '^failed$' prop interrupted ActiveState
check "reset-failed interrupted" "$ctrmgr" reset-failed interrupted
check_output "a unit that failed before the daemon restart is still failed" '^failed$' prop failer ActiveState
check_output "... with its result" '^exit-code$' prop failer Result
check_output "... and its exit status" '^3$' prop failer ExecMainStatus
check_output "status shows it, as systemctl does" 'Active: failed \(Result: exit-code\) since' \
        "$ctrmgr" status --no-pager failer
wait_for 10 bash -c "[ \"\$(prop deadalways ActiveState)\" = active ] && [ \"\$(prop deadalways MainPID)\" != $dapid ]" || true
check_output "a Restart=always container that died while no daemon ran is started again" '^active$' \
        prop deadalways ActiveState
check "... as a new container" test "$(prop deadalways MainPID)" != "$dapid" -a "$(prop deadalways MainPID)" != 0
check_output "... counted as a restart" '^[1-9]' prop deadalways NRestarts
check_output "a Restart=no container that died while no daemon ran is failed" '^failed$' prop deadno ActiveState
check_output "the daemon said so" 'deadno exited while ctrmgrd was not running' cat "$T/daemon.log"
check "its root file system is unmounted" bash -c "! grep -q ' $T/run/deadno/rootfs ' /proc/self/mountinfo"
check_output "a start limit hit before the daemon restart still holds" 'repeated too quickly' \
        "$ctrmgr" start limited
check_output "... and the unit is failed with start-limit-hit" '^start-limit-hit$' prop limited Result
check "reset-failed failer deadno limited" "$ctrmgr" reset-failed failer deadno limited
check_output "failer inactive after reset-failed" '^inactive$' prop failer ActiveState
check "... and its record of the failure is gone" test ! -e "$T/run/.failed/failer"
check "stop deadalways" "$ctrmgr" stop deadalways
wait_for 5 gone "$opid" || true
check "the container of a unit removed while the daemon was away is stopped" gone "$opid"
check_output "... and the daemon said why" 'orphan no longer exists .* but its container runs: stopping it' cat "$T/daemon.log"
check "... and its state is gone" test ! -e "$T/run/orphan/state.json"
kill -9 "$rpid"
wait_for 10 bash -c "[ \"\$(prop recov NRestarts)\" -ge 1 ] && [ \"\$(prop recov ActiveState)\" = active ]" || true
check_output "a found-again container that dies unobserved is restarted (Restart=always)" '^active$' prop recov ActiveState
check "... with a new main PID" test "$(prop recov MainPID)" != "$rpid" -a "$(prop recov MainPID)" != 0
check "stop works after the daemon restart" "$ctrmgr" stop sleeper recov
check "sleeper's process gone" gone $spid

# A stop under way when the daemon dies is finished by the next one.
"$ctrmgr" stop slowstop >/dev/null 2>&1 &
stopper=$!
wait_for 3 bash -c "[ \"\$(prop slowstop ActiveState)\" = deactivating ]" || true
check_output "slowstop is stopping (sleep as PID 1 ignores SIGTERM)" '^deactivating$' prop slowstop ActiveState
kill -9 "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
wait "$stopper" 2>/dev/null || true
daemon_pid=
start_daemon
wait_for 10 gone "$wpid" || true
check "the restarted daemon finished the stop (SIGKILL after StopTimeout=3)" gone "$wpid"
check_output "slowstop inactive" '^inactive$' prop slowstop ActiveState

# A reboot: /run is new, /var/lib is kept. The enabled units start again, except an
# unless-stopped unit an administrator stopped.
kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
rm -f "$T/run/boot-id"
start_daemon
wait_for 10 bash -c "[ \"\$(prop bootstop ActiveState)\" = active ]" || true
check_output "after a reboot the stopped boot unit starts again (Restart=no)" '^active$' prop bootstop ActiveState
check_output "an unless-stopped unit stopped by hand stays stopped across the reboot" '^inactive$' \
        prop unless ActiveState
check "start unless by hand" "$ctrmgr" start unless
check "the start by hand forgets the recorded stop" test ! -e "$T/lib/stopped/unless"
"$ctrmgr" stop bootstop unless slowstop >/dev/null 2>&1
rm -f "$T"/units/{bootstop,unless,recov,slowstop,failer,deadalways,deadno,interrupted,limited}.ctr
"$ctrmgr" daemon-reload >/dev/null 2>&1

rss=$(awk '/^VmRSS/ { print $2 }' /proc/$daemon_pid/status)
log "ctrmgrd RSS: ${rss} kB"

# ---------------------------------------------------------------- the daemon's own credential check
# A second bus whose policy lets anyone call anything: the daemon itself must refuse.
sed -e "s|@ADDRESS@|$T/bus2|" -e "s|@POLICY@|<policy context=\"default\"><allow own=\"org.ctrmgr1\"/><allow send_destination=\"org.ctrmgr1\"/></policy>|" \
        "$src/tests/integration/manager/bus.conf.in" >"$T/bus2.conf"
dbus-daemon --config-file="$T/bus2.conf" --nofork --nopidfile --nosyslog &
bus2_pid=$!
wait_for 5 test -S "$T/bus2" || { echo "Bail out! second dbus-daemon did not start"; exit 1; }
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus2 "$ctrmgrd" --unit-path "$T/units" --state-dir "$T/run2" \
        --image-store "$T/lib/images" --layers-dir "$T/lib/layers" --containers-dir "$T/lib/containers2" --lib-dir "$T/lib2" \
        --log-dir "$T/log2" --log-target file --cgroup-driver cgroupfs --cgroup-parent "$parent/d2" \
        --no-boot-units 2>>"$T/daemon2.log" &
daemon2_pid=$!
wait_for 10 env DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus2 "$ctrmgr" list || true
check_output "without the bus policy, the daemon refuses StopUnit from UID 65534 itself" \
        'only root may change units \(caller UID 65534\)' \
        setpriv --reuid=65534 --regid=65534 --clear-groups env DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus2 \
        "$ctrmgr" stop trapper
check_output "... and StartUnit" 'only root may change units' \
        setpriv --reuid=65534 --regid=65534 --clear-groups env DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus2 \
        "$ctrmgr" start trapper
check_output "... and Reload" 'only root may change units' \
        setpriv --reuid=65534 --regid=65534 --clear-groups env DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus2 \
        "$ctrmgr" daemon-reload
check_output "... while reading is allowed" 'trapper' \
        setpriv --reuid=65534 --regid=65534 --clear-groups busctl --address=unix:path=$T/bus2 \
        call org.ctrmgr1 /org/ctrmgr1 org.ctrmgr1.Manager ListUnits
kill "$daemon2_pid"; wait "$daemon2_pid" 2>/dev/null; daemon2_pid=
kill "$bus2_pid"; wait "$bus2_pid" 2>/dev/null; bus2_pid=
# Under -Db_sanitize the daemons that exited (the first instance, the second bus's) report here.
check "no sanitizer report from the daemons that exited" \
        bash -c "! grep -h -A20 -E 'Sanitizer|runtime error:' '$T/daemon.log' '$T/daemon2.log'"

echo "1..$n"
[ $failures -eq 0 ] || { echo "# $failures failures"; cat "$T/daemon.log" | sed 's/^/# daemon: /' | tail -40; exit 1; }
exit 0
