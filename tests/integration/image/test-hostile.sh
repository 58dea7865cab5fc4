#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile layers: each one is refused with an error naming the image, the layer and the entry, or
# contained inside the layer directory. After every case: nothing outside changed, no staging
# leftovers, and a refused layer is not in the cache.
. "$(dirname "$0")/lib.sh"

O=$T/outside
mkdir -p "$O"
echo secret >"$O/secret"
chmod 600 "$O/secret"
snapshot() { (cd "$T" && find outside -printf '%p %y %m %u %g %s %l\n' | sort && sha256sum outside/secret); }
snapshot >"$T/outside.before"

unchanged() {
        snapshot >"$T/outside.after"
        diff -u "$T/outside.before" "$T/outside.after" &&
                [ -z "$(ls -A "$T/layers/.staging" 2>/dev/null)" ] &&
                [ "$(find "$T" -name 'pwned' -o -name 'escape' -o -name 'abs-escape' | grep -v "^$T/layers/sha256/" | grep -v "^$T/[a-z0-9-]*\.tar")" = "" ]
}

# case  expectation(reject|contain)  entry-named-in-error  [extra unpack options]
cases=(
        "dotdot reject ../escape"
        "dotdot-deep reject a/../../escape"
        "absolute contain -"
        "symlink-write contain -"
        "symlink-up-write contain -"
        "symlink-parent-dir contain -"
        "hardlink-outside reject hl"
        "hardlink-absolute reject hl"
        "hardlink-via-symlink reject hl"
        "hardlink-symlink-chmod contain -"
        "chmod-through-symlink contain -"
        "dir-over-symlink contain -"
        "whiteout-outside reject ../.wh.secret"
        "whiteout-dotdot reject sub/.wh..."
        "whiteout-symlink contain -"
        "device-block reject sda"
        "device-char reject mem"
        "xattr-overlay reject d/"
        "xattr-unknown reject f"
        "many-entries reject f1000 --max-entries=1000"
)
for c in "${cases[@]}"; do
        set -- $c
        echo "tar $1 $T/$1.tar --outside $O"
        echo "layout $T/store --tag h-$1 $T/$1.tar:gzip"
done | $imgtool batch >/dev/null
for c in "${cases[@]}"; do
        set -- $c
        name=$1 expect=$2 entry=$3
        shift 3
        diff_id=sha256:$(sha256sum "$T/$name.tar" | cut -d' ' -f1)
        layer=$(img inspect "h-$name" | jq -r '.Layers[0].Digest')
        if img "$@" unpack "h-$name" >"$T/out" 2>&1; then
                if [ "$expect" = contain ]; then ok "$name: contained"; else not_ok "$name: accepted"; sed 's/^/# /' "$T/out"; fi
        else
                if [ "$expect" = reject ] && grep -qF "image h-$name: layer $layer: entry \"$entry\"" "$T/out"; then
                        ok "$name: refused naming image, layer and entry"
                else
                        not_ok "$name: error"; sed 's/^/# /' "$T/out"
                fi
                check "$name: nothing of the refused layer is visible" test ! -e "$T/layers/sha256/${diff_id#sha256:}"
        fi
        check "$name: nothing outside the layer changed" unchanged
done

# Contained cases really wrote inside the layer.
in_layer() { find "$T/layers/sha256" -path "*$O/$1" | grep -q .; }
check "symlink-write: the write landed inside the layer" in_layer pwned
check "absolute: the file landed inside the layer" in_layer abs-escape

# Stream-level attacks: bombs, truncation, wrong digests.
printf '%s\n' "tar zeros $T/zeros.tar" "tar base $T/base.tar" "tar upper $T/upper.tar" | $imgtool batch
stream_case() { # name expected-message layout-args… -- unpack-args…
        local name=$1 msg=$2
        shift 2
        local largs=() uargs=()
        while [ "$1" != -- ]; do largs+=("$1"); shift; done
        shift
        uargs=("$@")
        # Straight into the store, as skopeo would write it: verification happens at unpack.
        $imgtool layout "$T/store" --tag "s-$name" "${largs[@]}" >/dev/null
        if img "${uargs[@]}" unpack "s-$name" >"$T/out" 2>&1; then
                not_ok "$name: accepted"
        elif grep -q "image s-$name: layer sha256:[0-9a-f]*: .*$msg" "$T/out"; then
                ok "$name: refused ($msg)"
        else
                not_ok "$name: wrong error"; sed 's/^/# /' "$T/out"
        fi
        # Where the layer would be published: under the config's diff_id.
        local diff_id
        diff_id=$(img inspect "s-$name" | jq -r '.Layers[0].DiffID')
        check "$name: nothing published (layers/sha256/${diff_id#sha256:} absent)" \
                sh -c "[ -n '${diff_id#sha256:}' ] && [ ! -e '$T/layers/sha256/${diff_id#sha256:}' ]"
        check "$name: nothing outside changed, no staging leftovers" unchanged
}
stream_case ratio "compression ratio exceeds the limit of 100:1" "$T/zeros.tar:gzip" -- --max-ratio=100
stream_case size "exceeds the size limit" "$T/zeros.tar:zstd" -- --max-layer-size=10M
stream_case truncated "truncated gzip stream" --truncate-blob 0 "$T/base.tar:gzip" --
stream_case truncated-zstd "truncated zstd stream" --truncate-blob 0 "$T/base.tar:zstd" --
stream_case corrupt "digest mismatch: expected sha256:[0-9a-f]*, got sha256:[0-9a-f]*" --corrupt-blob 0 "$T/base.tar:gzip" --
stream_case diffid "uncompressed digest sha256:[0-9a-f]* does not match the config's diff_id sha256:0000" --bad-diffid 0 "$T/base.tar:none" --

# A hardlink to a file of a lower layer is refused: hardlinks stay inside their layer.
printf '%s\n' "tar hardlink-lower $T/hardlink-lower.tar" \
        "layout $T/store --tag s-hl-lower $T/base.tar:gzip $T/hardlink-lower.tar:gzip" | $imgtool batch >/dev/null
hl_layer=$(img inspect s-hl-lower | jq -r '.Layers[1].Digest')
check_fails "a hardlink to a lower layer's file is refused" img unpack s-hl-lower
check "naming the layer and the entry" grep -qF "image s-hl-lower: layer $hl_layer: entry \"hl\": hardlink target \"etc/hostname\" does not exist in this layer" "$T/failed.out"
check "the lower layer was unpacked, the refused one not" sh -c "test -d '$T/layers/sha256/$(sha256sum "$T/base.tar" | cut -d' ' -f1)' && test ! -e '$T/layers/sha256/$(sha256sum "$T/hardlink-lower.tar" | cut -d' ' -f1)'"

# Device nodes only where the host allows them: in a user namespace (no mknod) the standard
# node is skipped and the rest of the layer is unpacked; as root it is created.
printf '%s\n' "tar devnull $T/devnull.tar" "layout $T/store --tag s-devnull $T/devnull.tar:gzip" | $imgtool batch >/dev/null
dn_id=$(sha256sum "$T/devnull.tar" | cut -d' ' -f1)
if unshare -U -r true 2>/dev/null; then
        check "unpack in a user namespace" unshare -U -r "$CTRMGR" image --store "$T/store" --layers "$T/layers-userns" unpack s-devnull
        userns_ok() { [ -f "$T/layers-userns/sha256/$dn_id/file" ] && [ ! -e "$T/layers-userns/sha256/$dn_id/dev/null" ]; }
        check "the device node was skipped there, the file unpacked" userns_ok
fi
check "unpack as root" img unpack s-devnull
is_null() { [ "$(stat -c '%F %t:%T' "$T/layers/sha256/$dn_id/dev/null")" = "character special file 1:3" ]; }
check "as root the standard node is created" is_null

# A corrupt blob is refused at import already, naming both digests.
rm -rf "$T/src"
$imgtool layout "$T/src" --tag bad --corrupt-blob 0 "$T/upper.tar:gzip" >/dev/null
check_fails "import refuses a corrupt blob" img import "$T/src" --name import-bad
check "the import error names both digests" grep -q "digest mismatch: expected sha256:[0-9a-f]*, got sha256:[0-9a-f]*" "$T/failed.out"
check "outside unchanged at the end" unchanged

finish
