#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# System test of ctrmgrd in a tier-1 test host (real systemd, system bus and journald):
# boot-time start of enabled units, status and busctl, the busybox httpd on the host's loopback,
# journald (container output and daemon messages under ctrmgr-web.scope), stop/start/restart/kill,
# a broken unit reported with file:line while the others run, daemon-reload (add, change,
# remove), an unprivileged user (reads status, access denied for StopUnit), `systemctl restart
# ctrmgrd` leaving containers running, and cleanup. TAP output.
#
#   test-ctrmgrd.sh BUILD_DIR SOURCE_DIR
set -u
build=$(realpath "$1")
src=$(realpath "$2")
# shellcheck source=../lib/testhost.sh
source "$src/tests/system/lib/testhost.sh"
TESTHOST_QUIET=1

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/#   /'; }
H=ctrmgr-$$
in_host() { testhost_exec "$H" "$@"; }
check() { # DESCRIPTION CMD… (run inside the host)
        local what=$1 out
        shift
        if out=$(in_host "$@" 2>&1); then ok "$what"; else not_ok "$what"; diag <<<"$out"; fi
}
check_output() { # DESCRIPTION REGEX CMD… (inside the host)
        local what=$1 re=$2 out
        shift 2
        out=$(in_host "$@" 2>&1)
        if grep -Eq -- "$re" <<<"$out"; then ok "$what"; else not_ok "$what (no /$re/)"; diag <<<"$out"; fi
}
prop() { # UNIT PROPERTY → value
        in_host busctl get-property org.ctrmgr1 "/org/ctrmgr1/unit/$1" org.ctrmgr1.Unit "$2" 2>/dev/null |
                cut -d' ' -f2- | tr -d '"'
}
wait_prop() { # UNIT PROPERTY VALUE SECONDS
        local i
        for ((i = 0; i < $4 * 5; i++)); do
                [ "$(prop "$1" "$2")" = "$3" ] && return 0
                sleep 0.2
        done
        return 1
}

if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP needs root"
        exit 0
fi
if ! why=$(testhost_is_possible); then
        echo "1..0 # SKIP $why"
        exit 0
fi
if [ ! -x "$build/manager/ctrmgrd" ]; then
        echo "1..0 # SKIP ctrmgrd not built"
        exit 0
fi

testhost_trap_cleanup
work=$(mktemp -d /tmp/ctrmgr-systest.XXXXXX)
trap 'testhost_cleanup_all; rm -rf "$work"' EXIT

# ---------------------------------------------------------------- image and units
if ! "$src/examples/images/build-busybox.sh" --ctrmgr "$build/tools/ctrmgr" --store "$work/images" >"$work/image.log" 2>&1; then
        echo "Bail out! building the busybox image failed"
        diag <"$work/image.log"
        exit 1
fi
mkdir -p "$work/units"
cat >"$work/units/web.ctr" <<'EOF'
[Unit]
Description=Busybox web server

[Container]
Image=busybox:latest
Network=host
Exec=/bin/sh -c 'mkdir -p /tmp/www && echo hello-from-web >/tmp/www/index.html && echo "web: serving on 8080" && exec httpd -f -v -p 127.0.0.1:8080 -h /tmp/www'
StopTimeout=2

[Install]
WantedBy=multi-user.target
EOF
cat >"$work/units/worker.ctr" <<'EOF'
[Unit]
Description=Worker that exits cleanly on SIGTERM

[Container]
Image=busybox:latest
Exec=/bin/sh -c 'trap "echo worker: bye; exit 0" TERM; echo worker: up; while :; do sleep 0.2; done'

[Install]
WantedBy=default.target
EOF
cat >"$work/units/manual.ctr" <<'EOF'
[Unit]
Description=Not started at boot

[Container]
Image=busybox:latest
Exec=sleep 1000
EOF
cat >"$work/units/store.ctr" <<'EOF'
[Unit]
Description=A database-like dependency
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
StopSignal=SIGINT
[Install]
WantedBy=multi-user.target
EOF
cat >"$work/units/api.ctr" <<'EOF'
[Unit]
Description=Needs store, ordered after it
Requires=store
After=store
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
[Install]
WantedBy=multi-user.target
EOF
cat >"$work/units/broken.ctr" <<'EOF'
[Unit]
Description=Broken on purpose

[Container]
Image=busybox:latest
StopTimeout=forever

[Install]
WantedBy=multi-user.target
EOF

# ---------------------------------------------------------------- boot
# The host's root is an overlay; testhost.sh gives /var/lib/ctrmgr a tmpfs of its own, since
# overlayfs cannot put a container's upper layer on it (without it, ctrmgrd falls back to
# /run/ctrmgr/.containers and says so).
t0=$EPOCHREALTIME
if ! testhost_boot "$H" --install "$build" --copy "$work/images:/var/lib/ctrmgr/images" \
        --copy "$work/units:/etc/ctrmgr" --enable ctrmgrd.service >"$work/boot.log" 2>&1; then
        echo "Bail out! the test host did not boot"
        diag <"$work/boot.log"
        exit 1
fi
ok "test host with ctrmgrd enabled boots ($(_testhost_elapsed "$t0") s)"

check "ctrmgrd.service is active (Type=notify: READY sent)" systemctl is-active ctrmgrd.service
check_output "enabled unit web started at boot" '^. web +loaded +active +running' ctrmgr list
check_output "enabled unit worker (default.target) started at boot" '^. worker +loaded +active +running' ctrmgr list
check_output "manual unit stays inactive" '^. manual +loaded +inactive +dead' ctrmgr list
rdy=$(in_host busctl get-property org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/ctrmgrd_2eservice \
        org.freedesktop.systemd1.Unit ActiveEnterTimestamp | awk '{ print $2 }')
last=0
for u in web worker store api; do
        t=$(prop $u ActiveEnterTimestamp)
        [ "${t:-0}" -gt "$last" ] && last=$t
done
[ "$last" -gt 0 ] && [ "${rdy:-0}" -ge "$last" ] && ok "READY=1 came after the last boot unit was active" ||
        not_ok "READY=1 after the boot units (ctrmgrd active at $rdy, last unit at $last)"
check "the boot units started as one transaction (the broken one left out)" \
        bash -c '! journalctl -u ctrmgrd.service -o cat | grep -q "one by one"'
check_output "the broken unit was left out with a message under its scope" 'Not starting broken at boot' \
        journalctl -u ctrmgr-broken.scope -o cat
st=$(prop store ActiveEnterTimestamp) at=$(prop api ActiveEnterTimestamp)
[ "${st:-0}" -gt 0 ] && [ "${at:-0}" -ge "$st" ] && ok "boot: store active before api (After=store)" ||
        not_ok "boot: store active before api ($st, $at)"
# The scopes stop as the units do when systemd itself stops them (the host's shutdown):
# StopSignal=, StopTimeout=, and api's scope after store's.
check_output "api's scope is ordered after store's (After=store)" '^After=.*ctrmgr-store.scope' \
        systemctl show -p After ctrmgr-api.scope
check_output "web's scope has its StopTimeout=2 as TimeoutStopUSec" '^TimeoutStopUSec=2s$' \
        systemctl show -p TimeoutStopUSec ctrmgr-web.scope
check_output "store's scope has its StopSignal=SIGINT as KillSignal (2)" '^KillSignal=2$' \
        systemctl show -p KillSignal ctrmgr-store.scope
check "stopping store stops api first (Requires=)" ctrmgr stop store
[ "$(prop api ActiveState)" = inactive ] && ok "api inactive after store's stop" || not_ok "api inactive ($(prop api ActiveState))"
ast=$(prop api InactiveEnterTimestamp) sst=$(prop store InactiveEnterTimestamp)
[ "${ast:-0}" -gt 0 ] && [ "${sst:-0}" -ge "$ast" ] && ok "api stopped before store" ||
        not_ok "api stopped before store ($ast, $sst)"
check_output "broken unit is listed with a load error" '^. broken +error' ctrmgr list
check_output "broken unit's status names its file and line" '/etc/ctrmgr/broken.ctr:6' ctrmgr status broken

pid=$(prop web MainPID)
[ "${pid:-0}" -gt 0 ] && ok "web has a main PID ($pid)" || not_ok "web has a main PID"
check_output "status: dot, name, description" '^● web - Busybox web server' ctrmgr --no-pager status web
check_output "status: Loaded with boot start" 'Loaded: loaded \(/etc/ctrmgr/web.ctr; enabled\)' ctrmgr status web
check_output "status: Active since … ago" 'Active: active \(running\) since .*ago' ctrmgr status web
check_output "status: Main PID" "Main PID: $pid\$" ctrmgr status web
check_output "status: image and digest" 'Image: busybox:latest \(sha256:[0-9a-f]{64}\)' ctrmgr status web
check_output "status: scope cgroup" 'CGroup: /ctrmgr.slice/ctrmgr-web.scope' ctrmgr status web
check_output "status: process tree" "└─$pid httpd" ctrmgr status web
check_output "status: log lines" 'web: serving on 8080' ctrmgr status web
check_output "busctl: ActiveState" '"active"' busctl get-property org.ctrmgr1 /org/ctrmgr1/unit/web org.ctrmgr1.Unit ActiveState
check_output "busctl: MainPID" "u $pid" busctl get-property org.ctrmgr1 /org/ctrmgr1/unit/web org.ctrmgr1.Unit MainPID
check_output "busctl: ImageDigest" '"sha256:[0-9a-f]{64}"' busctl get-property org.ctrmgr1 /org/ctrmgr1/unit/web org.ctrmgr1.Unit ImageDigest
check_output "busctl: ScopeUnit" '"ctrmgr-web.scope"' busctl get-property org.ctrmgr1 /org/ctrmgr1/unit/web org.ctrmgr1.Unit ScopeUnit
check_output "busctl introspect shows the Manager interface" 'StartUnit' busctl introspect org.ctrmgr1 /org/ctrmgr1
check_output "busctl tree lists the unit objects" '/org/ctrmgr1/unit/web' busctl tree org.ctrmgr1
check_output "the main PID is in ctrmgr-web.scope" '^0::/ctrmgr.slice/ctrmgr-web.scope$' cat /proc/$pid/cgroup
check_output "systemd knows the scope, delegated" 'Delegate=yes' systemctl show -p Delegate ctrmgr-web.scope
check_output "the scope is active in ctrmgr.slice" 'Slice=ctrmgr.slice' systemctl show -p Slice ctrmgr-web.scope
check_output "httpd answers on the host's loopback" '^hello-from-web$' busybox wget -qO- http://127.0.0.1:8080/

# ---------------------------------------------------------------- journald
check_output "journalctl -u ctrmgr-web.scope: container output" 'web: serving on 8080' journalctl -u ctrmgr-web.scope -o cat
check_output "journalctl -u ctrmgr-web.scope: daemon lifecycle messages" 'Started Busybox web server' journalctl -u ctrmgr-web.scope -o cat
check_output "container entries carry _SYSTEMD_UNIT and SYSLOG_IDENTIFIER=web" 'serving' journalctl _SYSTEMD_UNIT=ctrmgr-web.scope SYSLOG_IDENTIFIER=web -o cat
check_output "daemon entries carry CTRMGR_UNIT=web" 'Started' journalctl CTRMGR_UNIT=web -o cat
check_output "ctrmgr logs web" 'web: serving on 8080' ctrmgr logs web
check_output "ctrmgr logs -n 1 prints one line" '^1$' bash -c 'ctrmgr logs -n 1 web | wc -l'
check_output "ctrmgr logs --since now leaves out older lines" '^0$' bash -c 'ctrmgr logs --since now web | grep -c serving'
check_output "ctrmgr logs --since -1h includes them" '^[1-9]' bash -c 'ctrmgr logs --since -1h web | grep -c serving'

# ---------------------------------------------------------------- stop, start, restart, kill
check "stop worker" ctrmgr stop worker
[ "$(prop worker ActiveState)" = inactive ] && ok "worker inactive after stop" || not_ok "worker inactive after stop"
check_output "worker said goodbye on SIGTERM" 'worker: bye' journalctl -u ctrmgr-worker.scope -o cat
check "worker's scope is gone" bash -c '! systemctl is-active -q ctrmgr-worker.scope'
check "start worker" ctrmgr start worker
check_output "worker active again" '^. worker +loaded +active' ctrmgr list
check_output "ctrmgr logs -f follows a restart" 'worker: bye.*worker: up' bash -c \
        'timeout 6 ctrmgr logs -f -n 0 worker >/tmp/follow.out 2>&1 & sleep 1; ctrmgr restart worker; sleep 1.5; tr "\n" " " </tmp/follow.out'
check "restart web (SIGKILL after StopTimeout for an httpd PID 1)" ctrmgr restart web
npid=$(prop web MainPID)
[ "${npid:-0}" -gt 0 ] && [ "$npid" != "$pid" ] && ok "restart gave web a new PID ($npid)" || not_ok "restart gave web a new PID ($pid → $npid)"
check_output "httpd answers after the restart" '^hello-from-web$' busybox wget -qO- http://127.0.0.1:8080/
check "kill --signal KILL manual (started first)" bash -c 'ctrmgr start manual && ctrmgr kill --signal KILL manual'
wait_prop manual ActiveState failed 5 && ok "manual failed after SIGKILL" || not_ok "manual failed after SIGKILL ($(prop manual ActiveState))"
check_output "status shows the signal" 'signal=SIGKILL' ctrmgr status manual
check_output "the daemon logged the kill under the scope" 'Sent signal SIGKILL' journalctl -u ctrmgr-manual.scope -o cat

# ---------------------------------------------------------------- daemon-reload
testhost_sh "$H" "cat >/etc/ctrmgr/added.ctr <<'EOF'
[Unit]
Description=Added after boot
[Container]
Image=busybox:latest
Exec=sleep 1000
StopTimeout=1
EOF
sed -i 's/^Description=Worker.*/Description=Worker v2/' /etc/ctrmgr/worker.ctr
sed -i 's/^StopTimeout=forever/StopTimeout=5/' /etc/ctrmgr/broken.ctr" >/dev/null 2>&1
check "daemon-reload" ctrmgr daemon-reload
check_output "added unit appears" '^. added +loaded +inactive' ctrmgr list
check_output "fixed unit now loads" '^. broken +loaded' ctrmgr list
check_output "changed running unit asks for a restart" 'changed on disk' ctrmgr status worker
check "restart applies it" ctrmgr restart worker
check_output "new description in use" '"Worker v2"' busctl get-property org.ctrmgr1 /org/ctrmgr1/unit/worker org.ctrmgr1.Unit Description
check "start added" ctrmgr start added
apid=$(prop added MainPID)
testhost_sh "$H" 'rm /etc/ctrmgr/added.ctr' >/dev/null 2>&1
check "daemon-reload after removing added" ctrmgr daemon-reload
check "removed unit's container is stopped" bash -c "for i in \$(seq 50); do kill -0 ${apid:-1} 2>/dev/null || exit 0; sleep 0.2; done; exit 1"
check "removed unit disappears" bash -c "for i in \$(seq 25); do ctrmgr list | grep -q ' added ' || exit 0; sleep 0.2; done; exit 1"

# ---------------------------------------------------------------- unprivileged user
check_output "nobody reads status" 'Active: active' setpriv --reuid=65534 --regid=65534 --clear-groups ctrmgr status web
check_output "nobody lists units" 'web' setpriv --reuid=65534 --regid=65534 --clear-groups ctrmgr list
check_output "nobody gets access denied for StopUnit" 'Access denied|AccessDenied' setpriv --reuid=65534 --regid=65534 --clear-groups ctrmgr stop web
check_output "nobody gets access denied for StopUnit over busctl" 'Access denied|AccessDenied' setpriv --reuid=65534 --regid=65534 --clear-groups busctl call org.ctrmgr1 /org/ctrmgr1 org.ctrmgr1.Manager StopUnit s web
[ "$(prop web ActiveState)" = active ] && ok "web still active after the denied calls" ||
        not_ok "web still active after the denied calls ($(prop web ActiveState))"

# ---------------------------------------------------------------- daemon restart
wpid=$(prop web MainPID)
rss=$(in_host bash -c 'grep VmRSS /proc/$(systemctl show -p MainPID --value ctrmgrd)/status' | awk '{ print $2 }')
echo "# ctrmgrd RSS with $(in_host ctrmgr list | grep -c ' active ') containers: ${rss} kB"
check "systemctl restart ctrmgrd" systemctl restart ctrmgrd
check_output "web still reported active" '^. web +loaded +active +running' ctrmgr list
[ "$(prop web MainPID)" = "$wpid" ] && ok "with the same main PID ($wpid)" || not_ok "same main PID ($wpid → $(prop web MainPID))"
check_output "httpd still answers" '^hello-from-web$' busybox wget -qO- http://127.0.0.1:8080/
check_output "the new daemon found it again" 'Found running container of web again' journalctl -u ctrmgr-web.scope -o cat
# store and api are enabled boot units, stopped above: a restarted daemon does not start them
# again (boot units start once per boot, as systemctl daemon-reexec leaves units alone).
[ "$(prop store ActiveState)/$(prop api ActiveState)" = inactive/inactive ] &&
        ok "boot units stopped by hand stay stopped across the daemon restart" ||
        not_ok "boot units stopped by hand stay stopped (store $(prop store ActiveState), api $(prop api ActiveState))"

# ---------------------------------------------------------------- cleanup
check "stop everything" ctrmgr stop web worker manual broken api store
check "no ctrmgr scopes left" bash -c '! systemctl list-units --no-legend "ctrmgr-*.scope" | grep -q .'
check "no container mounts left" bash -c '! grep -q " /run/ctrmgr/" /proc/self/mountinfo'
testhost_stop "$H" >/dev/null 2>&1 && ok "test host powers off and is removed" || not_ok "test host stop"

echo "1..$n"
[ "$failed" -eq 0 ]
