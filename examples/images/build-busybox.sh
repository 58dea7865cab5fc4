#!/usr/bin/env bash
# Builds a small image from Debian's busybox-static and stores it as busybox:latest (or NAME) in an
# OCI image layout with `ctrmgr image import-rootfs`.
#
#   examples/images/build-busybox.sh [--ctrmgr PATH] [--store DIR] [--name REF]
#
# Defaults: ctrmgr from PATH (or a build dir next to this script), store /var/lib/ctrmgr/images,
# name busybox:latest. Needs /bin/busybox from the busybox-static package (statically linked, so
# the image needs no libraries). The image runs `sh` by default.
set -euo pipefail

ctrmgr=${CTRMGR:-}
store=/var/lib/ctrmgr/images
name=busybox:latest
while [ $# -gt 0 ]; do
        case "$1" in
        --ctrmgr) ctrmgr=$2; shift ;;
        --store) store=$2; shift ;;
        --name) name=$2; shift ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-busybox: unknown option $1" >&2; exit 2 ;;
        esac
        shift
done
if [ -z "$ctrmgr" ]; then
        ctrmgr=$(command -v ctrmgr || true)
        here=$(cd "$(dirname "$0")/../.." && pwd)
        for b in "$here"/build*/tools/ctrmgr; do
                [ -z "$ctrmgr" ] && [ -x "$b" ] && ctrmgr=$b
        done
fi
[ -x "${ctrmgr:-}" ] || { echo "build-busybox: ctrmgr not found (use --ctrmgr PATH)" >&2; exit 1; }

busybox=/bin/busybox
if ldd "$busybox" >/dev/null 2>&1; then
        echo "build-busybox: $busybox is dynamically linked; install busybox-static" >&2
        exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,run,var/tmp}
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"
cp "$busybox" "$root/bin/busybox"
# One symlink per applet, where busybox itself would install it. As root, busybox does that in
# one process inside the tree (a loop of ln/mkdir costs hundreds of forks).
if [ "$(id -u)" -eq 0 ] && chroot "$root" /bin/busybox --install -s 2>/dev/null; then
        rm -f "$root/linuxrc"
else
        "$busybox" --list-full | while read -r applet; do
                [ "$applet" = bin/busybox ] && continue
                mkdir -p "$root/${applet%/*}"
                ln -sf /bin/busybox "$root/$applet"
        done
fi
cat >"$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >"$root/etc/group" <<'G'
root:x:0:
nogroup:x:65534:
G
echo busybox >"$root/etc/hostname"
# Reproducible times.
find "$root" -exec touch -h -d @0 {} +

"$ctrmgr" image --store "$store" import-rootfs "$root" "$name" \
        --cmd '["sh"]' \
        --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --label org.opencontainers.image.title=busybox \
        --label org.opencontainers.image.description="busybox-static from Debian"
