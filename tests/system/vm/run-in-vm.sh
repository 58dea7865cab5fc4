#!/usr/bin/env bash
# run-in-vm.sh — boots the tier-2 test VM (tests/system/vm/build-image.sh, built and cached on
# first use) under qemu and runs PAYLOAD in it as a boot service; prints the payload's output on
# stdout and exits with its exit status.
#
#   tests/system/vm/run-in-vm.sh [OPTIONS] PAYLOAD [ARG…]
#
#   --share HOSTDIR[:GUESTDIR]   make a host directory visible in the guest (9p, read-only) at
#                                GUESTDIR (default: the same path), e.g. the build and source tree
#   --share-rw HOSTDIR[:GUESTDIR]  the same, writable
#   --install BUILDDIR           `meson install --no-rebuild --destdir` of that build (configure
#                                it with --prefix=/usr) into an install tree the image's
#                                generator copies onto / before systemd loads its units
#   --copy SRC:/DEST             put a host file or directory (its contents) at DEST the same way
#   --enable UNIT[:TARGET]       start UNIT at boot (repeatable): a unit the test installs
#                                (--install/--copy) is enabled by `systemctl --root enable`
#                                from its [Install] section; with :TARGET, or for a unit that
#                                only the image has, it is linked into TARGET.wants (default
#                                multi-user.target)
#   --env KEY=VALUE              exported to the payload (repeatable)
#   --out DIR                    keep the results there: payload.log, rc, console.log (the serial
#                                console), boots, boot-N.txt (system state and boot time per boot)
#   --timeout SEC                the whole run, boot to poweroff (default $CTRMGR_VM_TIMEOUT or 600)
#   --boot-timeout SEC           give up when the guest's userspace has said nothing on the
#                                console for that long after qemu started (default
#                                $CTRMGR_VM_BOOT_TIMEOUT or 300): a guest that does not boot
#                                fails in minutes, not at --timeout
#   --max-boots N                how often the payload may ask for a reboot by exiting 100 (default
#                                1: no reboot); after a reboot it runs again with CTRMGR_VM_BOOT=2…
#   --memory MB, --cpus N        guest size (default 2048, 2)
#
# Inside the guest the payload runs as root, after `systemctl is-system-running --wait`, with
# CTRMGR_VM_SHARE (the share, where it was copied), CTRMGR_VM_OUT (results directory, keep extra
# files there) and CTRMGR_VM_BOOT set. The guest is Debian 12 with systemd as PID 1, pure cgroup
# v2 (systemd.unified_cgroup_hierarchy=1) and no network. Each run boots a private qcow2 overlay
# of the image, so every run starts from the pristine image, and a reboot (a fresh qemu on the
# same overlay) keeps the changes of the same run.
#
# Exit status: the payload's; 124 if the run timed out; 125 if the VM never reported a result
# (it did not boot, or the payload service did not run).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
timeout=${CTRMGR_VM_TIMEOUT:-600}
boot_timeout=${CTRMGR_VM_BOOT_TIMEOUT:-300}
memory=2048 cpus=2 max_boots=1 outdir=""
shares=() envs=() copies=() enables=() install_build=""
while [ $# -gt 0 ]; do
        case $1 in
        --share) shares+=("ro:$2"); shift 2 ;;
        --share-rw) shares+=("rw:$2"); shift 2 ;;
        --env) envs+=("$2"); shift 2 ;;
        --install) install_build=$2; shift 2 ;;
        --copy) copies+=("$2"); shift 2 ;;
        --enable) enables+=("$2"); shift 2 ;;
        --out) outdir=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --boot-timeout) boot_timeout=$2; shift 2 ;;
        --max-boots) max_boots=$2; shift 2 ;;
        --memory) memory=$2; shift 2 ;;
        --cpus) cpus=$2; shift 2 ;;
        -h | --help) sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        --) shift; break ;;
        -*) echo "run-in-vm: unknown option $1" >&2; exit 2 ;;
        *) break ;;
        esac
done
if [ $# -lt 1 ] || [ ! -f "$1" ]; then
        echo "usage: run-in-vm.sh [OPTIONS] PAYLOAD [ARG…] (see --help)" >&2
        exit 2
fi
payload=$1
shift

command -v qemu-system-x86_64 >/dev/null || {
        echo "run-in-vm: qemu-system-x86_64 is missing (scripts/install-deps.sh installs it)" >&2
        exit 125
}
image=$("$here/build-image.sh") || {
        echo "run-in-vm: could not build the VM image" >&2
        exit 125
}

share=$(mktemp -d "${TMPDIR:-/tmp}/ctrmgr-vm-XXXXXX")
qemu_pid=""
teardown() {
        if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
                kill -TERM "$qemu_pid" 2>/dev/null || true
                sleep 1
                kill -KILL "$qemu_pid" 2>/dev/null || true
                wait "$qemu_pid" 2>/dev/null || true
        fi
        if [ -n "$outdir" ] && [ -d "$share/out" ]; then
                mkdir -p "$outdir"
                cp -a "$share/out/." "$outdir/"
        fi
        rm -rf --one-file-system "$share"
        rm -f "$share.qcow2"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$share/out"
install -m 0755 "$payload" "$share/payload"
install -m 0755 "$here/ctrmgr-vm-run" "$share/ctrmgr-vm-run"
printf '%s\n' "$@" >"$share/args"
[ $# -gt 0 ] || : >"$share/args"
echo "$max_boots" >"$share/max-boots"
: >"$share/env"
for e in "${envs[@]}"; do
        printf '%s=%q\n' "${e%%=*}" "${e#*=}" >>"$share/env"
done

if [ -n "$install_build" ]; then
        mkdir -p "$share/install"
        meson install -C "$install_build" --no-rebuild --quiet --destdir "$share/install" >&2 || {
                echo "run-in-vm: meson install of $install_build failed" >&2
                exit 125
        }
fi
for c in "${copies[@]}"; do
        src=${c%%:*}
        dst=${c#*:}
        if [[ $dst != /* ]] || [ ! -e "$src" ]; then
                echo "run-in-vm: --copy wants an existing SRC and SRC:/DEST, got '$c'" >&2
                exit 2
        fi
        mkdir -p "$share/install"
        if [ -d "$src" ]; then
                mkdir -p "$share/install$dst"
                cp -a "$src/." "$share/install$dst/"
        else
                mkdir -p "$(dirname "$share/install$dst")"
                cp -a "$src" "$share/install$dst"
        fi
done
: >"$share/enable"
for e in "${enables[@]}"; do
        unit=${e%%:*}
        if [[ $e == *:* ]]; then
                # An explicit target: the image's generator links UNIT into TARGET.wants.
                echo "$unit ${e#*:}" >>"$share/enable"
        elif [ -n "$(ls "$share/install"/{etc,usr/lib,lib}/systemd/system/"$unit" 2>/dev/null)" ]; then
                # A unit the test installs: enabled as `systemctl enable` does it, from its
                # [Install] section (WantedBy=, Alias=, …), into the install tree.
                systemctl --root="$share/install" --quiet enable "$unit" >&2 || {
                        echo "run-in-vm: systemctl enable $unit failed (has it an [Install] section?)" >&2
                        exit 2
                }
        else
                echo "$unit multi-user.target" >>"$share/enable"
        fi
done

virtfs=(-virtfs "local,path=$share,mount_tag=share,security_model=none,id=share")
: >"$share/mounts"
i=0
for s in "${shares[@]}"; do
        mode=${s%%:*}
        spec=${s#*:}
        host=${spec%%:*}
        guest=${spec#*:}
        [ "$guest" != "$spec" ] || guest=$host
        host=$(realpath "$host")
        [ -d "$host" ] || { echo "run-in-vm: --share $host is not a directory" >&2; exit 2; }
        i=$((i + 1))
        ro=""
        [ "$mode" = ro ] && ro=",readonly=on"
        virtfs+=(-virtfs "local,path=$host,mount_tag=share$i,security_model=none,id=share$i$ro")
        echo "share$i $guest $mode" >>"$share/mounts"
done

accel=(-accel tcg)
if [ -w /dev/kvm ]; then
        accel=(-accel kvm -accel tcg)
fi

# The guest's disk: a qcow2 overlay on the cached image, private to this run, so the image stays
# pristine and a reboot (a new qemu process on the same overlay: a cold boot, as real as it
# gets) finds what the previous boot left.
disk=$share.qcow2
qemu-img create -q -f qcow2 -b "$image/root.img" -F raw "$disk"

start=$(date +%s)
qrc=0
boot=0
while :; do
        boot=$((boot + 1))
        left=$((timeout - ($(date +%s) - start)))
        if [ "$left" -le 0 ]; then
                qrc=124
                break
        fi
        # -no-reboot: a reboot inside ends this qemu; the loop starts the next boot. The kernel
        # prints only warnings (loglevel=4); systemd shows its units' progress, so a boot that
        # hangs shows where. Disk errors reach the guest (werror/rerror=report) instead of
        # pausing the VM silently, qemu's default for a full host disk.
        console=$share/out/console-$boot.log
        : >"$console"
        timeout --kill-after=10 "$left" qemu-system-x86_64 \
                -machine q35 "${accel[@]}" -cpu "${CTRMGR_VM_CPU:-max}" -smp "$cpus" -m "$memory" \
                -nodefaults -no-user-config -display none -monitor none -no-reboot \
                -serial "file:$console" \
                -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
                -append "root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 panic=-1 loglevel=4 systemd.show_status=1" \
                -drive "file=$disk,format=qcow2,if=virtio,cache=unsafe,werror=report,rerror=report" \
                -device virtio-rng-pci -nic none \
                "${virtfs[@]}" </dev/null >>"$share/out/qemu.log" 2>&1 &
        qemu_pid=$!
        # Boot watchdog: the image's generator writes to the console as soon as userspace runs
        # (seconds under TCG). Silence for boot_timeout seconds means this guest will not boot.
        (
                waited=0
                while [ "$waited" -lt "$boot_timeout" ]; do
                        sleep 5
                        waited=$((waited + 5))
                        kill -0 "$qemu_pid" 2>/dev/null || exit 0
                        grep -q 'ctrmgr-vm-' "$console" 2>/dev/null && exit 0
                done
                echo "no-boot" >"$share/out/boot-watchdog"
                kill -TERM "$qemu_pid" 2>/dev/null
        ) &
        watchdog_pid=$!
        set +e
        wait "$qemu_pid"
        qrc=$?
        set -e
        kill "$watchdog_pid" 2>/dev/null || true
        wait "$watchdog_pid" 2>/dev/null || true
        qemu_pid=""
        cat "$share/out/console-$boot.log" >>"$share/out/console.log" 2>/dev/null || true
        # The guest's runner leaves reboot-N when the payload asked for boot N+1.
        if [ "$qrc" = 0 ] && [ ! -f "$share/out/rc" ] && [ -f "$share/out/reboot-$boot" ] &&
                [ "$boot" -lt "$max_boots" ]; then
                continue
        fi
        break
done
rm -f "$disk"
elapsed=$(($(date +%s) - start))
echo "$elapsed" >"$share/out/vm-seconds"

[ -f "$share/out/payload.log" ] && cat "$share/out/payload.log"
if [ -f "$share/out/boot-watchdog" ]; then
        echo "run-in-vm: the guest's userspace said nothing on the console within ${boot_timeout}s of" \
                "qemu's start (boot $boot): it did not boot. Console:" >&2
        tail -n 40 "$share/out/console.log" >&2 || true
        echo "run-in-vm: qemu's own output:" >&2
        cat "$share/out/qemu.log" >&2 || true
        echo "run-in-vm: disk space where the VM image and its overlay are:" >&2
        df -h "$image" "$share" >&2 || true
        exit 125
fi
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
        echo "run-in-vm: timed out after ${timeout}s; last console lines:" >&2
        tail -n 40 "$share/out/console.log" >&2 || true
        exit 124
fi
if [ ! -f "$share/out/rc" ]; then
        echo "run-in-vm: the VM stopped (qemu status $qrc) without a payload result; last console lines:" >&2
        tail -n 40 "$share/out/console.log" >&2 || true
        cat "$share/out/qemu.log" >&2 || true
        exit 125
fi
rc=$(cat "$share/out/rc")
echo "run-in-vm: payload exited $rc; VM ran ${elapsed}s ($(cat "$share/out/boots") boot(s))" >&2
exit "$rc"
