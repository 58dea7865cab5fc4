# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the image integration tests: TAP output, a private mount namespace, a scratch dir.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
imgtool="python3 $here/imgtool.py"
CTRMGR=${CTRMGR:?CTRMGR must point at the ctrmgr binary}

if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP needs root"
        exit 77
fi
# Re-run ourselves in a private mount namespace: every overlay we mount dies with it.
if [ -z "${CTRMGR_IMAGE_TEST_NS:-}" ]; then
        export CTRMGR_IMAGE_TEST_NS=1
        exec unshare -m --propagation private "$0" "$@"
fi
for t in skopeo umoci zstd gzip python3 jq; do
        command -v $t >/dev/null || { echo "1..0 # SKIP $t not installed"; exit 77; }
done

T=$(mktemp -d /var/tmp/ctrmgr-image-test.XXXXXX)
cleanup() {
        # Unmount whatever we mounted below T (deepest first), then remove it.
        grep -o " $T/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
        rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM PIPE # signals run the EXIT trap too (a meson timeout, a closed pipe)
mkdir -p "$T/mnt"
img() { "$CTRMGR" image --store "$T/store" --layers "$T/layers" --containers "$T/containers" "$@"; }

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*${CTRMGR_TEST_TIMES:+ ($(date +%s.%N | cut -c7-13))}"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { # description command…
        local d=$1; shift
        if "$@" >"$T/out" 2>&1; then ok "$d"; else not_ok "$d"; sed 's/^/# /' "$T/out"; fi
}
check_fails() { # description command…  (must fail)
        local d=$1; shift
        if "$@" >"$T/out" 2>&1; then not_ok "$d (succeeded)"; sed 's/^/# /' "$T/out"; else ok "$d"; fi
        cp "$T/out" "$T/failed.out"
}
# Mounts REF read-only as container NAME and compares it file by file with the tree REFROOT
# (normally what `umoci unpack` made of the same image).
compare_rootfs() { # name ref refroot
        local m=$T/mnt/$1
        mkdir -p "$m"
        if ! img mount "$2" "$m" --name "$1" --read-only >"$T/out" 2>&1; then
                not_ok "mount $2"
                sed 's/^/# /' "$T/out"
                return
        fi
        check "rootfs of $2 equals umoci's" python3 "$here/imgtool.py" compare "$3" "$m"
        img umount "$m" --name "$1" --remove # the container record too: prune may take its layers
}
finish() {
        echo "1..$n"
        [ $failed -eq 0 ]
}
