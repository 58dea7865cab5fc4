#!/usr/bin/env bash
# Tier-2 test of ctrmgr at boot (suite vm): builds on the host, installs the build (meson install,
# prefix /usr), the busybox example image and the units of units/ into the VM before its first
# boot, enables ctrmgrd.service, boots, and runs ctrmgr-boot-payload.sh inside: the enabled
# units came up at boot in dependency order, MemoryMax/PidsLimit/CPUQuota are enforced by the
# kernel, and after a reboot of the VM the daemon and the units are back. TAP output.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# Arguments (meson.build passes them): the source and the build tree.
src=${1:-$(cd "$here/../../.." && pwd)}
build=${2:-}
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { echo "1..0 # SKIP $*"; exit 0; }
bail() { not_ok "$*"; echo "1..$n"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root"
[ -n "$build" ] || skip "usage: ctrmgr-boot.sh SOURCE_DIR BUILD_DIR (meson test passes them)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
[ -x "$build/manager/ctrmgrd" ] || skip "ctrmgrd is not built in $build (the daemon needs the runtime core)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The VM gets a real install, so the build must have Debian's paths (/usr, /etc, /var). If the
# test's build has another prefix, a private build with prefix /usr is kept next to it.
prefix=$(meson introspect "$build" --buildoptions 2>/dev/null |
        python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
inst=$build
if [ "$prefix" != /usr ]; then
        inst=$build/vm-prefix-usr
        echo "# $build has prefix $prefix; building with prefix /usr in $inst"
        if [ ! -f "$inst/build.ninja" ]; then
                meson setup "$inst" "$src" --prefix=/usr -Dtests=false >"$work/setup.log" 2>&1 ||
                        { sed 's/^/# /' "$work/setup.log"; bail "meson setup with prefix /usr"; }
        fi
        ninja -C "$inst" >"$work/ninja.log" 2>&1 || { tail -n 30 "$work/ninja.log" | sed 's/^/# /'; bail "build with prefix /usr"; }
fi
ok "a build with prefix /usr is there ($inst)"

if "$src/examples/images/build-busybox.sh" --ctrmgr "$inst/tools/ctrmgr" --store "$work/images" \
        --name busybox:latest >"$work/image.log" 2>&1; then
        ok "the example image busybox:latest is in a fresh store"
else
        sed 's/^/# /' "$work/image.log"
        bail "the example image builds"
fi

t0=$(date +%s)
"$here/run-in-vm.sh" --out "$work/res" --max-boots 2 --timeout "${CTRMGR_VM_TIMEOUT:-900}" \
        --install "$inst" \
        --copy "$work/images:/var/lib/ctrmgr/images" \
        --copy "$here/units:/etc/ctrmgr" \
        --enable ctrmgrd.service \
        "$here/ctrmgr-boot-payload.sh" >"$work/payload-out"
rc=$?
while IFS= read -r line; do
        case $line in
        "ok - "*) ok "${line#ok - }" ;;
        "not ok - "*) not_ok "${line#not ok - }" ;;
        *) echo "# $line" ;;
        esac
done <"$work/payload-out"
boots=$(cat "$work/res/boots" 2>/dev/null || echo 0)
if [ "$rc" = 0 ] && [ "$boots" = 2 ]; then
        ok "the VM booted twice and every check passed on both boots"
else
        not_ok "the VM booted twice and every check passed on both boots (status $rc, $boots boot(s))"
        tail -n 40 "$work/res/console.log" 2>/dev/null | sed 's/^/# console: /'
fi
for f in "$work"/res/boot-?.txt; do [ -f "$f" ] && sed 's/^/# /' "$f"; done
echo "# VM run took $(cat "$work/res/vm-seconds" 2>/dev/null) s of $(($(date +%s) - t0)) s"
echo "1..$n"
exit $((failed > 0))
