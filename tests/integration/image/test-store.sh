#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The store as the daemon and the CLI use it: the busybox example image, writable and read-only
# root filesystems, upper directories across restarts, prune never removing what a container
# uses, concurrent unpacks, and an import killed halfway leaving a valid store.
. "$(dirname "$0")/lib.sh"

top=$(cd "$here/../../.." && pwd)
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
        echo "1..0 # SKIP busybox-static not installed"
        exit 77
fi
check "examples/images builds busybox:latest" "$top/examples/images/build-busybox.sh" --ctrmgr "$CTRMGR" --store "$T/store"
has_busybox() { img -o json list | jq -e 'map(.Name) == ["busybox:latest"]'; }
check "list shows it" has_busybox
cmd_is_sh() { img inspect busybox | jq -e '.Config.Cmd == ["sh"] and .Layers[0].Cached == false'; }
check "inspect shows its config" cmd_is_sh
check "skopeo reads the store" skopeo inspect "oci:$T/store:busybox:latest"
check "umoci reads the store" umoci stat --image "$T/store:busybox:latest"

m=$T/mnt/a
mkdir -p "$m"
check "mount a writable rootfs" img mount busybox "$m" --name a
check "busybox runs inside" chroot "$m" /bin/sh -c 'echo hi >/tmp/f && ls /bin/ls'
check "writes go to the container's upper dir" test -f "$T/containers/a/upper/tmp/f"
check "umount" img umount "$m"
check "mount again" img mount busybox "$m" --name a
check "the upper dir survived the restart" test -f "$m/tmp/f"
umount "$m"
check "mount --fresh" img mount busybox "$m" --name a --fresh
check_fails "a fresh upper dir starts empty" test -e "$m/tmp/f"
umount "$m"
check "mount read-only" img mount busybox "$m" --name ro --read-only
check_fails "a read-only rootfs refuses writes" touch "$m/x"
check "no upper dir for a read-only rootfs" test ! -e "$T/containers/ro/upper"
umount "$m"
check "umount of something not mounted is fine" img umount "$m"

# Prune: a container's layers stay while its record exists, even after the image is gone.
id=$(img inspect busybox | jq -r '.Layers[0].DiffID' | cut -d: -f2)
check "rm the image" img rm busybox
check_fails "rm again fails" img rm busybox
check "prune" img prune
check "the layer of container a survived prune" test -d "$T/layers/sha256/$id"
remove_containers() { img umount "$m" --name a --remove && img umount "$m" --name ro --remove; }
check "remove the containers" remove_containers
check "their directories are gone" test ! -e "$T/containers/a" -a ! -e "$T/containers/ro"
check "prune again" img prune
check "now the layer is gone" test ! -e "$T/layers/sha256/$id"
empty_store() { [ -z "$(ls "$T/store/blobs/sha256")" ] && jq -e '.manifests == []' "$T/store/index.json"; }
check "and so are the blobs" empty_store

# A store given with --store keeps its layer cache and container directories to itself
# (STORE/.ctrmgr-layers, STORE/.ctrmgr-containers): unpack, mount and prune of a scratch store must
# never reach the host's /var/lib/ctrmgr. Each command runs in a mount namespace of its own with
# an empty tmpfs over /var/lib, which must still be empty afterwards.
no_host() { unshare -m --propagation private sh -c 'mount -t tmpfs ctrmgr-test /var/lib && "$@" && [ -z "$(ls -A /var/lib)" ]' sh "$@"; }
own() { no_host "$CTRMGR" image --store "$T/own" "$@"; }
mkdir -p "$T/mnt/own"
check "build busybox into a store of its own" no_host "$top/examples/images/build-busybox.sh" --ctrmgr "$CTRMGR" --store "$T/own"
ownid=$(own inspect busybox | jq -r '.Layers[0].DiffID' | cut -d: -f2)
check "unpack there writes nothing under /var/lib" own unpack busybox
check "its layer cache is STORE/.ctrmgr-layers" test -d "$T/own/.ctrmgr-layers/sha256/$ownid"
check "a rootfs mount there writes nothing under /var/lib" no_host sh -c \
        "'$CTRMGR' image --store '$T/own' mount busybox '$T/mnt/own' --name own && test -x '$T/mnt/own/bin/busybox' && umount '$T/mnt/own'"
check "its container directories are STORE/.ctrmgr-containers" test -d "$T/own/.ctrmgr-containers/own/upper"
check "rm and prune there write nothing under /var/lib" no_host sh -c "'$CTRMGR' image --store '$T/own' rm busybox && '$CTRMGR' image --store '$T/own' prune >/dev/null"
check "prune there keeps the layer its own container uses" test -d "$T/own/.ctrmgr-layers/sha256/$ownid"
check "remove the container, prune again" no_host sh -c "'$CTRMGR' image --store '$T/own' umount '$T/mnt/own' --name own --remove && '$CTRMGR' image --store '$T/own' prune >/dev/null"
check "now its layer is gone from its own cache" test ! -e "$T/own/.ctrmgr-layers/sha256/$ownid"
check "build busybox there again" no_host "$top/examples/images/build-busybox.sh" --ctrmgr "$CTRMGR" --store "$T/own"
check "unpack with --layers" own --layers "$T/own-layers" unpack busybox
layers_given() { test -d "$T/own-layers/sha256/$ownid" && test ! -e "$T/own/.ctrmgr-layers/sha256/$ownid"; }
check "an explicit --layers still wins" layers_given

# Concurrent starts of a new image: both unpack, one wins, both mount.
"$top/examples/images/build-busybox.sh" --ctrmgr "$CTRMGR" --store "$T/store" >/dev/null
mkdir -p "$T/mnt/c1" "$T/mnt/c2"
img mount busybox "$T/mnt/c1" --name c1 >"$T/c1.out" 2>&1 &
p1=$!
img mount busybox "$T/mnt/c2" --name c2 >"$T/c2.out" 2>&1 &
p2=$!
r1=0 r2=0
wait $p1 || r1=$?
wait $p2 || r2=$?
check "two concurrent first starts both succeed" test $r1 = 0 -a $r2 = 0
check "both see the same files" diff <(cd "$T/mnt/c1" && ls -lnR .) <(cd "$T/mnt/c2" && ls -lnR .)
check "no staging leftovers" test -z "$(ls -A "$T/layers/.staging")"
umount "$T/mnt/c1" "$T/mnt/c2"

# Killing an import, or an unpack, at any point leaves the store valid. Kill at several delays
# so that different phases (blob copy, config/manifest, index update) are hit.
mkdir -p "$T/bigroot"
head -c $((48 << 20)) /dev/urandom >"$T/bigroot/big.bin"
tar -C "$T/bigroot" -cf "$T/big-layer.tar" .
check "skopeo makes an archive to import" skopeo copy -q "oci:$T/store:busybox:latest" "docker-archive:$T/bb.tar:bb:1"
valid_store() {
        jq -e . "$T/store/index.json" >/dev/null && img list >/dev/null &&
                skopeo inspect "oci:$T/store:busybox:latest" >/dev/null &&
                umoci stat --image "$T/store:busybox:latest" >/dev/null
}
killed_ok=1
for delay in 0.01 0.05 0.1 0.2 0.4 0.8; do
        img import-rootfs "$T/big-layer.tar" big:1 >/dev/null 2>&1 &
        pid=$!
        sleep $delay
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
        img import "$T/bb.tar" >/dev/null 2>&1 &
        pid=$!
        sleep $delay
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
        valid_store || { echo "# store invalid after a kill at ${delay}s"; killed_ok=0; }
done
check "the store is valid after imports killed at 6 points" test $killed_ok = 1
# Any big:1 that made it is complete: resolvable and with all its blobs.
big_whole() { ! img inspect big:1 >/dev/null 2>&1 || skopeo inspect "oci:$T/store:big:1" >/dev/null; }
check "a tag is only there with its whole image" big_whole
check "import after the kills works" img import "$T/bb.tar"
check "import-rootfs after the kills works" img import-rootfs "$T/big-layer.tar" big:1
bigid=$(img inspect big:1 | jq -r '.Layers[0].DiffID' | cut -d: -f2)
img unpack big:1 >/dev/null 2>&1 &
pid=$!
sleep 0.1
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
no_partial_layer() { [ ! -e "$T/layers/sha256/$bigid" ] || cmp "$T/layers/sha256/$bigid/big.bin" "$T/bigroot/big.bin"; }
check "a killed unpack leaves no partial layer visible" no_partial_layer
check "unpack after the kill works" img unpack big:1
check "and the layer is whole" cmp "$T/layers/sha256/$bigid/big.bin" "$T/bigroot/big.bin"
img rm big:1
leftovers_go() {
        img prune && test -z "$(ls -A "$T/layers/.staging" 2>/dev/null)" &&
                test -z "$(find "$T/store" -name '.ctrmgr-tmp*' -o -name '*.tmp*' | head -1)"
}
check "the killed operations' leftovers go with prune" leftovers_go
check "the big layer went with prune" test ! -e "$T/layers/sha256/$bigid"
check "the store is still valid" valid_store

finish
