#!/usr/bin/env bash
# Real enforcement in the tier-2 VM (tests/system/vm: systemd as PID 1, pure cgroup v2 with the
# memory, cpu, io and pids controllers): runs test-cgroup (cgroupfs driver: pids.max, memory.max
# OOM kill, cpu.max throttling, every limit landing in its file) and test-cgroup-systemd (the
# systemd driver: properties landing in the scope's files, unified keys surviving a
# daemon-reload) inside the VM, from the shared build tree. One TAP stream, renumbered.
# test-seccomp runs there too: Debian's kernel has the IA32 emulation this machine's lacks, so
# the SCMP_ARCH_X86 checks run.
#   vm-enforce.sh SRCDIR TEST-CGROUP TEST-CGROUP-SYSTEMD TEST-SECCOMP
set -u
src=$(cd "$1" && pwd)
bin_fs=$(readlink -f "$2")
bin_sd=$(readlink -f "$3")
bin_sc=$(readlink -f "$4")
vm=${CTRMGR_VM_RUN:-$src/tests/system/vm/run-in-vm.sh}

skip() {
        echo "1..0 # SKIP $*"
        exit 0 # TAP: the plan says skip
}
[ "$(id -u)" = 0 ] || skip "needs root"
[ -x "$vm" ] || skip "no tier-2 VM tooling in this tree ($vm)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"

work=$(mktemp -d /tmp/cgsec-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/payload.sh" <<PAYLOAD
#!/bin/bash
echo "# kernel \$(uname -r), cgroup2 controllers: \$(cat /sys/fs/cgroup/cgroup.controllers)"
# The VM is throwaway: pass every controller down from the root, so that the cgroupfs driver
# (which never enables controllers in cgroups it did not make) gets cpu, io and hugetlb too.
for c in cpu cpuset io hugetlb; do echo "+\$c" >/sys/fs/cgroup/cgroup.subtree_control; done
echo "# root subtree_control: \$(cat /sys/fs/cgroup/cgroup.subtree_control)"
echo "== cgroupfs"
"$bin_fs"
echo "== rc \$?"
echo "== systemd"
CTRMGR_TEST_SCOPES=3 "$bin_sd"
echo "== rc \$?"
echo "== seccomp"
"$bin_sc"
echo "== rc \$?"
PAYLOAD
chmod +x "$work/payload.sh"

dirs=$(printf '%s\n' "$(dirname "$bin_fs")" "$(dirname "$bin_sd")" "$(dirname "$bin_sc")" | sort -u)
args=()
for d in $dirs; do
        args+=(--share "$d")
done
"$vm" --out "$work/out" --timeout 900 "${args[@]}" --share "$work" "$work/payload.sh" >"$work/log" 2>"$work/err"
rc=$?
if [ $rc -ne 0 ]; then
        sed 's/^/# /' "$work/err" | tail -20
        sed 's/^/# /' "$work/log" | tail -40
        echo "Bail out! the VM run failed (run-in-vm.sh exit $rc)"
        exit 1
fi
# Renumber both TAP streams into one; a driver that did not finish is a failure.
awk '
        /^== cgroupfs/ { part = "cgroupfs"; next }
        /^== systemd/ { part = "systemd"; next }
        /^== seccomp/ { part = "seccomp"; next }
        /^== rc / { if ($3 != 0 && $3 != 77) { n++; printf "not ok %d - %s test exited %s\n", n, part, $3 } ; next }
        /^(not )?ok [0-9]+/ {
                n++
                notok = ($1 == "not")
                sub(/^(not )?ok [0-9]+/, "")
                sub(/^ - /, "")
                printf "%sok %d - %s: %s\n", notok ? "not " : "", n, part, $0
                next
        }
        /^1\.\.0/ { print "# " part ": " $0; next }
        /^1\.\./ { next }
        { print "# " $0 }
        END { printf "1..%d\n", n }
' "$work/log"
