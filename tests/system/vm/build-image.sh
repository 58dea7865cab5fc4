#!/usr/bin/env bash
# build-image.sh — builds (once) the tier-2 test VM: a Debian 12 root filesystem made with
# debootstrap from Debian's archive, with systemd as init, the kernel and initrd, the runtime
# libraries ctrmgr needs, and a boot service that runs a payload handed in over 9p. Cached under
# $CTRMGR_VM_CACHE (default /var/cache/ctrmgr-test) in a directory named after a hash of the
# package list and this recipe, so a machine builds it at most once per change of either.
#
#   tests/system/vm/build-image.sh [--print-dir] [--rebuild]
#
# Prints the image directory on stdout (root.img, vmlinuz, initrd.img, packages, build.log,
# build-seconds). Needs root, debootstrap, e2fsprogs (mkfs.ext4 -d) and network access to the
# Debian archive (CTRMGR_VM_MIRROR, default: the machine's apt source or deb.debian.org).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# Bump when the recipe below changes in a way the package list does not show.
RECIPE=7
SUITE=bookworm
SIZE=${CTRMGR_VM_IMAGE_SIZE:-3G}
PACKAGES=(
        # init and the basics of a booted system
        systemd systemd-sysv dbus udev kmod iproute2 procps util-linux
        # the kernel (with the 9p and virtio modules) and an initrd
        linux-image-amd64 initramfs-tools
        # what ctrmgr links against at run time
        libsystemd0 libinih1 libarchive13 libjson-c5 libseccomp2 libssl3 zlib1g libzstd1
        # the default seccomp profile (/usr/share/containers/seccomp.json; Debian 12 ships it in
        # golang-github-containers-common, whose virtual dependency is met here explicitly)
        golang-github-containers-common golang-github-containers-image containernetworking-plugins
        # the example image's content and a shell toolbox for the checks
        busybox-static
)

cache=${CTRMGR_VM_CACHE:-/var/cache/ctrmgr-test}
rebuild=0 print_only=0
while [ $# -gt 0 ]; do
        case $1 in
        --rebuild) rebuild=1 ;;
        --print-dir) print_only=1 ;;
        -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-image: unknown option $1" >&2; exit 2 ;;
        esac
        shift
done

key=$( (printf '%s\n' "recipe=$RECIPE" "suite=$SUITE" "size=$SIZE" "${PACKAGES[@]}"; cat "$here/guest/"*) |
        sha256sum | cut -c1-16)
dir=$cache/vm-$SUITE-$key
if [ "$print_only" = 1 ]; then
        echo "$dir"
        exit 0
fi
if [ "$rebuild" = 0 ] && [ -f "$dir/ready" ]; then
        touch "$dir/last-used" 2>/dev/null || true
        echo "$dir"
        exit 0
fi

if [ "$(id -u)" != 0 ]; then
        echo "build-image: needs root (debootstrap, mkfs)" >&2
        exit 1
fi
for t in debootstrap mkfs.ext4; do
        command -v "$t" >/dev/null || {
                echo "build-image: $t is missing (scripts/install-deps.sh installs it)" >&2
                exit 1
        }
done

mkdir -p "$cache"
# One builder at a time per cache; a second caller waits and then finds the image ready.
exec 9>"$cache/.lock"
flock 9
if [ "$rebuild" = 0 ] && [ -f "$dir/ready" ]; then
        touch "$dir/last-used" 2>/dev/null || true
        echo "$dir"
        exit 0
fi

# Under the lock no other build runs: a .build-* left here is from a build that was killed.
for stale in "$cache"/.build-*; do
        [ -d "$stale" ] || continue
        for m in $(awk -v r="$stale/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
                umount -l "$m" 2>/dev/null || true
        done
        rm -rf --one-file-system "$stale"
done

mirror=${CTRMGR_VM_MIRROR:-}
if [ -z "$mirror" ]; then
        mirror=$(grep -hsE '^URIs:|^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
                /etc/apt/sources.list.d/*.list 2>/dev/null | grep -m1 -o 'http[^ ]*debian/\?$' || true)
        mirror=${mirror:-http://deb.debian.org/debian}
fi

t0=$(date +%s)
tmp=$(mktemp -d "$cache/.build-XXXXXX")
rootfs=$tmp/rootfs
cleanup() {
        # debootstrap mounts proc/sys inside the rootfs; make sure none stays behind.
        local m
        for m in $(awk -v r="$rootfs" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
                umount -l "$m" 2>/dev/null || true
        done
        rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log=$tmp/build.log
# The root filesystem is built on a tmpfs when the machine has the memory (about 1 GB is used):
# dpkg syncs every file it unpacks, which makes the install I/O-bound on a VM's disk.
mkdir "$rootfs"
avail_kb=$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)
if [ "${avail_kb:-0}" -gt $((4 * 1024 * 1024)) ]; then
        mount -t tmpfs -o mode=0755,size=3G ctrmgr-vm-build "$rootfs"
fi
echo "build-image: building the test VM image in $dir (log: $log; takes a few minutes)" >&2
include=$(IFS=,; echo "${PACKAGES[*]}")
# Packages this machine's apt already downloaded (scripts/install-deps.sh installed many of the
# same: systemd, dbus, the libraries) are not fetched again: debootstrap takes them from its
# cache directory after checking their checksums against the archive's index. Hard links, so
# nothing is copied; the directory goes with the build.
debs=$tmp/debs
mkdir "$debs"
find /var/cache/apt/archives -maxdepth 1 -name '*.deb' -exec ln -f -t "$debs" {} + 2>/dev/null || true
# Two stages, so the initramfs configuration is in place before the kernel's postinst builds the
# initrd: with only the modules a virtio disk and ext4 need (not MODULES=most), mkinitramfs
# takes seconds instead of minutes, and it runs twice during the install.
if ! unshare --mount --propagation private -- \
        debootstrap --foreign --variant=minbase --cache-dir="$debs" --include="$include" "$SUITE" "$rootfs" "$mirror" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "build-image: debootstrap (first stage) failed (log above)" >&2
        exit 1
fi
mkdir -p "$rootfs/etc/initramfs-tools/conf.d" "$rootfs/etc/initramfs-tools/hooks"
printf 'MODULES=list\n' >"$rootfs/etc/initramfs-tools/conf.d/ctrmgr-vm.conf"
cat >"$rootfs/etc/initramfs-tools/hooks/ctrmgr-vm" <<'HOOK'
#!/bin/sh
# The tier-2 test VM boots from a virtio disk with ext4 (tests/system/vm/build-image.sh).
case $1 in prereqs) exit 0 ;; esac
. /usr/share/initramfs-tools/hook-functions
manual_add_modules virtio_pci virtio_blk ext4 crc32c_generic
HOOK
chmod 0755 "$rootfs/etc/initramfs-tools/hooks/ctrmgr-vm"
# No fsync per unpacked file either way (the image is written once, by mkfs, at the end).
mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
echo force-unsafe-io >"$rootfs/etc/dpkg/dpkg.cfg.d/ctrmgr-vm-build"
t_first=$(date +%s)
# In a private mount namespace, so debootstrap's /proc and /sys mounts vanish with it.
if ! unshare --mount --propagation private -- \
        chroot "$rootfs" /debootstrap/debootstrap --second-stage >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "build-image: debootstrap (second stage) failed (log above)" >&2
        exit 1
fi
rm -f "$rootfs/etc/dpkg/dpkg.cfg.d/ctrmgr-vm-build"
rm -rf "$debs"
echo "first stage (download, extract) $((t_first - t0)) s, second stage (install) $(($(date +%s) - t_first)) s" >"$tmp/build-stages"

# -- configure the guest ---------------------------------------------------------------------
echo ctrmgr-vm >"$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 ctrmgr-vm\n::1 localhost\n' >"$rootfs/etc/hosts"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$rootfs/etc/fstab"
: >"$rootfs/etc/machine-id" # first boot: systemd makes an id (every run boots a fresh overlay)
printf '9p\n9pnet_virtio\n' >"$rootfs/etc/modules-load.d/ctrmgr-vm.conf"
install -m 0755 "$here/guest/ctrmgr-vm-boot" "$rootfs/usr/local/sbin/ctrmgr-vm-boot"
install -m 0644 "$here/guest/ctrmgr-vm-payload.service" "$rootfs/etc/systemd/system/"
mkdir -p "$rootfs/etc/systemd/system-generators"
install -m 0755 "$here/guest/ctrmgr-vm-generator" "$rootfs/etc/systemd/system-generators/"
ln -sf /etc/systemd/system/ctrmgr-vm-payload.service \
        "$rootfs/etc/systemd/system/multi-user.target.wants/ctrmgr-vm-payload.service"
# Nothing waits on a network or a login prompt; the serial console only shows the boot.
for u in getty@.service serial-getty@.service systemd-networkd-wait-online.service \
        apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
        ln -sf /dev/null "$rootfs/etc/systemd/system/$u"
done
# Fail fast at shutdown: a test VM has nothing worth waiting for.
mkdir -p "$rootfs/etc/systemd/system.conf.d"
printf '[Manager]\nDefaultTimeoutStopSec=10s\n' >"$rootfs/etc/systemd/system.conf.d/ctrmgr-vm.conf"
# The root password stays locked; nobody logs in, the payload service is the only entry.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

kernel=$(ls "$rootfs"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
initrd=$(ls "$rootfs"/boot/initrd.img-* 2>/dev/null | sort -V | tail -1)
if [ -z "$kernel" ] || [ -z "$initrd" ]; then
        echo "build-image: no kernel or initrd in the rootfs" >&2
        exit 1
fi
if ! ls "$rootfs"/lib/modules/*/kernel/fs/9p/9p.ko* >/dev/null 2>&1; then
        echo "build-image: the guest kernel has no 9p module" >&2
        exit 1
fi
cp "$kernel" "$tmp/vmlinuz"
cp "$initrd" "$tmp/initrd.img"
chroot "$rootfs" dpkg-query -W -f '${Package} ${Version}\n' >"$tmp/packages"
mkfs.ext4 -q -F -L ctrmgr-root -d "$rootfs" "$tmp/root.img" "$SIZE" >>"$log" 2>&1
if mountpoint -q "$rootfs"; then
        umount "$rootfs"
fi
rm -rf --one-file-system "$rootfs"
t1=$(date +%s)
echo $((t1 - t0)) >"$tmp/build-seconds"
touch "$tmp/ready"
chmod 0755 "$tmp"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
touch "$dir/last-used"
# Images of other recipes or package lists (about 800 MB each) go once no checkout on this
# machine has used them for a day; several checkouts of different ages may share the cache.
for old in "$cache"/vm-*; do
        [ "$old" != "$dir" ] && [ -f "$old/ready" ] || continue
        [ -n "$(find "$old" -maxdepth 1 \( -name last-used -o -name ready \) -mmin -1440)" ] ||
                rm -rf --one-file-system "$old"
done
echo "build-image: done in $((t1 - t0)) s: $dir" >&2
echo "$dir"
