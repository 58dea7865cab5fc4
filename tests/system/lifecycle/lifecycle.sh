#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lifecycle policy on a tier-1 test host (real systemd, system bus and journald; see
# tests/system/README.md): ctrmgrd from the build tree runs as a systemd service inside the host
# and starts the enabled units of /etc/ctrmgr:
#   - a database-like unit that becomes ready late (Notify=healthy, the check passes after 2 s)
#     and an app ordered After=/Requires= it: the app starts only once the db is active;
#   - stopping the db stops the app (Requires=);
#   - a manual stop never restarts (Restart=always);
#   - a crashing unit is restarted until StartLimitBurst=, then failed with start-limit-hit;
#   - a unit whose health check fails is killed (HealthOnFailure=kill), restarted
#     (HealthOnFailure=restart) or stopped (HealthOnFailure=stop);
#   - Notify=true: active only on READY=1 through NOTIFY_SOCKET, STATUS= shown; TimeoutStartSec=
#     fails a unit that never gets ready; a watchdog that is not pinged kills it;
#   - ReloadSignal= and ReloadCmd= behind `ctrmgr reload`;
#   - RestartSteps=/RestartMaxDelaySec= make the restart delay grow;
#   - an ordering cycle between two enabled units is logged with both names and broken.
# Resource limits need tier 2 (no memory/pids/cpu controllers here). TAP output.
#
#   lifecycle.sh BUILD_DIR SOURCE_DIR PROBE
# PROBE: the static test program (tests/integration/runtime/probe.c), bind-mounted into the
# containers that speak sd_notify.
set -u
build=$(realpath "$1")
src=$(realpath "$2")
probe=$(realpath "$3")
# shellcheck source=../lib/testhost.sh
source "$src/tests/system/lib/testhost.sh"
export TESTHOST_QUIET=1

ctrmgrd=$build/manager/ctrmgrd
ctrmgr=$build/tools/ctrmgr
if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP needs root"
        exit 0
fi
if [ ! -x "$ctrmgrd" ] || [ ! -x "$ctrmgr" ]; then
        echo "1..0 # SKIP ctrmgrd is not built"
        exit 0
fi
if ! why=$(testhost_is_possible); then
        echo "1..0 # SKIP $why"
        exit 0
fi
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
        echo "1..0 # SKIP busybox-static missing"
        exit 0
fi

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

W=$(mktemp -d /tmp/ctrmgr-lifecycle.XXXXXX)
H=lifecycle-$$
cleanup() {
        testhost_cleanup_all
        rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- image and units
"$src/examples/images/build-busybox.sh" --ctrmgr "$ctrmgr" --store "$W/images" >/dev/null || {
        echo "Bail out! could not build the busybox image"
        exit 1
}
mkdir -p "$W/units"
unit() { # NAME: the body on stdin
        cat >"$W/units/$1.ctr"
}
unit db <<'EOF'
[Unit]
Description=Database-like service that is ready 2 s after its start
[Container]
Image=busybox:latest
Exec=/bin/sh -c 'sleep 2; touch /tmp/ready; exec sleep 100000'
Notify=healthy
HealthCmd=test -f /tmp/ready
HealthInterval=500ms
HealthRetries=100
StopSignal=SIGKILL
[Install]
WantedBy=multi-user.target
EOF
unit app <<'EOF'
[Unit]
Description=App that needs the database
After=db
Requires=db
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
StopSignal=SIGKILL
[Install]
WantedBy=multi-user.target
EOF
unit always <<'EOF'
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
StopSignal=SIGKILL
[Service]
Restart=always
RestartSec=100ms
[Install]
WantedBy=multi-user.target
EOF
unit crash <<'EOF'
[Container]
Image=busybox:latest
Exec=/bin/sh -c 'exit 3'
[Service]
Restart=on-failure
RestartSec=100ms
StartLimitBurst=3
StartLimitIntervalSec=60s
[Install]
WantedBy=multi-user.target
EOF
unit sick <<'EOF'
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
HealthCmd=/bin/false
HealthInterval=500ms
HealthRetries=2
HealthOnFailure=kill
[Install]
WantedBy=multi-user.target
EOF
unit cyc1 <<'EOF'
[Unit]
After=cyc2
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
StopSignal=SIGKILL
[Install]
WantedBy=multi-user.target
EOF
unit cyc2 <<'EOF'
[Unit]
After=cyc1
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
StopSignal=SIGKILL
[Install]
WantedBy=multi-user.target
EOF

unit healer <<'EOF'
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
StopSignal=SIGKILL
HealthCmd=/bin/sh -c 'echo sick >&2; exit 1'
HealthInterval=300ms
HealthRetries=1
HealthOnFailure=restart
[Service]
StartLimitBurst=0
[Install]
WantedBy=multi-user.target
EOF
unit limping <<'EOF'
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
StopSignal=SIGKILL
HealthCmd=/bin/sh -c 'echo sick >&2; exit 1'
HealthInterval=300ms
HealthRetries=2
[Install]
WantedBy=multi-user.target
EOF
unit quitter <<'EOF'
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
StopSignal=SIGKILL
HealthCmd=/bin/false
HealthInterval=300ms
HealthRetries=2
HealthOnFailure=stop
[Service]
Restart=always
[Install]
WantedBy=multi-user.target
EOF
# sd_notify from inside: the probe, bind-mounted, sends to $NOTIFY_SOCKET.
unit notifier <<EOF
[Container]
Image=busybox:latest
Volume=$probe:/probe:ro
Notify=true
Exec=/bin/sh -c '/probe notify "STATUS=warming up"; sleep 2; /probe notify READY=1 "STATUS=serving requests"; exec sleep 100000'
StopSignal=SIGKILL
[Install]
WantedBy=multi-user.target
EOF
unit slowpoke <<'EOF'
[Container]
Image=busybox:latest
Notify=true
Exec=/bin/sleep 100000
[Service]
TimeoutStartSec=2s
[Install]
WantedBy=multi-user.target
EOF
unit hung <<EOF
[Container]
Image=busybox:latest
Volume=$probe:/probe:ro
Notify=true
Exec=/bin/sh -c '/probe notify READY=1 WATCHDOG_USEC=1500000; sleep 1; /probe notify WATCHDOG=1; exec sleep 100000'
[Install]
WantedBy=multi-user.target
EOF
unit sighup <<'EOF'
[Container]
Image=busybox:latest
Exec=/bin/sh -c 'trap "echo sighup: reloaded" HUP; echo sighup: up; while :; do sleep 0.2; done'
ReloadSignal=SIGHUP
StopSignal=SIGKILL
[Install]
WantedBy=multi-user.target
EOF
unit reloadcmd <<'EOF'
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
ReloadCmd=/bin/sh -c 'echo reload ran >/tmp/reloaded'
StopSignal=SIGKILL
[Install]
WantedBy=multi-user.target
EOF
unit badreload <<'EOF'
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
ReloadCmd=/bin/sh -c 'echo cannot reload >&2; exit 7'
StopSignal=SIGKILL
[Install]
WantedBy=multi-user.target
EOF
unit backoff <<'EOF'
[Container]
Image=busybox:latest
Exec=/bin/sh -c 'exit 1'
[Service]
Restart=always
RestartSec=200ms
RestartSteps=3
RestartMaxDelaySec=2s
StartLimitBurst=0
[Install]
WantedBy=multi-user.target
EOF

# Dependencies on systemd units, waited for over D-Bus.
mkdir -p "$W/sd"
printf '[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sleep 2\n' >"$W/sd/lc-slow.service"
printf '[Service]\nType=oneshot\nExecStart=/bin/false\n' >"$W/sd/lc-fail.service"
printf '[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sleep 1\n' >"$W/sd/lc-ok.service"
unit afterslow <<'EOF'
[Unit]
After=lc-slow.service
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
StopSignal=SIGKILL
EOF
unit needfail <<'EOF'
[Unit]
Requires=lc-fail.service
After=lc-fail.service
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
StopSignal=SIGKILL
EOF
unit wantok <<'EOF'
[Unit]
Wants=lc-ok.service
After=lc-ok.service
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
StopSignal=SIGKILL
EOF

# ---------------------------------------------------------------- host and daemon
# The host's root is an overlay: the containers' upper directories (and the layer cache) need a
# file system that can be an overlay's upper layer, so tmpfs there.
if ! testhost_boot "$H" --copy "$W/images:/var/lib/ctrmgr/images" --copy "$W/units:/etc/ctrmgr" \
        --copy "$W/sd:/etc/systemd/system" \
        --copy "$src/manager/data/org.ctrmgr1.conf:/etc/dbus-1/system.d/org.ctrmgr1.conf" \
        --nspawn-arg --tmpfs=/var/lib/ctrmgr/containers --nspawn-arg --tmpfs=/var/lib/ctrmgr/layers; then
        echo "Bail out! the test host does not boot"
        exit 1
fi
ok "test host $H boots"
testhost_exec "$H" systemctl reload dbus.service >/dev/null 2>&1 || true

# ctrmgrd from the build tree (visible read-only in the host at the same path), as a service
t_start=$(testhost_exec "$H" date +%s%6N)
if ! testhost_exec "$H" systemd-run --unit=ctrmgrd --service-type=dbus -p BusName=org.ctrmgr1 \
        "$ctrmgrd" --log-level=debug >/dev/null 2>&1; then
        not_ok "ctrmgrd starts as a service in the host"
        diag "$(testhost_exec "$H" journalctl -u ctrmgrd --no-pager -n 30 2>&1)"
        echo "1..$n"
        exit 1
fi
ok "ctrmgrd starts as a service in the host"

in_host() { testhost_exec "$H" "$@"; }
ctl() { in_host "$ctrmgr" "$@"; }
prop() { # UNIT PROPERTY → value
        local path
        path=$(in_host busctl call org.ctrmgr1 /org/ctrmgr1 org.ctrmgr1.Manager GetUnit s "$1" 2>/dev/null |
                awk '{ print $2 }' | tr -d '"')
        [ -n "$path" ] || return 1
        in_host busctl get-property org.ctrmgr1 "$path" org.ctrmgr1.Unit "$2" 2>/dev/null | cut -d' ' -f2- | tr -d '"'
}
wait_prop() { # SECONDS UNIT PROPERTY VALUE
        local end=$((SECONDS + $1))
        while [ $SECONDS -lt $end ]; do
                [ "$(prop "$2" "$3")" = "$4" ] && return 0
                sleep 0.2
        done
        return 1
}
daemon_log() { in_host journalctl -u ctrmgrd --no-pager -o cat 2>/dev/null; }
scope_log() { in_host journalctl -u "ctrmgr-$1.scope" --no-pager -o cat 2>/dev/null; }
wait_for_cmd() { # SECONDS CMD…
        local end=$((SECONDS + $1))
        shift
        until "$@" >/dev/null 2>&1; do
                [ $SECONDS -lt $end ] || return 1
                sleep 0.2
        done
}
restarts_ge() { [ "$(prop "$1" NRestarts)" -ge "$2" ] 2>/dev/null; }

# ---------------------------------------------------------------- ordering and readiness
check "db becomes active" wait_prop 30 db ActiveState active
check "app becomes active" wait_prop 30 app ActiveState active
db_start=$(prop db InactiveExitTimestamp)
db_active=$(prop db ActiveEnterTimestamp)
app_start=$(prop app InactiveExitTimestamp)
diag "db started $((db_start - t_start)) us after the daemon, active after $((db_active - t_start)) us; app started after $((app_start - t_start)) us"
check "db is active only once its health check passed (≥ 2 s after its start)" \
        test $((db_active - db_start)) -ge 2000000
check "app starts after db is active (After=, Notify=healthy)" test "$app_start" -ge "$db_active"

# ---------------------------------------------------------------- cycle
log_has_cycle() { daemon_log | grep 'Ordering cycle' | grep -Eq 'cyc1.*cyc2|cyc2.*cyc1'; }
check "the ordering cycle is logged with both units" log_has_cycle
c1=$(prop cyc1 ActiveState) c2=$(prop cyc2 ActiveState)
check "a unit of the cycle still starts (cyc1 $c1, cyc2 $c2)" test "$c1" = active -o "$c2" = active

# ---------------------------------------------------------------- manual stop
check "always: active" wait_prop 10 always ActiveState active
ctl stop always >/dev/null 2>&1
sleep 1
check "always: a manual stop does not restart it" test "$(prop always ActiveState)" = inactive
check "always: NRestarts stays 0" test "$(prop always NRestarts)" = 0

# ---------------------------------------------------------------- Requires= stop propagation
ctl stop db >/dev/null 2>&1
check "stopping db stops app (Requires=)" wait_prop 10 app ActiveState inactive

# ---------------------------------------------------------------- restart and start limit
check "crash: ends failed after its restarts" wait_prop 20 crash ActiveState failed
r=$(prop crash NRestarts)
check "crash: restarted (NRestarts=$r)" test "${r:-0}" -ge 2
res=$(prop crash Result)
check "crash: Result=start-limit-hit (got $res)" test "$res" = start-limit-hit

# ---------------------------------------------------------------- health
check "sick: killed once unhealthy (HealthOnFailure=kill)" wait_prop 15 sick ActiveState failed

check "sick: Result=signal, the health check's kill (got $(prop sick Result))" test "$(prop sick Result)" = signal
check "sick: the kill is logged with its reason" bash -c 'grep -q "sick: unhealthy; killing it (HealthOnFailure=kill)"' <<<"$(daemon_log)"
check "healer: restarted when unhealthy (HealthOnFailure=restart)" wait_for_cmd 20 restarts_ge healer 2
check "healer: the failed check's output is logged" \
        grep -q "healer: health check failed (exit status 1): sick: unhealthy" <<<"$(daemon_log)"
check "quitter: stopped when unhealthy (HealthOnFailure=stop)" wait_prop 15 quitter ActiveState inactive
sleep 1
check "quitter: not restarted despite Restart=always (got $(prop quitter ActiveState), NRestarts $(prop quitter NRestarts))" \
        test "$(prop quitter ActiveState)/$(prop quitter NRestarts)" = inactive/0

# ---------------------------------------------------------------- readiness protocol
check "notifier: active on READY=1" wait_prop 30 notifier ActiveState active
nstart=$(prop notifier InactiveExitTimestamp) nactive=$(prop notifier ActiveEnterTimestamp)
check "notifier: active only once READY=1 came, 2 s after its start (after $(((nactive - nstart) / 1000)) ms)" \
        test $((nactive - nstart)) -ge 1900000
check "notifier: StatusText is the last STATUS= (got '$(prop notifier StatusText)')" \
        test "$(prop notifier StatusText)" = "serving requests"
check "notifier: ctrmgr status shows it" grep -q 'Status: "serving requests"' <<<"$(ctl --no-pager status notifier 2>&1)"
check "slowpoke: failed when TimeoutStartSec= passed without READY=1" wait_prop 20 slowpoke ActiveState failed
check "slowpoke: Result=timeout (got $(prop slowpoke Result))" test "$(prop slowpoke Result)" = timeout
check "hung: killed when its watchdog was not pinged" wait_prop 20 hung ActiveState failed
check "hung: Result=watchdog (got $(prop hung Result))" test "$(prop hung Result)" = watchdog

# ---------------------------------------------------------------- health in status and on D-Bus
# limping fails every check and has no HealthOnFailure=: it runs on, unhealthy.
check "limping: Health=unhealthy on D-Bus" wait_prop 20 limping Health unhealthy
check "limping: still active (HealthOnFailure=none)" test "$(prop limping ActiveState)" = active
check "ctrmgr status limping shows the health and the last check's output" \
        grep -q 'Health: unhealthy (last check: exit status 1, "sick")' <<<"$(ctl --no-pager status limping 2>&1)"
check "Health on D-Bus: a unit without HealthCmd= has none (got '$(prop notifier Health)')" test -z "$(prop notifier Health)"

# ---------------------------------------------------------------- reload
check "sighup: active" wait_prop 10 sighup ActiveState active
wait_for_cmd 10 grep -q "sighup: up" <<<"$(scope_log sighup)"
sleep 0.5
check "ctrmgr reload sighup (ReloadSignal=SIGHUP)" ctl reload sighup
got_hup() { scope_log sighup | grep -q "sighup: reloaded"; }
check "sighup: the container got SIGHUP" wait_for_cmd 10 got_hup
check "reloadcmd: active" wait_prop 10 reloadcmd ActiveState active
check "ctrmgr reload reloadcmd (ReloadCmd=) succeeds" ctl reload reloadcmd
check "reloadcmd: the command ran inside the container" test "$(ctl exec reloadcmd cat /tmp/reloaded 2>&1)" = "reload ran"
check "badreload: active" wait_prop 10 badreload ActiveState active
out=$(ctl reload badreload 2>&1)
rc=$?
check "ctrmgr reload badreload fails (ReloadCmd= exits 7): status $rc" test "$rc" -ne 0
check "… and says why ($out)" grep -q "failed (7): cannot reload" <<<"$out"
check "badreload: still active after the failed reload" test "$(prop badreload ActiveState)" = active
out=$(ctl reload app 2>&1)
check "a unit without ReloadCmd= or ReloadSignal= is not reloaded ($out)" grep -q "neither ReloadCmd= nor ReloadSignal=" <<<"$out"

# ---------------------------------------------------------------- restart back-off
# RestartSec=200ms growing to RestartMaxDelaySec=2s in 3 steps: about 0.2, 0.43, 0.93, 2, 2 s.
check "backoff: restarted 5 times" wait_for_cmd 30 restarts_ge backoff 5
gaps=$(in_host journalctl -u ctrmgrd -o short-unix --no-pager 2>/dev/null | awk '
        /backoff: Scheduled restart job/ { t = $1; next }
        t != "" && /Starting backoff/ { printf "%d ", ($1 - t) * 1000; t = "" }')
diag "backoff: delays from the exit to the next start (ms): $gaps"
read -r g1 g2 g3 g4 _ <<<"$gaps"
check "backoff: the first delay is short (${g1:-?} ms < 1000)" test "${g1:-99999}" -lt 1000
check "backoff: the delay grows (${g1:-?} < ${g3:-?} < ${g4:-?} ms)" test "${g1:-0}" -lt "${g3:-0}" -a "${g3:-0}" -lt "${g4:-0}"
check "backoff: the fourth is RestartMaxDelaySec= (${g4:-?} ms ≥ 1900)" test "${g4:-0}" -ge 1900

# ---------------------------------------------------------------- dependencies on systemd units
sdprop() { in_host systemctl show -p "$2" --value "$1"; }
usec_of() { # UNIT PROPERTY: a timestamp property of a systemd unit, in µs
        local path
        path=$(in_host busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
                org.freedesktop.systemd1.Manager GetUnit s "$1" 2>/dev/null | awk '{ print $2 }' | tr -d '"')
        [ -n "$path" ] && in_host busctl get-property org.freedesktop.systemd1 "$path" org.freedesktop.systemd1.Unit "$2" |
                awk '{ print $2 }'
}
in_host systemctl start --no-block lc-slow.service
check "afterslow starts while lc-slow.service's job runs (After=lc-slow.service)" ctl start afterslow
slow_up=$(usec_of lc-slow.service ActiveEnterTimestamp)
afterslow_start=$(prop afterslow InactiveExitTimestamp)
check "afterslow started only once lc-slow.service was active ($((afterslow_start - ${slow_up:-0})) µs after)" \
        test -n "$slow_up" -a "${afterslow_start:-0}" -ge "${slow_up:-1}"
out=$(ctl start needfail 2>&1)
check "needfail (Requires=lc-fail.service, which fails) does not start ($out)" test "$(prop needfail ActiveState)" != active
check "… and the error names the systemd unit" grep -q "lc-fail.service" <<<"$out"
check "wantok pulls in lc-ok.service and starts after it (Wants=, After=)" ctl start wantok
check "lc-ok.service is active" test "$(sdprop lc-ok.service ActiveState)" = active
ok_up=$(usec_of lc-ok.service ActiveEnterTimestamp)
check "wantok started after lc-ok.service was active" test -n "$ok_up" -a "$(prop wantok InactiveExitTimestamp)" -ge "${ok_up:-1}"

echo "1..$n"
if [ $failed -gt 0 ]; then
        diag "$(daemon_log | tail -40)"
        exit 1
fi
exit 0
