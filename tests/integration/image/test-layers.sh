#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Layered images with whiteouts and opaque directories, in gzip, zstd and uncompressed layers,
# through every way in (layout dir, skopeo's docker-archive and oci-archive, skopeo writing into
# the store, oci:/other references, a multi-platform index); each rootfs compared file by file
# with what `umoci unpack` makes of the same image.
. "$(dirname "$0")/lib.sh"

src=$T/src
{
        for c in base upper top; do echo "tar $c $T/$c.tar"; done
        for comp in gzip zstd none; do
                echo "layout $src --tag layered-$comp $T/base.tar:$comp $T/upper.tar:$comp $T/top.tar:$comp"
        done
        echo "layout $src --tag layered-mixed $T/base.tar:zstd $T/upper.tar:none $T/top.tar:gzip"
} | $imgtool batch >/dev/null

# The reference: umoci's idea of the same image.
check "umoci unpacks the reference image" umoci unpack --image "$src:layered-gzip" "$T/umoci"
ref=$T/umoci/rootfs

check "import an OCI layout directory" img import "$src"
check "skopeo writes a docker-archive" skopeo copy -q "oci:$src:layered-gzip" "docker-archive:$T/docker.tar:layered:docker"
check "import a docker-archive" img import "$T/docker.tar"
check "skopeo writes an oci-archive" skopeo copy -q "oci:$src:layered-zstd" "oci-archive:$T/oci.tar"
check "import an oci-archive with --name" img import "$T/oci.tar" --name ociarchive:1
check "skopeo copies straight into the store" skopeo copy -q "oci:$src:layered-mixed" "oci:$T/store:direct:1"

compare_ref() { compare_rootfs "$1" "$2" "$ref"; }
compare_ref gz layered-gzip
compare_ref zs layered-zstd
compare_ref no layered-none
compare_ref mx layered-mixed
compare_ref da layered:docker
compare_ref oa ociarchive:1
compare_ref dc direct:1
compare_ref other "oci:$src:layered-gzip"

# What the overlay sees must come from real overlay metadata in the cache.
base_id=$(img inspect layered-gzip | jq -r '.Layers[0].DiffID' | cut -d: -f2)
upper_id=$(img inspect layered-gzip | jq -r '.Layers[1].DiffID' | cut -d: -f2)
is_opaque() { [ "$(getfattr -n trusted.overlay.opaque --only-values "$1")" = y ]; }
check "opaque directory marked for overlayfs" is_opaque "$T/layers/sha256/$upper_id/opaque"
is_whiteout() { [ "$(stat -c '%F %t:%T' "$1")" = "character special file 0:0" ]; }
check "whiteout is a 0:0 character device" is_whiteout "$T/layers/sha256/$upper_id/gone"
mode_is() { [ "$(stat -c %a "$2")" = "$1" ]; }
check "setuid bit kept" mode_is 4755 "$T/layers/sha256/$base_id/bin/su"
check "setgid bit kept" mode_is 2755 "$T/layers/sha256/$base_id/bin/sg"
has_cap() { [ "$(getfattr -e hex -n security.capability --only-values "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 0100000200200000000000000000000000000000 ]; }
check "file capabilities kept" has_cap "$T/layers/sha256/$base_id/bin/ping"
no_label() { ! getfattr -m - -d "$1" 2>/dev/null | grep -q security.selinux; }
check "an SELinux label in the layer is dropped" no_label "$T/layers/sha256/$base_id/bin/ping"
dir_time_is() { [ "$(stat -c %Y "$2")" = "$1" ]; }
check "a directory's time is the layer's, set after its contents" dir_time_is 1600000000 "$T/layers/sha256/$base_id/etc"
check "an implicit parent takes its time from the lower layer" dir_time_is 1600000000 "$T/layers/sha256/$upper_id/etc"
unpacks_nothing() { img unpack "$1" | grep -q '^0 layers unpacked'; }
check "second container of an image unpacks nothing" unpacks_nothing layered-gzip

# Nodes are created with their final owner and permission bits where the kernel gives them that
# anyway (no chown or chmod then). Where a directory hands something else down (a set-group-ID
# directory its group, a default ACL the modes) or the umask strips bits, every entry must still
# come out as the archive says and as umoci makes it: unpacked under umask 022 and under 077.
printf '%s\n' "tar inherit-sgid $T/inherit-sgid.tar" "tar inherit-acl $T/inherit-acl.tar" "tar implicit $T/implicit.tar" \
        "layout $src --tag inherit-sgid $T/inherit-sgid.tar:gzip" "layout $src --tag inherit-acl $T/inherit-acl.tar:gzip" \
        "layout $src --tag implicit $T/implicit.tar:gzip" | $imgtool batch >/dev/null
for c in sgid acl; do
        check "umoci unpacks inherit-$c" umoci unpack --image "$src:inherit-$c" "$T/umoci-inherit-$c"
        id=$(sha256sum "$T/inherit-$c.tar" | cut -d' ' -f1)
        for um in 022 077; do
                check "unpack inherit-$c under umask $um" sh -c "umask $um && '$CTRMGR' image --store '$T/store' --layers '$T/layers-$um' --containers '$T/containers' unpack 'oci:$src:inherit-$c' >/dev/null"
                check "inherit-$c, umask $um: owners and modes as the archive says (and umoci)" \
                        python3 "$here/imgtool.py" compare "$T/umoci-inherit-$c/rootfs" "$T/layers-$um/sha256/$id"
        done
done
implicit_id=$(sha256sum "$T/implicit.tar" | cut -d' ' -f1)
check "unpack implicit parents under umask 077" sh -c "umask 077 && '$CTRMGR' image --store '$T/store' --layers '$T/layers-077' --containers '$T/containers' unpack 'oci:$src:implicit' >/dev/null"
modes_are() { [ "$(cd "$T/layers-077/sha256/$implicit_id" && stat -c '%n %a' implicit implicit/deep implicit/deep/file | tr '\n' ' ')" = "implicit 755 implicit/deep 755 implicit/deep/file 644 " ]; }
check "implicit parents are 0755 and files keep their mode under umask 077" modes_are

# Image config.
config_ok() {
        img inspect layered-gzip | jq -e '.Config.Entrypoint == ["/bin/sh"] and .Config.Cmd == ["-c","echo hi"]
                and .Config.User == "1000:1000" and .Config.WorkingDir == "/home" and .Config.StopSignal == "SIGINT"
                and .Config.ExposedPorts == ["80/tcp"] and .Config.Labels.x == "y" and .Config.Env == ["PATH=/bin","A=b"]'
}
check "config parsed" config_ok

# A multi-platform index: an arm64 manifest next to the amd64 one.
arm=$($imgtool layout "$src" --no-tag --platform linux/arm64/v8 "$T/top.tar:gzip")
amd=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="layered-gzip") | .digest' "$src/index.json")
$imgtool index "$src" --tag multi "$arm" "$amd" >/dev/null
$imgtool index "$src" --tag armonly "$arm" >/dev/null
check "import the multi-platform layout" img import "$src"
if [ "$(uname -m)" = x86_64 ]; then
        picks_amd64() { img inspect multi | jq -e --arg d "$amd" '.Digest == $d and (.IndexDigest | startswith("sha256:"))'; }
        check "index resolves to this platform's manifest" picks_amd64
        check_fails "an index without this platform is refused" img inspect armonly
        check "the refusal names the platform" grep -q "no manifest for platform linux/amd64" "$T/failed.out"
fi
# skopeo copies the whole index (--all) into the store: its index, our platform choice.
check "skopeo copy --all of the multi-platform index" skopeo copy -q --all "oci:$src:multi" "oci:$T/store:multi-sk"
if [ "$(uname -m)" = x86_64 ]; then
        picks_amd64_sk() { img inspect multi-sk | jq -e --arg d "$amd" '.Digest == $d'; }
        check "skopeo's index resolves to this platform's manifest" picks_amd64_sk
fi

# An image umoci built itself (new, insert, --opaque, --whiteout): umoci's own layers.
U=$T/umoci-built
mkdir -p "$T/ins/etc" "$T/ins/opt/keep"
echo one >"$T/ins/etc/one"
echo two >"$T/ins/opt/keep/two"
umoci_build() {
        umoci init --layout "$U" && umoci new --image "$U:b" &&
                umoci insert --image "$U:b" "$src/../base.tar" /base.tar &&
                umoci insert --image "$U:b" "$T/ins/etc" /etc &&
                umoci insert --image "$U:b" "$T/ins/opt" /opt &&
                umoci insert --image "$U:b" --opaque "$T/ins/opt/keep" /opt &&
                umoci insert --image "$U:b" --whiteout /etc/one &&
                umoci unpack --image "$U:b" "$T/umoci-b"
}
check "umoci builds an image with whiteouts and an opaque dir" umoci_build
check "import umoci's layout" img import "$U" --name umoci-built:1
compare_rootfs ub umoci-built:1 "$T/umoci-b/rootfs"
umoci_direct() { umoci new --image "$T/store:ud" && umoci insert --image "$T/store:ud" "$T/ins/etc" /etc; }
check "umoci writes straight into the store" umoci_direct
ud_seen() { img inspect ud | jq -e '(.Layers | length) == 1'; }
check "ctrmgr sees umoci's image" ud_seen
store_after_gc() { umoci gc --layout "$T/store" && img inspect layered-gzip >/dev/null && img import "$T/oci.tar" --name after-gc:1; }
check "after umoci gc the store still works for ctrmgr" store_after_gc

check "resolve by digest" img inspect "$amd"
check "resolve by short digest" img inspect "${amd:7:12}"
check "resolve by name@digest" img inspect "layered-gzip@$amd"
list_ok() { img -o json list | jq -e 'length >= 8 and all(.[]; .Error == null or .Name == "armonly")'; }
check "list shows every image" list_ok

finish
