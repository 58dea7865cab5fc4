#!/bin/bash
# Runs inside the tier-2 VM (see ctrmgr-boot.sh), once per boot: ctrmgr was installed before the
# first boot, ctrmgrd.service enabled and the units of units/ put in /etc/ctrmgr, so everything
# checked here was started by the boot itself. Prints one "ok - …" / "not ok - …" line per check
# and "# …" notes. Boot 1 checks start order and enforced limits, then asks for a reboot (exit
# 100); boot 2 checks that the daemon and the units are back.
set -u
boot=${CTRMGR_VM_BOOT:-1}
out=${CTRMGR_VM_OUT:-/tmp}
failed=0
check() { # DESCRIPTION CMD…
        if "${@:2}"; then echo "ok - $1 (boot $boot)"; else echo "not ok - $1 (boot $boot)"; failed=1; fi
}
note() { sed 's/^/# /'; }
prop() { # UNIT PROPERTY: the value of a property of a unit's D-Bus object, unquoted
        busctl get-property org.ctrmgr1 "/org/ctrmgr1/unit/$1" org.ctrmgr1.Unit "$2" 2>/dev/null |
                sed -e 's/^[a-z]* //' -e 's/^"\(.*\)"$/\1/'
}
wait_for() { # SECONDS CMD…: poll until CMD succeeds
        local end=$((SECONDS + $1))
        shift
        until "$@"; do
                [ "$SECONDS" -lt "$end" ] || return 1
                sleep 1
        done
}
is_active() { [ "$(prop "$1" ActiveState)" = active ]; }
scope_dir() { echo "/sys/fs/cgroup/ctrmgr.slice/ctrmgr-$1.scope"; }
# The first file NAME under the unit's scope (the daemon may nest the container in a child
# cgroup of its delegated scope) whose content matches VALUE.
find_cg_file() { # UNIT NAME VALUE
        local f
        for f in $(find "$(scope_dir "$1")" -name "$2" 2>/dev/null); do
                [ "$(cat "$f")" = "$3" ] && { echo "$f"; return 0; }
        done
        return 1
}

check "ctrmgrd.service is enabled" test "$(systemctl is-enabled ctrmgrd.service 2>&1)" = enabled
check "ctrmgrd.service was started by the boot and is active" \
        test "$(systemctl is-active ctrmgrd.service)" = active
systemctl status --no-pager -n 0 ctrmgrd.service 2>&1 | head -5 | note
units=(vmdb vmapp vmmem vmpids vmcpu)
for u in vmdb vmpids vmcpu; do
        check "$u came up at boot and is active" wait_for 120 is_active "$u"
done
check "vmapp (After=/Requires=vmdb) came up at boot and is active" wait_for 60 is_active vmapp
ctrmgr --no-pager list 2>&1 | note
for u in "${units[@]}"; do
        ctrmgr --no-pager status "$u" 2>&1 | note
done
echo "# ctrmgrd's journal (this boot, last 40 lines):"
journalctl -b -u ctrmgrd.service -o cat --no-pager 2>&1 | tail -n 40 | note

# -- dependency order: vmapp (After=/Requires= vmdb) started only once vmdb was ready ----------
db_t=$(prop vmdb ActiveEnterTimestamp)
app_t=$(prop vmapp ActiveEnterTimestamp)
echo "# ActiveEnterTimestamp vmdb=$db_t vmapp=$app_t"
# When vmdb really was ready: its first line after the sleep, as journald stamped it.
serving_us=$(journalctl -b -u ctrmgr-vmdb.scope -o short-unix --no-pager 2>/dev/null |
        awk '/vmdb: serving/ { split($1, t, "."); print t[1] t[2]; exit }')
echo "# vmdb said 'serving' at ${serving_us:-?} (µs)"
check "vmapp became active only after vmdb served" \
        test "${app_t:-0}" -ge "${serving_us:-1}" -a "${serving_us:-0}" -gt 0
check "vmdb (Notify=healthy) entered active only once it served" \
        test "${db_t:-0}" -ge "${serving_us:-1}" -a "${serving_us:-0}" -gt 0
check "vmapp found vmdb serving when it started" \
        bash -c 'journalctl -b -u ctrmgr-vmapp.scope -o cat | grep -q "vmapp: vmdb was ready at start"'
if [ "$boot" = 1 ]; then
        check "vmdb's container output reached journald (ctrmgr-vmdb.scope)" \
                bash -c 'journalctl -b -u ctrmgr-vmdb.scope -o cat | grep -q "vmdb: serving"'

        # -- MemoryMax: a container past its limit is OOM-killed and restarted ----------------
        check "vmmem ran into its memory limit: the kernel OOM-killed in ctrmgr-vmmem.scope" \
                wait_for 90 bash -c 'journalctl -b -k -o cat | grep -q "oom-kill.*ctrmgr-vmmem.scope"'
        journalctl -b -k -o cat | grep -m3 "oom-kill.*ctrmgr-vmmem" | note
        check "vmmem was restarted after the OOM kill (NRestarts >= 1)" \
                wait_for 60 bash -c '[ "$(busctl get-property org.ctrmgr1 /org/ctrmgr1/unit/vmmem org.ctrmgr1.Unit NRestarts | cut -d" " -f2)" -ge 1 ]'
        check "vmmem's memory limit is 32M in its cgroup" \
                wait_for 30 eval 'find_cg_file vmmem memory.max 33554432 >/dev/null'
        check "ctrmgr status vmmem tells of the OOM kill" \
                bash -c 'ctrmgr --no-pager status vmmem 2>&1 | grep -qi "oom"'
        ctrmgr --no-pager status vmmem 2>&1 | note

        # -- PidsLimit: forks past the limit are refused -----------------------------------------
        pmax=$(find_cg_file vmpids pids.max 16)
        check "vmpids' cgroup has pids.max 16" test -n "$pmax"
        if [ -n "$pmax" ]; then
                d=$(dirname "$pmax")
                echo "# $d: pids.current $(cat "$d/pids.current"), pids.events $(cat "$d/pids.events")"
                check "vmpids holds no more than 16 tasks" test "$(cat "$d/pids.current")" -le 16
                check "the kernel refused vmpids' forks past the limit (pids.events max > 0)" \
                        test "$(awk '$1 == "max" { print $2 }' "$d/pids.events")" -gt 0
        fi

        # -- CPUQuota: the busy loop gets about a fifth of a CPU -------------------------------
        cmax=$(find_cg_file vmcpu cpu.max "20000 100000")
        check "vmcpu's cgroup has cpu.max 20000 100000" test -n "$cmax"
        if [ -n "$cmax" ]; then
                d=$(dirname "$cmax")
                u0=$(awk '$1 == "usage_usec" { print $2 }' "$d/cpu.stat")
                t0=$(date +%s%N)
                sleep 5
                u1=$(awk '$1 == "usage_usec" { print $2 }' "$d/cpu.stat")
                t1=$(date +%s%N)
                share=$(((u1 - u0) * 1000 * 100 / (t1 - t0)))
                echo "# vmcpu used ${share}% of one CPU over $(((t1 - t0) / 1000000)) ms; $(grep throttled "$d/cpu.stat" | tr '\n' ' ')"
                check "vmcpu is throttled (nr_throttled > 0)" \
                        test "$(awk '$1 == "nr_throttled" { print $2 }' "$d/cpu.stat")" -gt 0
                check "vmcpu used at most 25% of a CPU (quota 20%; got ${share}%)" test "$share" -le 25
        fi
        cat /proc/sys/kernel/random/boot_id >"$out/boot-1-id"
        # Keep this boot's journal, to see after the reboot how ctrmgrd took part in the shutdown.
        mkdir -p /var/log/journal
        systemd-tmpfiles --create --prefix /var/log/journal >/dev/null 2>&1
        journalctl --flush >/dev/null 2>&1
        [ "$failed" = 0 ] || exit 1
        exit 100 # reboot; the checks above that hold for every boot run again
fi

check "this is a new boot" test "$(cat /proc/sys/kernel/random/boot_id)" != "$(cat "$out/boot-1-id" 2>/dev/null)"

# -- the shutdown of boot 1: ctrmgrd stopped the units itself, vmapp before vmdb (After=) ------
journalctl -b -1 -u ctrmgrd.service -o short-unix --no-pager 2>/dev/null | tail -n 30 | note
check "at the shutdown ctrmgrd stopped the units itself" \
        bash -c 'journalctl -b -1 -u ctrmgrd.service -o cat | grep -q "The system is shutting down: stopping"'
stop_t() { journalctl -b -1 -u ctrmgrd.service -o short-unix --no-pager 2>/dev/null | awk -v d="$1" 'index($0, "Stopped " d) { print $1; exit }'; }
app_stop=$(stop_t "tier-2 test: application") db_stop=$(stop_t "tier-2 test: slow-to-get-ready")
echo "# stopped at the shutdown: vmapp ${app_stop:-?}, vmdb ${db_stop:-?}"
check "vmapp was stopped before vmdb (it is After=vmdb)" \
        awk -v a="${app_stop:-x}" -v d="${db_stop:-x}" 'BEGIN { exit !(a != "x" && d != "x" && a + 0 <= d + 0) }'
check "vmdb's scope has KillSignal/TimeoutStopUSec from the unit, vmapp's is ordered after it" \
        bash -c 'systemctl show -p After ctrmgr-vmapp.scope | grep -q ctrmgr-vmdb.scope'

check "/etc/ctrmgr still has the units" test -f /etc/ctrmgr/vmdb.ctr
[ "$failed" = 0 ]
