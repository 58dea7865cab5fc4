#!/bin/bash
# Runs inside the tier-2 VM (see smoke.sh): prints one "ok - …" / "not ok - …" line per check.
# $1: a directory shared from the host (read-only) that must contain this very script.
set -u
ok() { if "${@:2}"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

ok "PID 1 is systemd" test "$(cat /proc/1/comm)" = systemd
state=$(systemctl is-system-running)
ok "the system is running (got '$state')" test "$state" = running
[ "$state" = running ] || systemctl --failed --no-legend | sed 's/^/# /'
ok "pure cgroup v2 at /sys/fs/cgroup" test "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs
ok "no cgroup v1 hierarchy is mounted" test -z "$(awk '$3 == "cgroup"' /proc/self/mounts)"
ctl=$(cat /sys/fs/cgroup/cgroup.controllers)
echo "# controllers: $ctl"
for c in memory pids cpu io; do
        ok "the $c controller is available" grep -qw "$c" <<<"$ctl"
done
# Limits on a transient scope land in its cgroup: the controllers are enabled down the tree.
out=$(systemd-run --quiet --scope --unit=vm-smoke -p MemoryMax=64M -p TasksMax=32 -p CPUQuota=50% sh -c '
cg=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)
echo "$cg $(cat $cg/memory.max) $(cat $cg/pids.max) $(cat $cg/cpu.max)"')
echo "# scope: $out"
ok "a scope's MemoryMax/TasksMax/CPUQuota reach memory.max, pids.max, cpu.max" \
        test "$out" = "/sys/fs/cgroup/system.slice/vm-smoke.scope 67108864 32 50000 100000"
# The memory limit is enforced: a process allocating past it is OOM-killed.
systemd-run --quiet --wait --unit=vm-smoke-oom -p MemoryMax=32M -p MemorySwapMax=0 \
        /bin/busybox sh -c 'x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived' >/dev/null 2>&1
result=$(systemctl show -p Result --value vm-smoke-oom.service 2>/dev/null)
[ -n "$result" ] || result=$(journalctl -u vm-smoke-oom.service -o cat | grep -o 'oom-kill' | head -1)
ok "a process allocating past MemoryMax is OOM-killed (Result=$result)" test "$result" = oom-kill
ok "the runtime pieces ctrmgr needs are installed" test -e /usr/share/containers/seccomp.json \
        -a -e /usr/lib/x86_64-linux-gnu/libinih.so.1 -a -e /usr/lib/x86_64-linux-gnu/libarchive.so.13 \
        -a -e /usr/lib/x86_64-linux-gnu/libjson-c.so.5 -a -e /usr/lib/x86_64-linux-gnu/libseccomp.so.2 \
        -a -x /bin/busybox
ok "the host directory is shared read-only at ${1:-?}" bash -c \
        'test -f "$1/smoke-payload.sh" && ! touch "$1/.w" 2>/dev/null' _ "${1:-/nonexistent}"
ok "the payload gets its environment" test "${VM_SMOKE_TOKEN:-}" = "a b'c"
ok "a file put in with --copy is there" test "$(cat /etc/vm-smoke/hello 2>/dev/null)" = "hello from the host"
for u in boot gen; do
        ok "a unit put in with --copy and --enable started at boot ($u)" \
                test "$(systemctl is-active vm-smoke-$u.service)" = active -a -e /run/vm-smoke-$u
done
ok "--enable of a unit with [Install] made the symlink systemctl enable makes" \
        test -L /etc/systemd/system/multi-user.target.wants/vm-smoke-boot.service
echo "$CTRMGR_VM_BOOT $(cat /proc/sys/kernel/random/boot_id)" >"$CTRMGR_VM_OUT/smoke-result"
if [ "$CTRMGR_VM_BOOT" = 1 ] && [ "${VM_SMOKE_REBOOT:-0}" = 1 ]; then
        exit 100 # ask for a reboot: the checks run again on boot 2
fi
exit 0
