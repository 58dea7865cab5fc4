#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `ctrmgr logs` without booting systemd: the log file fallback as ctrmgrd (--log-target file, on
# a private bus) names it, the journal-or-file decision without the daemon, and the journal path
# on journal files made with systemd-journal-remote (-D DIR): -n/--since/-f and the matches that
# keep other users' forged fields out. Runs as root in a private mount namespace (its own /run);
# removes every process, mount and cgroup it made.
#
#   test-logs.sh BUILD_DIR SOURCE_DIR
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
journal_remote=
for p in /lib/systemd/systemd-journal-remote /usr/lib/systemd/systemd-journal-remote; do
        [ -x "$p" ] && journal_remote=$p && break
done

ctrmgr=$build/tools/ctrmgr
ctrmgrd=$build/manager/ctrmgrd
[ -x "$ctrmgrd" ] || skip "ctrmgrd not built"
T=$(mktemp -d /tmp/ctrmgr-logs-test.XXXXXX)
mount -t tmpfs -o mode=0755 tmpfs "$T"
parent=/ctrmgr-logs-test-$$
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
bus_pid= daemon_pid= bg_pids=() failures=0 n=0

export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus
export CTRMGR_PAGER=cat NO_COLOR=1
unset CTRMGR_LOG_DIR

fail() { n=$((n + 1)); echo "not ok $n - $*"; failures=$((failures + 1)); }
pass() { n=$((n + 1)); echo "ok $n - $*"; }
skipped() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
show() { sed 's/^/#   /' "$@"; }
# expect DESCRIPTION EXPECTED-STDOUT COMMAND…: stdout exactly as given, exit status 0
expect() {
        local d=$1 want=$2 rc=0; shift 2
        "$@" >"$T/out" 2>"$T/err" || rc=$?
        if [ $rc -eq 0 ] && [ "$(cat "$T/out")" = "$want" ]; then
                pass "$d"
        else
                fail "$d (exit $rc)"
                echo "#   expected:"; printf '%s\n' "$want" | show
                echo "#   got:"; show "$T/out" "$T/err"
        fi
}
# expect_msgs DESCRIPTION "MSG MSG…" COMMAND…: the MESSAGE parts of journal lines, in order
expect_msgs() {
        local d=$1 want=$2 rc=0 got; shift 2
        "$@" >"$T/out" 2>"$T/err" || rc=$?
        got=$(sed -n 's/^.*\]: //p' "$T/out" | tr '\n' ' ' | sed 's/ $//')
        if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then
                pass "$d"
        else
                fail "$d (exit $rc; wanted \"$want\", got \"$got\")"
                show "$T/out" "$T/err"
        fi
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
# follow NAME ARGS…: `ctrmgr logs ARGS…` in the background, output in $T/NAME.follow
follow() {
        local name=$1; shift
        "$ctrmgr" logs "$@" >"$T/$name.follow" 2>&1 &
        bg_pids+=($!)
}
stop_daemon() {
        [ -n "$daemon_pid" ] || return 0
        kill "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null || true
        daemon_pid=
}

cleanup() {
        set +e
        for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
        stop_daemon
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null && wait "$bus_pid" 2>/dev/null
        [ -n "$cg2" ] && [ -d "$cg2$parent" ] && find "$cg2$parent" -depth -type d -exec rmdir {} \; 2>/dev/null
        umount -l /run 2>/dev/null
        umount -l "$T" 2>/dev/null
        rmdir "$T" 2>/dev/null
}
trap cleanup EXIT

# A /run of our own (this namespace only): journald's sockets are what the CLI looks for.
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p "$T/units" "$T/run" "$T/log" "$T/journal"

# ---------------------------------------------------------------- bus and daemon (file logs)
sed -e "s|@ADDRESS@|$T/bus|" -e "s|@POLICY@|<include>$src/manager/data/org.ctrmgr1.conf</include>|" \
        "$src/tests/integration/manager/bus.conf.in" >"$T/bus.conf"
dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile --nosyslog &
bus_pid=$!
wait_for 5 test -S "$T/bus" || { echo "Bail out! dbus-daemon did not start"; exit 1; }
"$ctrmgrd" --unit-path "$T/units" --state-dir "$T/run" --image-store "$T/images" --layers-dir "$T/layers" \
        --containers-dir "$T/containers" --lib-dir "$T/lib" --log-dir "$T/log" --log-target file \
        --cgroup-driver cgroupfs --cgroup-parent "$parent" --no-boot-units 2>>"$T/daemon.log" &
daemon_pid=$!
wait_for 10 "$ctrmgr" list || { echo "Bail out! ctrmgrd did not come up"; cat "$T/daemon.log"; exit 1; }

# A unit's log file as ctrmgrd writes it: the container's lines bare, its own timestamped.
printf 'line 1\nline 2\n2026-11-23T10:00:00+0000 ctrmgrd: Started web.\nline 4\nline 5\n' >"$T/log/web.log"
printf 'a\nb\nno final newline' >"$T/log/partial.log"
# journald's stream socket exists (as a plain file: only its presence is looked at), yet the
# daemon says it writes files: the daemon's word wins.
mkdir -p /run/systemd/journal
touch /run/systemd/journal/stdout

# ---------------------------------------------------------------- the log file, through the daemon
all=$(cat "$T/log/web.log")
expect "logs: the whole file from the daemon's LogDirectory" "$all" "$ctrmgr" logs web
expect "logs -n all: the whole file" "$all" "$ctrmgr" logs -n all web
expect "logs -n 2: the last two lines" $'line 4\nline 5' "$ctrmgr" logs -n 2 web
expect "logs -n 5: all five" "$all" "$ctrmgr" logs -n 5 web
expect "logs -n 9: no more than there is" "$all" "$ctrmgr" logs -n 9 web
expect "logs -n 0: nothing (as journalctl -n 0)" "" "$ctrmgr" logs -n 0 web
expect "logs -n 1 of a file without a final newline" "no final newline" "$ctrmgr" logs -n 1 partial
expect "logs -n 2 of a file without a final newline" $'b\nno final newline' "$ctrmgr" logs -n 2 partial
expect "logs of a unit that never logged: nothing" "" "$ctrmgr" logs nolog
expect "--since with -n: -n still applies" $'line 4\nline 5' "$ctrmgr" logs --since -1h -n 2 web
if grep -q -- '--since is ignored' "$T/err"; then pass "--since on the log file warns"; else fail "--since on the log file warns"; show "$T/err"; fi
rc=0; "$ctrmgr" logs -n x web >/dev/null 2>&1 || rc=$?
if [ $rc -eq 2 ]; then pass "logs -n x: usage error"; else fail "logs -n x: usage error (exit $rc)"; fi

follow f0 -n 0 -f web
follow f1 -n 1 -f web
follow fnew -f -n 0 later
sleep 0.5
echo "line 6" >>"$T/log/web.log"
echo "first words" >>"$T/log/later.log"
wait_for 5 grep -q "line 6" "$T/f0.follow" || true
wait_for 5 grep -q "line 6" "$T/f1.follow" || true
wait_for 5 grep -q "first words" "$T/fnew.follow" || true
expect "logs -n 0 -f: only the new line" "line 6" cat "$T/f0.follow"
expect "logs -n 1 -f: the last line, then the new one" $'line 5\nline 6' cat "$T/f1.follow"
expect "logs -f waits for a log file that is not there yet" "first words" cat "$T/fnew.follow"

stop_daemon

# ---------------------------------------------------------------- no daemon: decide as it does
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/nobus CTRMGR_LOG_DIR=$T/log
rm /run/systemd/journal/stdout
touch /run/systemd/journal/socket
expect "without the daemon: journald's native socket alone is no journal for container output" \
        $'line 5\nline 6' "$ctrmgr" logs -n 2 web

if [ -z "$journal_remote" ]; then
        skipped "without the daemon, journald's stream socket means the journal (systemd-journal-remote missing)"
elif [ ! -s /etc/machine-id ]; then
        skipped "without the daemon, journald's stream socket means the journal (no /etc/machine-id)"
else
        touch /run/systemd/journal/stdout
        mid=$(cat /etc/machine-id)
        mkdir -p "/run/log/journal/$mid"
        now=$(date +%s%6N)
        printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=1000000\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=ctrmgr-web.scope\nSYSLOG_IDENTIFIER=web\n_PID=42\n_UID=0\nMESSAGE=from the journal\n\n' "$now" |
                "$journal_remote" -o "/run/log/journal/$mid/system.journal" - 2>/dev/null
        expect_msgs "without the daemon, journald's stream socket means the journal" "from the journal" \
                "$ctrmgr" logs web
fi

# ---------------------------------------------------------------- the journal (-D DIR)
if [ -z "$journal_remote" ]; then
        for d in "-n/--since/matches" "-n 0 -f" "-n N -f"; do
                skipped "journal $d (systemd-journal-remote missing)"
        done
else
        now=$(date +%s%6N)
        # entry AGE_SECONDS UID MESSAGE FIELD=VALUE…
        entry() {
                local age=$1 uid=$2 msg=$3; shift 3
                printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=0123456789abcdef0123456789abcdef\n' \
                        $((now - age * 1000000)) $((10000000000 - age * 1000000))
                printf '%s\n' "$@" "_UID=$uid" "_PID=42" "MESSAGE=$msg"
                echo
        }
        scope=_SYSTEMD_UNIT=ctrmgr-web.scope
        {
                entry 300 0 c1 "$scope" SYSLOG_IDENTIFIER=web
                entry 240 0 c2 "$scope" SYSLOG_IDENTIFIER=web
                entry 200 1000 forged1 OBJECT_SYSTEMD_UNIT=ctrmgr-web.scope SYSLOG_IDENTIFIER=ctrmgrd
                entry 180 0 d1 OBJECT_SYSTEMD_UNIT=ctrmgr-web.scope CTRMGR_UNIT=web SYSLOG_IDENTIFIER=ctrmgrd
                entry 150 1000 forged2 CTRMGR_UNIT=web SYSLOG_IDENTIFIER=ctrmgrd
                entry 120 0 c3 "$scope" SYSLOG_IDENTIFIER=web
                entry 60 0 d2 CTRMGR_UNIT=web SYSLOG_IDENTIFIER=ctrmgrd
                entry 30 1000 c4 "$scope" SYSLOG_IDENTIFIER=web
                entry 20 0 other _SYSTEMD_UNIT=ctrmgr-db.scope SYSLOG_IDENTIFIER=db
        } >"$T/entries.export"
        "$journal_remote" -o "$T/journal/a.journal" - <"$T/entries.export" 2>/dev/null
        J=(-D "$T/journal")
        # c4: the scope's own output is the unit's whoever the container runs as.
        expect_msgs "journal: the scope's entries and root's messages, no other user's" \
                "c1 c2 d1 c3 d2 c4" "$ctrmgr" logs "${J[@]}" web
        expect_msgs "journal -n 3: the last three" "c3 d2 c4" "$ctrmgr" logs "${J[@]}" -n 3 web
        expect "journal -n 0: nothing" "" "$ctrmgr" logs "${J[@]}" -n 0 web
        expect_msgs "journal --since: from then on" "c3 d2 c4" "$ctrmgr" logs "${J[@]}" --since -130s web
        expect_msgs "journal --since with -n 2: the last two of those" "d2 c4" \
                "$ctrmgr" logs "${J[@]}" --since -130s -n 2 web
        expect_msgs "journal --since with -n 10: no older entries" "c3 d2 c4" \
                "$ctrmgr" logs "${J[@]}" --since -130s -n 10 web
        expect_msgs "journal --since later than every entry" "" "$ctrmgr" logs "${J[@]}" --since -10s web
        "$ctrmgr" --output json logs "${J[@]}" -n 1 web >"$T/out" 2>&1 || true
        if grep -q '"MESSAGE":"c4"' "$T/out"; then pass "journal --output json"; else fail "journal --output json"; show "$T/out"; fi

        follow j0 "${J[@]}" -n 0 -f web
        follow j2 "${J[@]}" -n 2 -f web
        follow jdb "${J[@]}" -n 0 -f db
        sleep 1
        now=$(date +%s%6N)
        { entry 0 0 new1 "$scope" SYSLOG_IDENTIFIER=web; entry 0 0 newdb _SYSTEMD_UNIT=ctrmgr-db.scope SYSLOG_IDENTIFIER=db; } |
                "$journal_remote" -o "$T/journal/b.journal" - 2>/dev/null
        wait_for 5 grep -q new1 "$T/j0.follow" || true
        wait_for 5 grep -q new1 "$T/j2.follow" || true
        wait_for 5 grep -q newdb "$T/jdb.follow" || true
        expect_msgs "journal -n 0 -f: only the new entry" "new1" cat "$T/j0.follow"
        expect_msgs "journal -n 2 -f: the last two, then the new one" "d2 c4 new1" cat "$T/j2.follow"
        expect_msgs "journal -n 0 -f of another unit: its new entry" "newdb" cat "$T/jdb.follow"
fi

echo "1..$n"
[ $failures -eq 0 ] || { echo "# $failures failures"; show "$T/daemon.log" | tail -20; exit 1; }
exit 0
