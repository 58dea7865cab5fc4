#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A real client: Debian's podman drives ctrmgr-oci (--runtime) with private storage in a temp
# dir: run --rm, run -d + exec + stop, logs, rm.
source "$(dirname "$0")/lib.sh"
command -v podman >/dev/null && command -v conmon >/dev/null || { echo "1..0 # SKIP podman/conmon missing"; exit 77; }

mkdir -p "$T/img/bin" "$T/img/etc" "$T/img/proc" "$T/img/sys" "$T/img/dev" "$T/img/tmp"
cp /bin/busybox "$T/img/bin/"
for a in sh sleep echo cat ls true id hostname; do ln -s busybox "$T/img/bin/$a"; done
echo 'root:x:0:0:root:/:/bin/sh' >"$T/img/etc/passwd"
echo 'root:x:0:' >"$T/img/etc/group"
tar -C "$T/img" -cf "$T/img.tar" .

pm() {
        podman --root "$T/storage" --runroot "$T/runroot" --tmpdir "$T/tmp" --runtime "$OCI" \
                --cgroup-manager cgroupfs --events-backend file --storage-driver overlay "$@"
}
# podman makes libpod_parent (and libpod_parent/conmon for exec's conmon) in every hierarchy even
# with --cgroup-parent: those that were not there before are ours to remove.
cg_hierarchies() { awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }' /proc/self/mountinfo; }
new_libpod=()
for h in $(cg_hierarchies); do [ -e "$h/libpod_parent" ] || new_libpod+=("$h/libpod_parent"); done
podman_cleanup() {
        pm rm -af -t 0 >/dev/null 2>&1
        pm system reset -f >/dev/null 2>&1
        for d in "${new_libpod[@]}"; do
                [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        rt_cleanup
}
trap podman_cleanup EXIT
RUNOPTS=(--ulimit nofile=1024:1024 --network none --cgroup-parent "$CGPARENT/podman")

if ! pm import "$T/img.tar" localhost/ctrmgr-bb:latest >"$T/import.out" 2>&1; then
        sed 's/^/# /' "$T/import.out"
        echo "1..0 # SKIP podman cannot import an image here"
        exit 77
fi

check_eq "podman run --rm" "hello from ctrmgr-oci" pm run --rm "${RUNOPTS[@]}" localhost/ctrmgr-bb:latest echo hello from ctrmgr-oci
check_eq "podman run --rm: the exit status" "3" sh -c "$(declare -f pm); T='$T' OCI='$OCI'; pm run --rm ${RUNOPTS[*]} localhost/ctrmgr-bb:latest sh -c 'exit 3'; echo \$?"
check_output "podman run: the container's own hostname and pid 1" "^1 [0-9a-f]{12}$" \
        pm run --rm "${RUNOPTS[@]}" localhost/ctrmgr-bb:latest sh -c 'echo $$ $(hostname)'
check "podman run -d" pm run -d --name ctr1 "${RUNOPTS[@]}" localhost/ctrmgr-bb:latest \
        sh -c 'echo started; trap "echo stopping; exit 0" TERM; while :; do sleep 0.1; done'
check_output "podman ps shows it running" "ctr1" pm ps
check_eq "podman exec" "exec ok" pm exec ctr1 echo exec ok
check_eq "podman exec: same pid namespace (sees pid 1)" "1" pm exec ctr1 sh -c 'ls -d /proc/[0-9]* | grep -c "^/proc/1$"'
check "podman stop" pm stop -t 10 ctr1
check_output "podman ps -a: exited (0)" "Exited \(0\)" pm ps -a
check_output "podman logs: the container's output" "^started$" pm logs ctr1
check_output "podman logs: ... through the stop" "^stopping$" pm logs ctr1
check "podman rm" pm rm ctr1
check_eq "nothing left" "" pm ps -aq
finish
