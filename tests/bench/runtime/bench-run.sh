#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runtime benchmark (not a pass/fail test; run by hand as root):
#
#   tests/bench/runtime/bench-run.sh [--ctrmgr-oci PATH] [--runs N] [--count N] [--no-runc]
#
# Side by side, in one run, on the same bundle (busybox /bin/true, a config.json from
# `ctrmgr-oci spec` without a terminal):
#   1. `RUNTIME run` (create → exit → delete) without seccomp         (hyperfine, N runs)
#   2. the same with the containers-common default profile
#      (/usr/share/containers/seccomp.json turned into OCI form for the spec's capabilities)
#   3. COUNT (default 100) containers one after another
#   4. peak RSS of the runtime process (GNU time's maximum resident set size, median of 10)
# for ctrmgr-oci, crun and runc, and prints ctrmgr-oci's ratios against crun with the issue's
# targets (≤ 0.6× without seccomp, ≤ 0.3× with the default profile, RSS ≤ crun's).
#
# Everything runs in a private mount namespace on a tmpfs, with cgroups below parents named
# ctrmgr-bench-rt-PID in every hierarchy; all of it is removed at exit. On hybrid-cgroup hosts an
# empty file is bind-mounted (in the private namespace only) over cgroup2's cgroup.controllers,
# which crun otherwise refuses (see shared/notes/perf-baseline.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
oci="" runs=30 count=100 do_runc=1
args=("$@")
while [ $# -gt 0 ]; do
        case "$1" in
        --ctrmgr-oci) oci=$2; shift ;;
        --runs) runs=$2; shift ;;
        --count) count=$2; shift ;;
        --no-runc) do_runc=0 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench: unknown option $1" >&2; exit 2 ;;
        esac
        shift
done
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
if [ -z "${CTRMGR_BENCH_NS:-}" ]; then
        export CTRMGR_BENCH_NS=1
        exec unshare -m --propagation private "$0" "${args[@]}"
fi
if [ -z "$oci" ]; then
        for b in "$top"/build*/tools/oci/ctrmgr-oci; do [ -x "$b" ] && oci=$b && break; done
fi
[ -x "$oci" ] || { echo "bench: no ctrmgr-oci (build it, or --ctrmgr-oci PATH)" >&2; exit 1; }
oci=$(realpath "$oci")
for t in hyperfine crun jq /usr/bin/time; do
        command -v "$t" >/dev/null || { echo "bench: $t missing" >&2; exit 1; }
done
command -v runc >/dev/null || do_runc=0
profile=/usr/share/containers/seccomp.json
[ -r "$profile" ] || { echo "bench: $profile missing (golang-github-containers-common)" >&2; exit 1; }

W=$(mktemp -d /tmp/ctrmgr-bench-rt.XXXXXX)
mount -t tmpfs tmpfs "$W"
parent=ctrmgr-bench-rt-$$
cg2=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' /proc/self/mountinfo)
cleanup() {
        set +e
        for r in ctrmgr-oci crun runc; do
                for d in "$W"/state-$r; do
                        [ -d "$d" ] || continue
                        case $r in
                        ctrmgr-oci) for id in $("$oci" --root "$d" list --quiet); do "$oci" --root "$d" delete --force "$id"; done ;;
                        *) for id in $($r --root "$d" list -q); do $r --root "$d" delete -f "$id"; done ;;
                        esac
                done
        done >/dev/null 2>&1
        # every hierarchy (v1 controllers too: runc and crun use them on hybrid hosts)
        for h in $(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }' /proc/self/mountinfo); do
                [ -d "$h/$parent" ] || continue
                for f in $(find "$h/$parent" -name cgroup.procs); do
                        for p in $(cat "$f"); do kill -9 "$p"; done
                done
                find "$h/$parent" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        grep " $W/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | while read -r m; do umount -l "$m"; done
        umount -l "$W"; rmdir "$W"
}
trap cleanup EXIT
if [ -n "$cg2" ] && [ "$cg2" != /sys/fs/cgroup ] && grep -q . "$cg2/cgroup.controllers"; then
        : >"$W/empty"
        mount --bind "$W/empty" "$cg2/cgroup.controllers"
        echo "# hybrid cgroups: cgroup2's cgroup.controllers hidden for crun (private namespace only)"
fi

# ---------------------------------------------------------------- bundles
mkdir -p "$W/b/rootfs/bin" "$W/b/rootfs/proc" "$W/b/rootfs/sys" "$W/b/rootfs/dev" "$W/b/rootfs/etc"
cp /bin/busybox "$W/b/rootfs/bin/"
ln -s busybox "$W/b/rootfs/bin/true"
"$oci" spec --bundle "$W/b"
jq --arg cg "/$parent/c" '.ociVersion = "1.0.2" | .process.terminal = false | .process.args = ["/bin/true"] | .linux.cgroupsPath = $cg' \
        "$W/b/config.json" >"$W/nosec.json"
caps=$(jq -c '.process.capabilities.bounding' "$W/nosec.json")
# containers-common's profile in OCI form: rules for this architecture and these capabilities.
jq --argjson caps "$caps" '{ defaultAction, defaultErrnoRet,
        architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        syscalls: [ .syscalls[]
                | select(((.includes.caps // []) - $caps) == [])
                | select((.includes.arches // ["amd64"]) | index("amd64"))
                | select(((.excludes.caps // []) - ((.excludes.caps // []) - $caps)) == [])
                | select(((.excludes.arches // []) | index("amd64")) | not)
                | { names, action, errnoRet, args } | with_entries(select(.value != null)) ] }' \
        "$profile" >"$W/seccomp.json"
jq --slurpfile s "$W/seccomp.json" --arg r "$W/b/rootfs" '.linux.seccomp = $s[0] | .root.path = $r' \
        "$W/nosec.json" >"$W/sec.json"
mkdir -p "$W/bs"
cp "$W/sec.json" "$W/bs/config.json"
cp "$W/nosec.json" "$W/b/config.json"
echo "# seccomp profile: $(jq '.syscalls | length' "$W/seccomp.json") rules from $profile"

runtimes=(ctrmgr-oci crun)
[ $do_runc = 1 ] && runtimes+=(runc)
cmd() { # cmd RUNTIME BUNDLE ID
        case $1 in
        ctrmgr-oci) echo "$oci --root $W/state-ctrmgr-oci run --bundle $2 $3" ;;
        *) echo "$1 --root $W/state-$1 run --bundle $2 $3" ;;
        esac
}
for r in "${runtimes[@]}"; do
        # each must work before it is timed
        $(cmd "$r" "$W/b" check) </dev/null || { echo "bench: $r cannot run the bundle" >&2; exit 1; }
        $(cmd "$r" "$W/bs" check) </dev/null || { echo "bench: $r cannot run the bundle with seccomp" >&2; exit 1; }
done

median_ms() { jq '.results[0].median * 1000' "$1"; }
declare -A t_nosec t_sec t_seq rss
for r in "${runtimes[@]}"; do
        hyperfine -N --warmup 3 --runs "$runs" --export-json "$W/h-$r-nosec.json" "$(cmd "$r" "$W/b" "h-$r")" >/dev/null 2>&1
        hyperfine -N --warmup 3 --runs "$runs" --export-json "$W/h-$r-sec.json" "$(cmd "$r" "$W/bs" "h-$r")" >/dev/null 2>&1
        t_nosec[$r]=$(median_ms "$W/h-$r-nosec.json")
        t_sec[$r]=$(median_ms "$W/h-$r-sec.json")
        start=$(date +%s%N)
        for i in $(seq "$count"); do $(cmd "$r" "$W/b" "s$i") </dev/null; done
        t_seq[$r]=$((($(date +%s%N) - start) / 1000000))
        for i in $(seq 10); do
                /usr/bin/time -f %M -o "$W/rss" $(cmd "$r" "$W/bs" "m-$r") </dev/null
                cat "$W/rss"
        done | sort -n | sed -n 5p >"$W/rss-$r"
        rss[$r]=$(cat "$W/rss-$r")
done

printf '\n%-12s %14s %14s %16s %14s\n' runtime "run (ms)" "+seccomp (ms)" "$count in seq (s)" "peak RSS (KB)"
for r in "${runtimes[@]}"; do
        printf '%-12s %14.1f %14.1f %16.2f %14d\n' "$r" "${t_nosec[$r]}" "${t_sec[$r]}" \
                "$(echo "${t_seq[$r]} / 1000" | bc -l)" "${rss[$r]}"
done
ratio() { echo "$1 / $2" | bc -l; }
echo
printf 'ctrmgr-oci / crun, run without seccomp:  %.2f  (target <= 0.6)\n' "$(ratio "${t_nosec[ctrmgr-oci]}" "${t_nosec[crun]}")"
printf 'ctrmgr-oci / crun, run with the profile: %.2f  (target <= 0.3)\n' "$(ratio "${t_sec[ctrmgr-oci]}" "${t_sec[crun]}")"
printf 'ctrmgr-oci / crun, %d in sequence:      %.2f\n' "$count" "$(ratio "${t_seq[ctrmgr-oci]}" "${t_seq[crun]}")"
printf 'ctrmgr-oci / crun, peak RSS:             %.2f  (target <= 1)\n' "$(ratio "${rss[ctrmgr-oci]}" "${rss[crun]}")"
if [ $do_runc = 1 ]; then
        printf 'ctrmgr-oci / runc, run without seccomp:  %.2f\n' "$(ratio "${t_nosec[ctrmgr-oci]}" "${t_nosec[runc]}")"
        printf 'ctrmgr-oci / runc, run with the profile: %.2f\n' "$(ratio "${t_sec[ctrmgr-oci]}" "${t_sec[runc]}")"
fi
