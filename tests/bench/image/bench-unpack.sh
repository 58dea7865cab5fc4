#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Layer unpack benchmark (not part of the test suites; run by hand as root):
#
#   tests/bench/image/bench-unpack.sh [--ctrmgr PATH] [--size MB] [--runs N] [--dir DIR]
#
# Builds a synthetic layer of about 640 MB (about 200 MB gzip), stores it gzip- and zstd-compressed
# in an OCI layout, and times side by side, in one run: `ctrmgr image unpack`, `umoci unpack`,
# `tar -xzf`, `gzip -dc >/dev/null` (the decompression floor), and the zstd variants
# (`tar -I zstd -xf`, `zstd -dc`), plus rootfs mounts of an already cached image. Prints the
# medians, the peak RSS of each (GNU time), and the ratios the issue sets targets for.
# Removes everything it made.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
ctrmgr=""
size=640 runs=3 dir=/var/tmp
while [ $# -gt 0 ]; do
        case "$1" in
        --ctrmgr) ctrmgr=$2; shift ;;
        --size) size=$2; shift ;;
        --runs) runs=$2; shift ;;
        --dir) dir=$2; shift ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench: unknown option $1" >&2; exit 2 ;;
        esac
        shift
done
[ -n "$ctrmgr" ] || for b in "$top"/build*/tools/ctrmgr; do [ -x "$b" ] && ctrmgr=$b && break; done
[ -x "$ctrmgr" ] || { echo "bench: no ctrmgr binary (--ctrmgr PATH)" >&2; exit 1; }
ctrmgr=$(realpath "$ctrmgr") # the timings run in the scratch directory
[ "$(id -u)" = 0 ] || { echo "bench: run as root (umoci, tar and ctrmgr preserve owners)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time (package time) missing" >&2; exit 1; }
for t in umoci zstd gzip tar python3 jq; do command -v $t >/dev/null || { echo "bench: $t missing" >&2; exit 1; }; done

if [ -z "${CTRMGR_BENCH_NS:-}" ]; then
        export CTRMGR_BENCH_NS=1
        exec unshare -m --propagation private "$0" --ctrmgr "$ctrmgr" --size "$size" --runs "$runs" --dir "$dir"
fi

W=$(mktemp -d "$dir/ctrmgr-bench.XXXXXX")
trap 'umount -l "$W/mnt" 2>/dev/null || true; rm -rf "$W"' EXIT
cd "$W"

echo "# generating a ${size} MB layer…" >&2
python3 "$here/gen-layer.py" layer.tar "$size" >/dev/null
gzip -6 -n -c layer.tar >layer.tar.gz
zstd -q -3 -c layer.tar >layer.tar.zst
entries=$(tar -tf layer.tar | wc -l)

# An OCI layout with one image per compression.
mkdir -p layout/blobs/sha256
echo '{"imageLayoutVersion":"1.0.0"}' >layout/oci-layout
diff_id=sha256:$(sha256sum layer.tar | cut -d' ' -f1)
manifests=()
for c in gz zst; do
        f=layer.tar.$c
        d=$(sha256sum "$f" | cut -d' ' -f1)
        cp "$f" "layout/blobs/sha256/$d"
        mt=application/vnd.oci.image.layer.v1.tar+gzip
        [ $c = zst ] && mt=application/vnd.oci.image.layer.v1.tar+zstd
        cfg=$(jq -cn --arg id "$diff_id" '{architecture:"amd64",os:"linux",config:{},rootfs:{type:"layers",diff_ids:[$id]}}')
        cd_=$(printf %s "$cfg" | sha256sum | cut -d' ' -f1)
        printf %s "$cfg" >"layout/blobs/sha256/$cd_"
        m=$(jq -cn --arg cd "sha256:$cd_" --argjson cs ${#cfg} --arg ld "sha256:$d" --argjson ls "$(stat -c %s "$f")" --arg mt "$mt" \
                '{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
                  config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$cd,size:$cs},
                  layers:[{mediaType:$mt,digest:$ld,size:$ls}]}')
        md=$(printf %s "$m" | sha256sum | cut -d' ' -f1)
        printf %s "$m" >"layout/blobs/sha256/$md"
        manifests+=("$(jq -cn --arg d "sha256:$md" --argjson s ${#m} --arg t "$c" \
                '{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$d,size:$s,annotations:{"org.opencontainers.image.ref.name":$t}}')")
done
printf '%s\n' "${manifests[@]}" | jq -s '{schemaVersion:2,manifests:.}' >layout/index.json
cat layer.tar.gz layer.tar.zst >/dev/null # warm the page cache for everyone alike

# What every unpacker must leave behind: the layer's entry count and the bytes of its regular files.
tree_sig() { # DIR: "<entries> <bytes>"
        find "$1" -mindepth 1 -printf '%y %s\n' | awk '{n++} $1 == "f" {b += $2} END {printf "%d %d\n", n, b}'
}
expect_sig=$(tar -tvf layer.tar | awk '{n++} /^-/ {b += $3} END {printf "%d %d\n", n, b}')
failed() { # name why: a failed or incomplete run must not pass for a fast one
        echo "bench: $1: $2" >&2
        [ -s cmd.err ] && sed 's/^/bench:   /' cmd.err >&2
        exit 1
}

timeit() { # name setup-cmd tree-cmd cmd… ; prints the median time of $runs runs and the largest peak RSS
        # tree-cmd prints the directory the command unpacked into ("" for the decompression floors)
        local name=$1 setup=$2 tree=$3; shift 3
        local t=() m=0
        for _ in $(seq "$runs"); do
                rm -rf out bundle layers store.unused cmd.err time.out; mkdir -p out
                eval "$setup"
                sync
                local st=0 x sec kb
                # GNU time: exit status, wall seconds and the peak RSS of the command or any child it
                # waited for (ctrmgr's decompression helper, tar's gzip); its own fork is tiny. Its
                # report goes to a file of its own, so neither the command's output nor a failure can
                # pass for a timing.
                # No sync inside the timing: sync(1) waits for every dirty page of the machine, which
                # on a shared machine measures the neighbours. ctrmgr makes its own layer durable
                # before publishing it; tar and umoci do not sync.
                /usr/bin/time -o time.out -f '%x %e %M' "$@" >/dev/null 2>cmd.err || st=$?
                read -r x sec kb < <(tail -1 time.out) || true
                [ "$st" = 0 ] && [ "${x:-}" = 0 ] || failed "$name" "exit status ${x:-?} (time: $st)"
                if [ -n "$tree" ]; then
                        local dir got
                        dir=$(eval "$tree")
                        [ -d "$dir" ] || failed "$name" "no output tree ($dir)"
                        got=$(tree_sig "$dir")
                        [ "$got" = "$expect_sig" ] || failed "$name" "output tree $dir has \"$got\" (entries, bytes), the layer \"$expect_sig\""
                fi
                t+=("$sec")
                [ "$kb" -gt "$m" ] && m=$kb
        done
        rm -rf out bundle layers
        echo "$(printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') $m"
}
ctr=("$ctrmgr" image --store "$W/layout" --layers "$W/layers" --containers "$W/containers")

echo "# timing, median of $runs runs each…" >&2
ctr_tree="echo layers/sha256/${diff_id#sha256:}"
t_floor=$(timeit floor : "" sh -c 'gzip -dc layer.tar.gz >/dev/null')
t_tar=$(timeit tar : "echo out" tar -xzf layer.tar.gz -C out)
t_umoci=$(timeit umoci : "echo bundle/rootfs" umoci unpack --image layout:gz bundle)
t_ctr=$(timeit ctrmgr : "$ctr_tree" "${ctr[@]}" unpack gz)
t_zfloor=$(timeit zfloor : "" sh -c 'zstd -q -dc layer.tar.zst >/dev/null')
t_ztar=$(timeit ztar : "echo out" tar -I zstd -xf layer.tar.zst -C out)
t_zctr=$(timeit zctrmgr : "$ctr_tree" "${ctr[@]}" unpack zst)

# Rootfs of a cached image, in one process as the daemon does it: resolve (index.json, manifest and
# config read and verified) + a fresh upper dir + overlay mount. Built against the build dir's libraries.
"${ctr[@]}" unpack gz >/dev/null
mkdir -p mnt
build=$(cd "$(dirname "$ctrmgr")/.." && pwd)
t_mount="n/a n/a"
if cc -O2 -D_GNU_SOURCE -I"$top" -o bench-rootfs "$here/bench-rootfs.c" "$build/image/libimage.a" "$build/common/libcommon.a" \
        $(pkg-config --libs libarchive json-c zlib libzstd libcrypto) 2>cc.log; then
        t_mount=$(./bench-rootfs "$W/layout" "$W/layers" "$W/containers" gz "$W/mnt" 50)
else
        sed 's/^/# /' cc.log >&2
fi

gz=$(stat -c %s layer.tar.gz) zs=$(stat -c %s layer.tar.zst) raw=$(stat -c %s layer.tar)
printf '\nlayer: %d MB uncompressed, %d entries; gzip %d MB, zstd %d MB; %s run(s) each, %s cores\n' \
        $((raw >> 20)) "$entries" $((gz >> 20)) $((zs >> 20)) "$runs" "$(nproc)"
row() { set -- "$1" $2; printf '%-34s %8.2f s %9d KB peak RSS\n' "$1" "$2" "$3"; }
row "gzip -dc >/dev/null (floor)" "$t_floor"
row "tar -xzf" "$t_tar"
row "umoci unpack" "$t_umoci"
row "ctrmgr image unpack (gzip)" "$t_ctr"
row "zstd -dc >/dev/null (floor)" "$t_zfloor"
row "tar -I zstd -xf" "$t_ztar"
row "ctrmgr image unpack (zstd)" "$t_zctr"
set -- $t_mount
printf '%-34s %8s ms median, %s ms max of 50 (target < 10 ms)\n' "rootfs ready, cached image" "$1" "$2"
r() { echo "$1 / $2" | bc -l; }
sec() { echo "${1%% *}"; }
kb() { echo "${1##* }"; }
printf '\nratios (target):\n'
printf '  tar -xzf / ctrmgr              %6.2f  (>= 1.0)\n' "$(r "$(sec "$t_tar")" "$(sec "$t_ctr")")"
printf '  umoci / ctrmgr, time           %6.2f  (>= 1.5)\n' "$(r "$(sec "$t_umoci")" "$(sec "$t_ctr")")"
printf '  umoci / ctrmgr, peak RSS       %6.2f\n' "$(r "$(kb "$t_umoci")" "$(kb "$t_ctr")")"
printf '  ctrmgr / gzip floor            %6.2f  (-> 1.0)\n' "$(r "$(sec "$t_ctr")" "$(sec "$t_floor")")"
printf '  ctrmgr zstd / tar -I zstd      %6.2f  (<= 1.3)\n' "$(r "$(sec "$t_zctr")" "$(sec "$t_ztar")")"
