#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Images made by the other real tools: podman save in every format it has (oci-archive,
# docker-archive, oci-dir, a multi-image docker-archive), Docker v2 schema 2 media types as skopeo
# writes them and in a Docker manifest list; a zstd image as skopeo recompresses it
# (--dest-compress-format zstd); a multi-platform OCI index as podman writes it (manifest
# create/add of an amd64 image and an arm64 one umoci built, push --all), imported and copied by
# skopeo --all into the store; import-rootfs from gzip/zstd tarballs and directories
# with a config; progress on stderr; the store lock; prune --in-use.
. "$(dirname "$0")/lib.sh"
command -v podman >/dev/null || { echo "1..0 # SKIP podman not installed"; exit 77; }

src=$T/src
printf '%s\n' "tar base $T/base.tar" "tar upper $T/upper.tar" "tar top $T/top.tar" \
        "layout $src --tag layered $T/base.tar:gzip $T/upper.tar:gzip $T/top.tar:gzip" | $imgtool batch >/dev/null
check "umoci unpacks the reference image" umoci unpack --image "$src:layered" "$T/umoci"
ref=$T/umoci/rootfs

# ---- podman: its own storage under $T, no cgroup manager or journald needed.
P() {
        podman --root "$T/podman/root" --runroot "$T/podman/run" --cgroup-manager cgroupfs \
                --events-backend file --storage-driver vfs "$@"
}
check "skopeo makes a docker-archive for podman" skopeo copy -q "oci:$src:layered" "docker-archive:$T/to-podman.tar:layered:1"
check "podman loads it" P load -q -i "$T/to-podman.tar"
check "podman save --format oci-archive" P save -q --format oci-archive -o "$T/p-oci.tar" layered:1
check "podman save --format docker-archive" P save -q --format docker-archive -o "$T/p-docker.tar" layered:1
check "podman save --format oci-dir" P save -q --format oci-dir -o "$T/p-ocidir" layered:1
check "import podman's oci-archive" img import "$T/p-oci.tar" --name pod-oci:1
check "import podman's docker-archive (its RepoTags name it)" img import "$T/p-docker.tar"
# podman calls what skopeo tagged layered:1 docker.io/library/layered:1; the short name finds it.
check "import podman's oci-dir" img import "$T/p-ocidir" --name pod-dir:1
compare_rootfs po pod-oci:1 "$ref"
compare_rootfs pd layered:1 "$ref"
compare_rootfs pr pod-dir:1 "$ref"
named_by_repotag() { img -o json list | jq -e 'any(.[]; .Name == "docker.io/library/layered:1")'; }
check "the docker-archive's RepoTag is the name" named_by_repotag

# A multi-image archive (podman save -m): every image and name comes in.
"$here/../../../examples/images/build-busybox.sh" --ctrmgr "$CTRMGR" --store "$T/bbstore" >/dev/null
check "skopeo: busybox for podman" skopeo copy -q "oci:$T/bbstore:busybox:latest" "docker-archive:$T/bb.tar:busybox:latest"
check "podman loads busybox" P load -q -i "$T/bb.tar"
check "podman save -m (two images)" P save -q -m --format docker-archive -o "$T/p-multi.tar" layered:1 busybox:latest
rm -rf "$T/store" "$T/layers"
check "import the multi-image archive" img import "$T/p-multi.tar"
both_there() {
        img -o json list | jq -e 'map(.Name) | sort == ["docker.io/library/busybox:latest", "docker.io/library/layered:1"]' &&
                img inspect busybox | jq -e '.Config.Cmd == ["sh"]'
}
check "both images and names came in" both_there
check_fails "--name with a two-image archive is refused" img import "$T/p-multi.tar" --name one:1
check "saying why" grep -q "2 images" "$T/failed.out"
compare_rootfs pm layered:1 "$ref"

# ---- Docker v2 schema 2: as skopeo writes it into a layout, and a Docker manifest list.
check "skopeo writes v2s2 into the store" skopeo copy -q --format v2s2 "oci:$src:layered" "oci:$T/store:v2s2:1"
is_v2s2() { jq -e '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v2s2:1") |
        .mediaType == "application/vnd.docker.distribution.manifest.v2+json"' "$T/store/index.json"; }
check "the manifest really is v2s2" is_v2s2
compare_rootfs v2 v2s2:1 "$ref"
dk=$($imgtool layout "$src" --docker --no-tag "$T/base.tar:gzip" "$T/upper.tar:gzip" "$T/top.tar:gzip")
dkarm=$($imgtool layout "$src" --docker --no-tag --platform linux/arm64/v8 "$T/top.tar:gzip")
$imgtool index "$src" --docker --tag dockerlist "$dkarm" "$dk" >/dev/null
check "import a layout with a Docker manifest list" img import "$src"
if [ "$(uname -m)" = x86_64 ]; then
        picks_dk() { img inspect dockerlist | jq -e --arg d "$dk" '.Digest == $d and .IndexDigest != null'; }
        check "the manifest list resolves to this platform's manifest" picks_dk
        compare_rootfs dl dockerlist "$ref"
fi

# ---- a zstd image as skopeo recompresses it, and a multi-platform index as podman writes it.
check "skopeo recompresses the image with zstd" skopeo copy -q --dest-compress-format zstd "oci:$src:layered" "oci:$T/skz:layered"
all_zstd() {
        local m
        m=$(jq -r '.manifests[0].digest' "$T/skz/index.json" | cut -d: -f2)
        jq -e '(.layers | length) == 3 and all(.layers[]; .mediaType == "application/vnd.oci.image.layer.v1.tar+zstd")' "$T/skz/blobs/sha256/$m"
}
check "skopeo's layers really are zstd" all_zstd
check "import skopeo's zstd layout" img import "$T/skz" --name skopeo-zstd:1
# (umoci here reads no zstd layers: compared with umoci's unpack of the gzip original.)
compare_rootfs sz skopeo-zstd:1 "$ref"

# An arm64 image that umoci builds, and podman's manifest list of it and the amd64 one, pushed
# (--all) into an OCI layout: podman writes an OCI image index.
mkdir -p "$T/arm-ins/etc" && echo arm64 >"$T/arm-ins/etc/arch"
umoci_arm() {
        umoci init --layout "$T/arm" && umoci new --image "$T/arm:a" &&
                umoci insert --image "$T/arm:a" "$T/arm-ins/etc" /etc &&
                umoci config --image "$T/arm:a" --os linux --architecture arm64
}
check "umoci builds an arm64 image" umoci_arm
podman_index() {
        P manifest create multi >/dev/null && P manifest add multi "oci:$src:layered" >/dev/null &&
                P manifest add multi "oci:$T/arm:a" >/dev/null && P manifest push -q --all multi "oci:$T/pm:multi"
}
check "podman makes a manifest list of both and pushes it into a layout" podman_index
two_platforms() {
        local i
        i=$(jq -r '.manifests[0].digest' "$T/pm/index.json" | cut -d: -f2)
        jq -e '.mediaType == "application/vnd.oci.image.index.v1+json" and
                ([.manifests[].platform.architecture] | sort) == ["amd64", "arm64"]' "$T/pm/blobs/sha256/$i"
}
check "podman's index lists amd64 and arm64" two_platforms
check "import podman's index" img import "$T/pm" --name podman-multi:1
check "skopeo copies podman's index (--all) straight into the store" skopeo copy -q --all "oci:$T/pm:multi" "oci:$T/store:podman-multi-sk:1"
if [ "$(uname -m)" = x86_64 ]; then
        amd=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "layered") | .digest' "$src/index.json")
        picks_amd() { img inspect "$1" | jq -e --arg d "$amd" '.Digest == $d and .IndexDigest != null and .Architecture == "amd64"'; }
        check "podman's index resolves to this platform's manifest" picks_amd podman-multi:1
        check "so does skopeo's copy of it" picks_amd podman-multi-sk:1
        compare_rootfs pmi podman-multi:1 "$ref"
        compare_rootfs pms podman-multi-sk:1 "$ref"
fi

# ---- import-rootfs: tarballs (gzip, zstd) and a directory, with a config.
R=$T/rootfs
mkdir -p "$R/bin" "$R/srv" "$R/etc"
cp /bin/busybox "$R/bin/busybox" 2>/dev/null || cp /bin/sh "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
echo hello >"$R/srv/hello"
ln "$R/srv/hello" "$R/srv/hello-hard"
chown 1000:1000 "$R/srv/hello"
chmod 4755 "$R/bin/busybox"
mkfifo "$R/srv/fifo"
setfattr -n user.note -v kept "$R/etc" 2>/dev/null || true
touch -h -d @1600000000 "$R/srv/hello" "$R/bin/sh"
tar -C "$R" --xattrs -czf "$T/rootfs.tar.gz" .
tar -C "$R" --xattrs --zstd -cf "$T/rootfs.tar.zst" .
cfg=(--entrypoint '["/bin/sh","-c"]' --cmd 'echo hello' --env A=1 --env 'B=two words' --workdir /srv
        --user 1000:1000 --label a=b --expose 8080 --expose 53/udp --stop-signal SIGINT)
check "import-rootfs a gzip tarball" img import-rootfs "$T/rootfs.tar.gz" app:gz "${cfg[@]}"
check "import-rootfs a zstd tarball" img import-rootfs "$T/rootfs.tar.zst" app:zst "${cfg[@]}"
check "import-rootfs a directory" img import-rootfs "$R" app:dir "${cfg[@]}"
config_is() { # ref compression
        img inspect "$1" | jq -e --arg c "$2" '.Config.Entrypoint == ["/bin/sh","-c"] and .Config.Cmd == ["echo","hello"]
                and .Config.Env == ["A=1","B=two words"] and .Config.WorkingDir == "/srv" and .Config.User == "1000:1000"
                and .Config.Labels == {"a":"b"} and .Config.ExposedPorts == ["53/udp","8080/tcp"]
                and .Config.StopSignal == "SIGINT" and (.Layers | length) == 1
                and (.Layers[0].MediaType | endswith($c))'
}
check "app:gz has the config and a gzip layer" config_is app:gz tar+gzip
check "app:zst has the config and a zstd layer" config_is app:zst tar+zstd
check "app:dir has the config and a plain layer" config_is app:dir .tar
diff_id_ok() { [ "$(img inspect app:gz | jq -r '.Layers[0].DiffID')" = "sha256:$(gzip -dc "$T/rootfs.tar.gz" | sha256sum | cut -d' ' -f1)" ]; }
check "app:gz's diff_id is the digest of the uncompressed tar" diff_id_ok
# (umoci here reads no zstd layers: app:zst is compared with umoci's app:gz, the same tar.)
for r in gz dir; do
        check "umoci unpacks app:$r" umoci unpack --image "$T/store:app:$r" "$T/umoci-$r"
        compare_rootfs "app-$r" "app:$r" "$T/umoci-$r/rootfs"
done
compare_rootfs app-zst app:zst "$T/umoci-gz/rootfs"
check "app:dir's rootfs equals the source directory" python3 "$here/imgtool.py" compare "$R" "$T/umoci-dir/rootfs"
old_dir=$(img inspect app:dir | jq -r .Digest)
mkdir -p "$T/changed" && echo changed >"$T/changed/f"
moved() {
        img import-rootfs "$T/changed" app:dir >/dev/null &&
                [ "$(img inspect app:dir | jq -r .Digest)" != "$old_dir" ] &&
                [ "$(img -o json list | jq '[.[] | select(.Name == "app:dir")] | length')" = 1 ]
}
check "importing under an existing name moves the tag" moved
check "the old image is still there by digest until prune" img inspect "$old_dir"
check_fails "import-rootfs refuses a digest as a name" img import-rootfs "$R" sha256:0123456789ab
check_fails "import-rootfs of a missing path fails" img import-rootfs "$T/nonexistent" x:1

# ---- progress on stderr, once an import or unpack has taken more than a second. A lock held
# for 1.5 s makes an operation slow for sure: it waits, then goes on and reports.
mkdir -p "$T/big"
head -c $((40 << 20)) /dev/urandom >"$T/big/blob"
tar -C "$T/big" -cf "$T/big.tar" .
echo small >"$T/small.txt" && tar -C "$T" -cf "$T/small.tar" small.txt
slowly() { # LOCKFILE COMMAND…: runs COMMAND while LOCKFILE is held for its first 1.5 s
        local lock=$1 pid st=0
        shift
        exec 8>"$lock"
        flock -x 8
        "$@" 8>&- &
        pid=$!
        sleep 1.5
        flock -u 8
        exec 8>&-
        wait $pid || st=$?
        return $st
}
img --progress import-rootfs "$T/small.tar" small:1 >/dev/null 2>"$T/stderr"
check "a quick import shows no progress, even with --progress" test ! -s "$T/stderr"
slowly "$T/store/.ctrmgr-lock" img --progress import-rootfs "$T/big.tar" big:1 >"$T/stdout" 2>"$T/stderr"
check "a slow import shows progress on stderr" grep -q '^importing big.tar: ' "$T/stderr"
check "and not on stdout" grep -qx "big:1 sha256:[0-9a-f]*" "$T/stdout"
gzip -1 -c "$T/big.tar" >"$T/big.tar.gz"
slowly "$T/store/.ctrmgr-lock" img --progress import-rootfs "$T/big.tar.gz" big:4 >"$T/stdout" 2>"$T/stderr"
check "a compressed tarball: progress while its diff_id is computed" grep -q '^hashing big.tar.gz: ' "$T/stderr"
check "... and while it is copied" grep -q '^importing big.tar.gz: ' "$T/stderr"
slowly "$T/layers/.lock" img --progress unpack big:1 >"$T/stdout" 2>"$T/stderr"
check "a slow unpack shows progress on stderr" grep -q '^unpacking sha256:' "$T/stderr"
slowly "$T/store/.ctrmgr-lock" img import-rootfs "$T/big.tar" big:2 >/dev/null 2>"$T/stderr"
check "no progress when stderr is not a terminal (without --progress)" test ! -s "$T/stderr"
if command -v script >/dev/null; then
        slowly "$T/store/.ctrmgr-lock" script -qec "$CTRMGR image --store $T/store --layers $T/layers import-rootfs $T/big.tar big:3" /dev/null >"$T/tty.out"
        check "on a terminal the progress line is rewritten in place" grep -q $'\r\033\\[Kimporting big.tar' "$T/tty.out"
        script -qec "$CTRMGR image --store $T/store --layers $T/layers import-rootfs $T/small.tar small:2" /dev/null >"$T/tty.out"
        check "and a quick import stays quiet there too" sh -c "! grep -q 'importing' '$T/tty.out'"
fi
img rm big:1 big:2 big:3 big:4 small:1 small:2 >/dev/null 2>&1

# ---- the store lock: an import waits while prune (exclusive) holds it, and the other way round.
lock=$T/store/.ctrmgr-lock
exec 9>"$lock"
flock -x 9
img import-rootfs "$R" locked:1 9>&- >/dev/null 2>&1 &
pid=$!
sleep 0.5
waits() { kill -0 $pid && ! img inspect locked:1; }
check "an import waits for an exclusive holder of the store lock" waits
flock -u 9
wait $pid
check "and finishes once it is released" img inspect locked:1
flock -s 9
img prune 9>&- >/dev/null 2>&1 &
pid=$!
sleep 0.5
check "prune waits while an import (shared) holds the lock" kill -0 $pid
flock -u 9
exec 9>&-
check "and runs once it is released" wait $pid

# ---- prune --in-use keeps an image the caller says is in use, even without a name.
did=$(img inspect app:dir | jq -r .Digest)
lid=$(img inspect app:dir | jq -r '.Layers[0].DiffID' | cut -d: -f2)
img unpack app:dir >/dev/null
img rm app:dir locked:1
check "prune --in-use DIGEST" img prune --in-use "$did"
kept() { img inspect "$did" >/dev/null && test -d "$T/layers/sha256/$lid"; }
check "keeps its blobs and its layer" kept
check "prune without it" img prune
check_fails "removes them" img inspect "$did"
check "the layer too" test ! -e "$T/layers/sha256/$lid"

# ---- ctrmgr image --help and ctrmgr-image(1) name the same commands and options.
page=$here/../../../man/ctrmgr-image.1.md
help_words() { "$CTRMGR" image --help | grep -oE -- '--[a-z][a-z-]+' | sort -u; }
# (--format: podman's, in an example; --no-legend: a global option of ctrmgr)
page_words() { grep -oE -- '--[a-z][a-z-]+' "$page" | grep -vxE -- '--(format|no-legend)' | sort -u; }
same_options() { diff <(help_words) <(page_words); }
check "the man page and --help list the same options" same_options
help_cmds() { "$CTRMGR" image --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/:$/ {print $1}' | sort; }
page_cmds() { sed -n 's/^## \([a-z-]*\).*/\1/p' "$page" | sort; }
same_commands() { diff <(help_cmds) <(page_cmds); }
check "and the same commands" same_commands

finish
