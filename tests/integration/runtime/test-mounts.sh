#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# root (readonly), mounts (bind/rbind, ro, rro, tmpfs, proc, sysfs, devpts, mqueue, cgroup2),
# the fresh /dev with its nodes and linux.devices, masked and read-only paths, rootfs
# propagation; checked from inside the container.
source "$(dirname "$0")/lib.sh"

B=$T/mnt
make_bundle "$B"

# What `ctrmgr-oci spec` mounts, as the container's /proc/self/mounts shows it.
mounts() { run_in "$B" cat /proc/self/mounts; }
check_output "/proc is procfs" "^proc /proc proc " mounts
check_output "/dev is a fresh tmpfs" "^tmpfs /dev tmpfs " mounts
check_output "/dev/pts is a new devpts instance" "^devpts /dev/pts devpts .*ptmxmode=666" mounts
check_output "/dev/shm is a tmpfs" "^shm /dev/shm tmpfs " mounts
check_output "/dev/mqueue is mqueue" "^mqueue /dev/mqueue mqueue " mounts
check_output "/sys is a read-only sysfs" "^sysfs /sys sysfs ro," mounts
check_output "the root is read-only (root.readonly)" "^error EROFS$" run_in "$B" /probe mkdir /newdir

# ---------------------------------------------------------------- /dev
devs() { run_in "$B" sh -c 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done'; }
check_output "/dev/null is char 1:3 0666" "^/dev/null character special file 1:3 666$" devs
check_output "/dev/zero is char 1:5" "^/dev/zero character special file 1:5 666$" devs
check_output "/dev/full is char 1:7" "^/dev/full character special file 1:7 666$" devs
check_output "/dev/random is char 1:8" "^/dev/random character special file 1:8 666$" devs
check_output "/dev/urandom is char 1:9" "^/dev/urandom character special file 1:9 666$" devs
check_output "/dev/tty is char 5:0" "^/dev/tty character special file 5:0 666$" devs
check_output "/dev/ptmx points to pts/ptmx" "^pts/ptmx$" run_in "$B" readlink /dev/ptmx
check_output "/dev/fd points to /proc/self/fd" "^/proc/self/fd$" run_in "$B" readlink /dev/fd
check_output "/dev/stderr" "^/proc/self/fd/2$" run_in "$B" readlink /dev/stderr
check_output "/dev/null works" "^0$" run_in "$B" sh -c 'echo x >/dev/null; wc -c </dev/null'
jq_edit "$B" '.linux.devices = [ { path: "/dev/mynull", type: "c", major: 1, minor: 3, fileMode: 384, uid: 0, gid: 0 } ]'
check_output "linux.devices: a node with its mode" "^/dev/mynull character special file 1:3 600$" \
        run_in "$B" stat -c "%n %F %t:%T %a" /dev/mynull
jq_edit "$B" 'del(.linux.devices)'

# ---------------------------------------------------------------- bind mounts, tmpfs
mkdir -p "$T/data/sub" "$T/rw"
echo "host data" >"$T/data/file"
mount -t tmpfs -o size=1m tmpfs "$T/data/sub"
echo "in the submount" >"$T/data/sub/file"
mkdir -p "$B/rootfs/data" "$B/rootfs/rw" "$B/rootfs/rro" "$B/rootfs/nonrec" "$B/rootfs/scratch"
jq_edit "$B" --arg d "$T/data" --arg w "$T/rw" '.mounts += [
        { destination: "/data", type: "bind", source: $d, options: ["rbind", "ro"] },
        { destination: "/rw", type: "bind", source: $w, options: ["bind", "rw"] },
        { destination: "/rro", type: "bind", source: $d, options: ["rbind", "rro"] },
        { destination: "/nonrec", type: "bind", source: $d, options: ["bind"] },
        { destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["mode=1777", "size=1m", "nosuid"] } ]'
check_output "bind mount: host content visible" "^host data$" run_in "$B" cat /data/file
check_output "rbind: the submount comes along" "^in the submount$" run_in "$B" cat /data/sub/file
check_output "ro bind: read-only" "^error EROFS$" run_in "$B" /probe mkdir /data/x
check_output "ro (not rro) leaves a submount writable, as the kernel does" "^ok$" run_in "$B" /probe mkdir /data/sub/y
check_output "rro: the submount is read-only too" "^error EROFS$" run_in "$B" /probe mkdir /rro/sub/z
check_eq "bind (not rbind): no submount" "" run_in "$B" ls /nonrec/sub
run_in "$B" sh -c 'echo written >/rw/out' >/dev/null 2>&1
check "rw bind: the container's write reaches the host" grep -qx written "$T/rw/out"
check_output "tmpfs with mode and size" "^1777 tmpfs 1048576$" \
        run_in "$B" sh -c 'echo $(stat -c %a /scratch) $(stat -f -c "%T" /scratch) $(($(stat -f -c "%b * %S" /scratch)))'
check_output "tmpfs options: nosuid" "^tmpfs /scratch tmpfs [^ ]*nosuid" mounts
jq_edit "$B" '.mounts += [ { destination: "/nowhere/deep", type: "tmpfs", source: "tmpfs" } ]'
check_output "a missing mount point is created (the root becomes read-only afterwards)" "^tmpfs /nowhere/deep tmpfs" mounts
check "... in the bundle's rootfs" test -d "$B/rootfs/nowhere/deep"
jq_edit "$B" 'del(.mounts[-1])'

# ---------------------------------------------------------------- cgroup2
if grep -q cgroup2 /proc/filesystems; then
        mkdir -p "$B/rootfs/cg"
        jq_edit "$B" '.mounts += [ { destination: "/cg", type: "cgroup2", source: "cgroup2", options: ["ro", "nosuid"] } ]'
        check_output "cgroup2 mount: the container's cgroup is its root" "cgroup\.procs" run_in "$B" ls /cg
        jq_edit "$B" 'del(.mounts[-1])'
fi

# ---------------------------------------------------------------- masked and read-only paths
check_output "masked file (/proc/keys) reads as empty" "^0$" run_in "$B" sh -c 'wc -c </proc/keys'
check_output "masked file is the null device" "^1:3$" run_in "$B" stat -c %t:%T /proc/keys
check_output "masked directory (/sys/firmware) is empty" "^0$" run_in "$B" sh -c 'ls -A /sys/firmware | wc -l'
check_output "read-only path /proc/sys" "^error EROFS$" run_in "$B" /probe open /proc/sys/kernel/domainname w
check_output "read-only path /proc/irq" "^error EROFS$" run_in "$B" /probe open /proc/irq/default_smp_affinity w
check_output "unmasked /proc/uptime readable" "^[0-9]" run_in "$B" cat /proc/uptime
jq_edit "$B" '.linux.maskedPaths += ["/proc/uptime", "/does/not/exist"] | .linux.readonlyPaths += ["/tmp"]'
check_output "a masked path from the spec" "^0$" run_in "$B" sh -c 'wc -c </proc/uptime'
check "a missing masked path is ignored" run_in "$B" true
jq_edit "$B" '.root.readonly = false'
check_output "a read-only path from the spec" "^error EROFS$" run_in "$B" /probe mkdir /tmp/x
jq_edit "$B" '.root.readonly = true'

# ---------------------------------------------------------------- propagation
mount --make-shared "$T"
jq_edit "$B" '.linux.rootfsPropagation = "slave"'
check_output "rootfsPropagation slave (of a shared rootfs)" "^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / [^-]*master:" run_in "$B" cat /proc/self/mountinfo
jq_edit "$B" '.linux.rootfsPropagation = "private"'
check_no_output "rootfsPropagation private" "^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / [^-]*(shared|master):" run_in "$B" cat /proc/self/mountinfo
jq_edit "$B" '.linux.rootfsPropagation = "shared"'
check_output "rootfsPropagation shared" "^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / [^-]*shared:" run_in "$B" cat /proc/self/mountinfo
mount --make-private "$T"

finish
