#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Start-up and footprint benchmark of ctrmgrd (not a pass/fail test; run by hand as root):
#
#   tests/bench/manager/bench-start.sh [--ctrmgrd PATH] [--ctrmgr PATH] [--count N]
#                                      [--no-podman] [--no-crun] [--no-ctrmgrd] [--dir DIR]
#
# Measures side by side, in one run, N (default 100) containers of busybox `sleep`:
#   ctrmgrd  from the daemon's exec to N units (WantedBy=multi-user.target) active, its RSS idle
#            (units loaded, nothing running) and with N running;
#   podman   `podman run -d` N times (storage, runroot and cgroup parent of its own);
#   crun     a loop of `crun run -d` (the bare runtime, no daemon, no seccomp: `crun spec`'s default).
# For each: wall time, the memory the N containers add (sum of the PSS of every process they and
# their helpers run; and the drop of MemAvailable, which also counts kernel memory but is noisy on a
# shared machine), helper processes per container, and the ratios the issue sets targets for
# (100 units active < 1 s, daemon RSS < 8 MB with 100 running, helpers < 256 KiB each).
#
# Everything runs in a private mount namespace on a tmpfs; the cgroups are below parents named
# ctrmgr-bench-PID; every container, process (by PID), cgroup and mount it made is removed at exit.
# On hybrid-cgroup hosts an empty file is bind-mounted (in the private namespace only) over
# cgroup2's cgroup.controllers, which crun (and podman through it) otherwise refuse.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
ctrmgrd="" ctrmgr="" count=100 dir=/tmp
do_podman=1 do_crun=1 do_ctrmgrd=1
args=("$@")
while [ $# -gt 0 ]; do
        case "$1" in
        --ctrmgrd) ctrmgrd=$2; shift ;;
        --ctrmgr) ctrmgr=$2; shift ;;
        --count) count=$2; shift ;;
        --dir) dir=$2; shift ;;
        --no-podman) do_podman=0 ;;
        --no-crun) do_crun=0 ;;
        --no-ctrmgrd) do_ctrmgrd=0 ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench: unknown option $1" >&2; exit 2 ;;
        esac
        shift
done
[[ "$count" =~ ^[1-9][0-9]*$ ]] && [ "$count" -le 1000 ] || { echo "bench: --count 1…1000" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }

if [ -z "${CTRMGR_BENCH_NS:-}" ]; then
        export CTRMGR_BENCH_NS=1
        exec unshare -m --propagation private "$0" "${args[@]}"
fi

# a build of the source tree, not one with sanitizers (those measure the sanitizer)
[ -n "$ctrmgrd" ] || for b in "$top"/build*/manager/ctrmgrd; do
        [ -x "$b" ] || continue
        case "$(ldd "$b" 2>/dev/null)" in *libasan* | *libubsan*) continue ;; esac
        ctrmgrd=$b
        break
done
[ -n "$ctrmgr" ] || { [ -n "$ctrmgrd" ] && ctrmgr=$(dirname "$(dirname "$ctrmgrd")")/tools/ctrmgr; }
if [ $do_ctrmgrd = 1 ] && { [ ! -x "${ctrmgrd:-}" ] || [ ! -x "${ctrmgr:-}" ]; }; then
        echo "# ctrmgrd: no ctrmgrd/ctrmgr binary without sanitizers (build main once the runtime core is merged, or pass --ctrmgrd PATH): skipped" >&2
        do_ctrmgrd=0
fi
busybox=/bin/busybox
if [ ! -x $busybox ] || ldd $busybox >/dev/null 2>&1; then
        echo "bench: needs a static /bin/busybox (busybox-static)" >&2
        exit 1
fi
command -v crun >/dev/null || do_crun=0
command -v podman >/dev/null || do_podman=0
if [ $do_ctrmgrd = 1 ]; then
        for t in dbus-daemon busctl; do command -v $t >/dev/null || { echo "bench: $t missing" >&2; exit 1; }; done
fi

# ---------------------------------------------------------------- workspace and cleanup
W=$(mktemp -d "$dir/ctrmgr-bench.XXXXXX")
mount -t tmpfs -o mode=0755 tmpfs "$W"
tag=ctrmgr-bench-$$
cg2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -1)
bus_pid="" daemon_pid=""
crun_ids=()

kill_cgroup_tree() { # kill_cgroup_tree DIR: SIGKILL every process below DIR, by PID, then rmdir the tree
        local d=$1 p
        [ -d "$d" ] || return 0
        for _ in 1 2 3 4 5; do
                local any=0
                while read -r f; do
                        for p in $(cat "$f" 2>/dev/null); do kill -9 "$p" 2>/dev/null && any=1; done
                done < <(find "$d" -name cgroup.procs 2>/dev/null)
                [ $any = 0 ] && break
                sleep 0.2
        done
        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
}

podman_cmd() {
        podman --root "$W/podman/root" --runroot "$W/podman/run" --tmpdir "$W/podman/tmp" \
                --cgroup-manager cgroupfs --events-backend none --storage-driver overlay "$@"
}

cleanup() {
        set +e
        if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
                kill "$daemon_pid"
                wait "$daemon_pid" 2>/dev/null
        fi
        for id in "${crun_ids[@]}"; do
                crun --root "$W/crun-state" kill "$id" KILL >/dev/null 2>&1
                crun --root "$W/crun-state" delete -f "$id" >/dev/null 2>&1
        done
        if [ -d "$W/podman" ]; then
                podman_cmd rm -f -t 0 -a >/dev/null 2>&1 # its storage is on our tmpfs
        fi
        # whatever is left in our cgroups, in every hierarchy (v1 controllers and cgroup2)
        for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
                for d in "$h$tag" "$h$tag-crun" "$h$tag-podman"; do kill_cgroup_tree "$d"; done
        done
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null && wait "$bus_pid" 2>/dev/null
        grep " $W/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | while read -r m; do umount -l "$m"; done
        umount -l "$W" 2>/dev/null
        rmdir "$W" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# crun refuses hybrid hosts whose cgroup2 lists controllers: hide them in this namespace only
if [ -n "$cg2" ] && [ "$cg2" != /sys/fs/cgroup ] && [ -n "$(cat "$cg2/cgroup.controllers")" ]; then
        : >"$W/empty"
        mount --bind "$W/empty" "$cg2/cgroup.controllers"
fi

# ---------------------------------------------------------------- helpers
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", ($1) }"; }
mem_available_kb() { awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
pss_kb() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
pss_sum_kb() { # PIDs… → summed PSS
        local s=0 p
        for p in "$@"; do s=$((s + $(pss_kb "$p"))); done
        echo $s
}
cgroup_pids() { # DIR → every PID below it
        find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null || true
}
settle() { sync; sleep "${1:-1}"; }

declare -A R # results

# A rootfs with busybox: /bin/sleep, /bin/sh
rootfs=$W/rootfs
mkdir -p "$rootfs"/{bin,etc,proc,sys,dev,tmp}
cp $busybox "$rootfs/bin/busybox"
for a in sh sleep true; do ln -s busybox "$rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"

echo "# $count containers of busybox sleep; $(nproc) CPUs; kernel $(uname -r)"

# ---------------------------------------------------------------- crun: a loop of `crun run -d`
if [ $do_crun = 1 ]; then
        echo "# crun $(crun --version | awk 'NR == 1 { print $3 }'): preparing $count configs…" >&2
        b=$W/crun
        mkdir -p "$b" "$W/crun-state"
        (cd "$b" && crun spec)
        for i in $(seq 1 "$count"); do
                jq --arg root "$rootfs" --arg cg "/$tag-crun/c$i" \
                        '.root = {path: $root, readonly: true} | .process.terminal = false
                         | .process.args = ["/bin/sleep", "100000"] | .linux.cgroupsPath = $cg
                         | .hostname = "c'"$i"'"' "$b/config.json" >"$b/config-$i.json"
        done
        settle 1
        m0=$(mem_available_kb)
        t0=$(now)
        for i in $(seq 1 "$count"); do
                crun --root "$W/crun-state" run -d -b "$b" -f "$b/config-$i.json" "bench-$$-$i" \
                        </dev/null >/dev/null 2>"$W/crun.err" || { echo "bench: crun run failed:" >&2; cat "$W/crun.err" >&2; break; }
                crun_ids+=("bench-$$-$i")
        done
        t1=$(now)
        settle 2
        m1=$(mem_available_kb)
        pids=()
        for id in "${crun_ids[@]}"; do
                p=$(crun --root "$W/crun-state" state "$id" 2>/dev/null | jq -r '.pid // empty')
                [ -n "$p" ] && pids+=("$p")
        done
        R[crun_n]=${#pids[@]}
        R[crun_time]=$(calc "$t1 - $t0" 3)
        R[crun_pss]=$(pss_sum_kb "${pids[@]}")
        R[crun_avail]=$((m0 - m1))
        R[crun_helpers]=0
        for id in "${crun_ids[@]}"; do
                crun --root "$W/crun-state" kill "$id" KILL >/dev/null 2>&1 || true
        done
        sleep 0.5
        for id in "${crun_ids[@]}"; do crun --root "$W/crun-state" delete -f "$id" >/dev/null 2>&1 || true; done
        crun_ids=()
        for h in /sys/fs/cgroup/*/; do kill_cgroup_tree "$h$tag-crun"; done
fi

# ---------------------------------------------------------------- podman run -d
if [ $do_podman = 1 ]; then
        echo "# $(podman --version): checking that it runs here…" >&2
        mkdir -p "$W/podman/root" "$W/podman/run" "$W/podman/tmp"
        # --rootfs DIR:O (an overlay over the same busybox tree per container) rather than an
        # imported image: `podman import` would write to the host's /var/lib/containers/cache
        podman_cmd run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
                --rootfs "$rootfs:O" /bin/true ||
                { echo "bench: podman cannot run a container here; skipping podman" >&2; do_podman=0; }
fi
if [ $do_podman = 1 ]; then
        settle 1
        m0=$(mem_available_kb)
        t0=$(now)
        for i in $(seq 1 "$count"); do
                podman_cmd run -d --name "bench-$i" --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
                        --cgroup-parent "/$tag-podman" --stop-signal KILL \
                        --rootfs "$rootfs:O" /bin/sleep 100000 >/dev/null
        done
        t1=$(now)
        settle 2
        m1=$(mem_available_kb)
        pids=() helpers=()
        for i in $(seq 1 "$count"); do
                p=$(podman_cmd inspect -f '{{.State.Pid}}' "bench-$i" 2>/dev/null || true)
                [ -n "$p" ] && [ "$p" != 0 ] && pids+=("$p")
                c=$(podman_cmd inspect -f '{{.State.ConmonPid}}' "bench-$i" 2>/dev/null || true)
                [ -n "$c" ] && [ "$c" != 0 ] && helpers+=("$c")
        done
        R[podman_n]=${#pids[@]}
        R[podman_time]=$(calc "$t1 - $t0" 3)
        R[podman_pss]=$(($(pss_sum_kb "${pids[@]}") + $(pss_sum_kb "${helpers[@]}")))
        R[podman_helpers]=${#helpers[@]}
        R[podman_helper_pss]=$(pss_sum_kb "${helpers[@]}")
        R[podman_avail]=$((m0 - m1))
        echo "# podman: removing $count containers…" >&2
        podman_cmd rm -f -t 0 -a >/dev/null 2>&1 || true
        for h in /sys/fs/cgroup/*/; do kill_cgroup_tree "$h$tag-podman"; done
fi

# ---------------------------------------------------------------- ctrmgrd
if [ $do_ctrmgrd = 1 ]; then
        echo "# ctrmgrd ($ctrmgrd): building the image store and $count units…" >&2
        C=$W/ctrmgr
        mkdir -p "$C/units" "$C/run" "$C/log" "$C/lib"
        "$top/examples/images/build-busybox.sh" --ctrmgr "$ctrmgr" --store "$C/lib/images" >/dev/null
        for i in $(seq -w 1 "$count"); do
                cat >"$C/units/b$i.ctr" <<EOF
[Container]
Image=busybox:latest
Exec=/bin/sleep 100000
StopSignal=SIGKILL
[Install]
WantedBy=multi-user.target
EOF
        done
        export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$C/bus
        sed -e "s|@ADDRESS@|$C/bus|" -e "s|@POLICY@|<include>$top/manager/data/org.ctrmgr1.conf</include>|" \
                "$top/tests/integration/manager/bus.conf.in" >"$C/bus.conf"
        dbus-daemon --config-file="$C/bus.conf" --nofork --nopidfile --nosyslog &
        bus_pid=$!
        for _ in $(seq 50); do [ -S "$C/bus" ] && break; sleep 0.1; done

        start_daemon() {
                "$ctrmgrd" --unit-path "$C/units" --state-dir "$C/run" --image-store "$C/lib/images" \
                        --layers-dir "$C/lib/layers" --containers-dir "$C/lib/containers" --lib-dir "$C/lib" --log-dir "$C/log" \
                        --log-target file --cgroup-driver cgroupfs --cgroup-parent "/$tag" --log-level warning \
                        "$@" 2>>"$C/daemon.log" &
                daemon_pid=$!
        }
        n_state() { # → "ACTIVE FAILED" unit counts
                local out a f
                out=$(busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call org.ctrmgr1 /org/ctrmgr1 \
                        org.ctrmgr1.Manager ListUnits 2>/dev/null) || { echo "0 0"; return 0; }
                a=$({ grep -o '"loaded" "active"' <<<"$out" || true; } | wc -l)
                f=$({ grep -o '"loaded" "failed"' <<<"$out" || true; } | wc -l)
                echo "$a $f"
        }
        bus_up() {
                busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call org.ctrmgr1 /org/ctrmgr1 org.ctrmgr1.Manager \
                        ListUnits >/dev/null 2>&1
        }
        stop_daemon() {
                kill "$daemon_pid" 2>/dev/null || true
                wait "$daemon_pid" 2>/dev/null || true
                daemon_pid=""
        }

        # idle: every unit loaded, nothing started; the layer cache is warmed by this run too
        start_daemon --no-boot-units
        for _ in $(seq 100); do bus_up && break; sleep 0.1; done
        bus_up || { echo "bench: ctrmgrd did not come up:" >&2; tail -20 "$C/daemon.log" >&2; exit 1; }
        settle 1
        R[d_idle_rss]=$(rss_kb "$daemon_pid")
        R[d_idle_pss]=$(pss_kb "$daemon_pid")
        # warm the layer cache so both runs compare starts, not the first unpack
        first="b$(seq -w 1 "$count" | head -1)"
        "$ctrmgr" start "$first" >/dev/null 2>&1 || true
        "$ctrmgr" stop "$first" >/dev/null 2>&1 || true
        stop_daemon

        # The moment ctrmgrd sends READY=1: its boot transaction is over, every unit active or
        # failed. A listener on NOTIFY_SOCKET takes it (started first: python3 is slow to start),
        # so nothing polls the daemon while it works.
        settle 1
        notify_sock=$C/notify.sock
        python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    d = s.recv(4096)
    if b"READY=1" in d.split(b"\n"):
        print("%.6f" % time.time(), flush=True)
        break
' "$notify_sock" >"$C/ready.out" &
        listener=$!
        for _ in $(seq 100); do grep -q listening "$C/ready.out" 2>/dev/null && break; sleep 0.1; done
        m0=$(mem_available_kb)
        t0=$(now)
        NOTIFY_SOCKET=$notify_sock start_daemon
        end=$((SECONDS + 120))
        while kill -0 "$listener" 2>/dev/null && [ $SECONDS -lt $end ] && kill -0 "$daemon_pid" 2>/dev/null; do
                sleep 0.2
        done
        t1=$(tail -1 "$C/ready.out")
        [[ $t1 =~ ^[0-9]+\.[0-9]+$ ]] || { t1=$(now); echo "# ctrmgrd sent no READY=1" >&2; }
        kill "$listener" 2>/dev/null || true
        wait "$listener" 2>/dev/null || true
        read -r n nf < <(n_state)
        R[d_n]=$n
        R[d_failed]=$nf
        R[d_time]=$(calc "$t1 - $t0" 3)
        settle 2
        m1=$(mem_available_kb)
        R[d_rss]=$(rss_kb "$daemon_pid")
        R[d_rss_anon]=$(awk '$1 == "RssAnon:" { print $2 }' "/proc/$daemon_pid/status" 2>/dev/null || echo 0)
        zpid=$(pgrep -P "$daemon_pid" -x ctrmgrd-zygote | head -1)
        R[z_rss]=$( [ -n "$zpid" ] && rss_kb "$zpid" || echo 0)
        R[z_pss]=$( [ -n "$zpid" ] && pss_kb "$zpid" || echo 0)
        R[d_pss]=$(pss_kb "$daemon_pid")
        mapfile -t pids < <(cgroup_pids "$cg2/$tag")
        R[d_procs]=${#pids[@]}
        R[d_pss_containers]=$(pss_sum_kb "${pids[@]}")
        R[d_avail]=$((m0 - m1))
        [ "$n" -ge "$count" ] || {
                echo "# ctrmgrd: $n of $count active, $nf failed, after $(calc "$t1 - $t0") s; daemon log:"
                grep -i fail "$C/daemon.log" | tail -5 | sed 's/^/#   /'
        }
        echo "# ctrmgrd: stopping $count units…" >&2
        mapfile -t names < <(cd "$C/units" && ls | sed 's/\.ctr$//')
        "$ctrmgr" stop "${names[@]}" >/dev/null 2>&1 || true
        stop_daemon
        kill_cgroup_tree "$cg2/$tag"
fi

# ---------------------------------------------------------------- report
kib_per() { [ "${2:-0}" -gt 0 ] && calc "$1 / $2" 0 || echo "-"; }
echo
printf '%-10s %10s %10s %14s %14s %10s\n' "" "started" "time (s)" "PSS/ctr (KiB)" "MemAvail/ctr" "helpers"
if [ $do_ctrmgrd = 1 ]; then
        # the daemon's growth counts as part of each container's cost
        d_add=$(( (R[d_pss] - R[d_idle_pss]) + R[d_pss_containers] ))
        printf '%-10s %10s %10s %14s %14s %10s\n' ctrmgrd "${R[d_n]}" "${R[d_time]}" "$(kib_per $d_add "${R[d_n]}")" \
                "$(kib_per "${R[d_avail]}" "${R[d_n]}")" "$((R[d_procs] - R[d_n]))"
fi
if [ $do_podman = 1 ]; then
        printf '%-10s %10s %10s %14s %14s %10s\n' "podman" "${R[podman_n]}" "${R[podman_time]}" \
                "$(kib_per "${R[podman_pss]}" "${R[podman_n]}")" "$(kib_per "${R[podman_avail]}" "${R[podman_n]}")" \
                "${R[podman_helpers]}"
fi
if [ $do_crun = 1 ]; then
        printf '%-10s %10s %10s %14s %14s %10s\n' "crun loop" "${R[crun_n]}" "${R[crun_time]}" \
                "$(kib_per "${R[crun_pss]}" "${R[crun_n]}")" "$(kib_per "${R[crun_avail]}" "${R[crun_n]}")" 0
fi
echo
if [ $do_ctrmgrd = 1 ]; then
        echo "ctrmgrd RSS idle ($count units loaded): $(calc "${R[d_idle_rss]} / 1024") MB (PSS $(calc "${R[d_idle_pss]} / 1024") MB)"
        echo "ctrmgrd RSS with ${R[d_n]} running:     $(calc "${R[d_rss]} / 1024") MB (PSS $(calc "${R[d_pss]} / 1024") MB, anonymous $(calc "${R[d_rss_anon]} / 1024") MB; target < 8 MB)"
        echo "its zygote (forks the starters):       $(calc "${R[z_rss]} / 1024") MB RSS (PSS $(calc "${R[z_pss]} / 1024") MB)"
        echo "ctrmgrd added RSS per container:      $(kib_per $((R[d_rss] - R[d_idle_rss])) "${R[d_n]}") KiB"
        echo "ctrmgrd time to ${R[d_n]} active (${R[d_failed]} failed): ${R[d_time]} s (target < 1 s for 100; until its READY=1)"
        [ $do_podman = 1 ] && echo "ratio podman / ctrmgrd (time):        $(calc "${R[podman_time]} / ${R[d_time]}" 1)x"
        [ $do_crun = 1 ] && echo "ratio crun loop / ctrmgrd (time):     $(calc "${R[crun_time]} / ${R[d_time]}" 1)x"
fi
if [ $do_podman = 1 ]; then
        echo "podman: one conmon per container, PSS $(kib_per "${R[podman_helper_pss]}" "${R[podman_helpers]}") KiB each"
fi
if [ $do_podman = 1 ] && [ $do_crun = 1 ]; then
        echo "ratio podman / crun loop (time):      $(calc "${R[podman_time]} / ${R[crun_time]}" 1)x"
fi
echo "(PSS/ctr: container processes + helpers (+ the daemon's growth for ctrmgrd); MemAvail/ctr: drop of"
echo " MemAvailable per container, includes kernel memory, noisy on a shared machine; crun runs without seccomp)"
