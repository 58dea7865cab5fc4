#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# exec into a running container (namespaces, cgroup, capabilities, seccomp, options), pause and
# resume with the cgroup v2 freezer, ps, update.
source "$(dirname "$0")/lib.sh"

B=$T/ex
make_bundle "$B" sh -c 'i=0; while :; do i=$((i + 1)); echo $i >/tmp/counter; sleep 0.05; done'
jq_edit "$B" '.root.readonly = false
        | .process.capabilities = { bounding: ["CAP_KILL", "CAP_CHOWN"], effective: ["CAP_KILL", "CAP_CHOWN"], permitted: ["CAP_KILL", "CAP_CHOWN"] }
        | .linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [ { names: ["sethostname"], action: "SCMP_ACT_ERRNO", errnoRet: 18 } ] }'
oci create --bundle "$B" ex </dev/null >/dev/null 2>&1
oci start ex
pid=$(pid_of ex)
cg=$CG2$CGPARENT/ex

# ---------------------------------------------------------------- exec
check_eq "exec: same namespaces as the init" "same" oci exec ex sh -c \
        'for n in pid mnt net ipc uts cgroup; do [ "$(readlink /proc/self/ns/$n)" = "$(readlink /proc/1/ns/$n)" ] || echo "differs: $n"; done; echo same'
check_ne "exec: not in the host's pid namespace" "$(readlink /proc/self/ns/pid)" oci exec ex readlink /proc/self/ns/pid
check_eq "exec: the container's capabilities, none inheritable or ambient" \
        "inh=0000000000000000 prm=0000000000000021 eff=0000000000000021 bnd=0000000000000021 amb=0000000000000000" \
        oci exec ex /probe caps
check_eq "exec: the container's seccomp filter" "error EXDEV" oci exec ex /probe sethostname x
check_eq "exec: no_new_privs as the container" "1" oci exec ex /probe nnp
check_eq "exec: the container's root" "$(stat -c %i "$B/rootfs")" oci exec ex stat -c %i /
check_eq "exec: the container's cgroup (cgroup namespace root)" "0::/" oci exec ex grep ^0:: /proc/self/cgroup
oci exec --detach --pid-file "$T/exec.pid" ex sleep 30
epid=$(cat "$T/exec.pid" 2>/dev/null)
check "exec --detach --pid-file: the process runs" test -n "$epid" -a -e "/proc/$epid"
check "exec: the process is in the container's cgroup" grep -qx "$epid" "$cg/cgroup.procs"
check "exec: ... and the container's pid namespace" test "$(readlink /proc/"$epid"/ns/pid)" = "$(readlink /proc/"$pid"/ns/pid)"
kill -9 "$epid" 2>/dev/null
check_eq "exec --env" "bar" oci exec --env FOO=bar ex sh -c 'echo $FOO'
check_eq "exec --cwd" "/tmp" oci exec --cwd /tmp ex /probe cwd
check_eq "exec --user" "uid=1000 gid=1001 groups=" oci exec --user 1000:1001 ex /probe ids
check_eq "exec: the exit status" "7" sh -c "'$OCI' --root '$ROOT' exec ex sh -c 'exit 7'; echo \$?"
check_eq "exec: stdin" "via stdin" sh -c "echo 'via stdin' | '$OCI' --root '$ROOT' exec ex /probe stdin"
jq -n '{ args: ["/probe", "ids"], cwd: "/", user: { uid: 5, gid: 6 }, env: ["PATH=/bin"] }' >"$T/process.json"
check_eq "exec --process FILE" "uid=5 gid=6 groups=" oci exec --process "$T/process.json" ex
# What a process object does not give comes from the container (as with runc), not from the
# runtime: a uid 0 process without "capabilities" must not get every capability we hold.
jq -n '{ args: ["/probe", "caps"], cwd: "/", user: { uid: 0, gid: 0 } }' >"$T/p-nocaps.json"
check_eq "exec --process without capabilities: the container's, not the runtime's" \
        "inh=0000000000000000 prm=0000000000000021 eff=0000000000000021 bnd=0000000000000021 amb=0000000000000000" \
        oci exec --process "$T/p-nocaps.json" ex
jq '.args = ["/probe", "nnp"]' "$T/p-nocaps.json" >"$T/p-nnp.json"
check_eq "exec --process without noNewPrivileges: the container's (true)" "1" oci exec --process "$T/p-nnp.json" ex
jq '.args = ["/probe", "rlimit", "NOFILE"]' "$T/p-nocaps.json" >"$T/p-rl.json"
check_eq "exec --process without rlimits: the container's" "1024 1024" oci exec --process "$T/p-rl.json" ex
jq '.capabilities = { bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"] } | .noNewPrivileges = false' \
        "$T/p-nocaps.json" >"$T/p-given.json"
check_eq "exec --process with capabilities: those" \
        "inh=0000000000000000 prm=0000000000000020 eff=0000000000000020 bnd=0000000000000020 amb=0000000000000000" \
        oci exec --process "$T/p-given.json" ex
jq '.args = ["/probe", "nnp"]' "$T/p-given.json" >"$T/p-given-nnp.json"
check_eq "exec --process with noNewPrivileges false: false" "0" oci exec --process "$T/p-given-nnp.json" ex
check_output "exec of a missing program names it" "nope" oci exec ex /nope
printf 'echo hi\n' >"$B/rootfs/tmp/noexec.sh"
chmod 644 "$B/rootfs/tmp/noexec.sh"
rc=0; oci exec --user 1000 ex /tmp/noexec.sh >"$T/noexec.out" 2>&1 || rc=$?
check_output "exec of a file the user may not execute: EACCES, reported by the runtime" \
        "exec: executing /tmp/noexec\.sh: Permission denied" cat "$T/noexec.out"
check_eq "... with status 1 (the runtime's)" 1 echo "$rc"
check_eq "exec --no-new-privs" "1" oci exec --no-new-privs ex /probe nnp

# ---------------------------------------------------------------- fd leaks into exec (CVE-2024-21626)
exec 7</etc/hostname
check_eq "exec: no descriptor of the caller leaks in" "" oci exec ex /probe fds
exec 7<&-

# ---------------------------------------------------------------- ps
check_output "ps lists the init" "^ *[a-z0-9]+ +$pid " oci ps ex
check "ps --format json" sh -c "'$OCI' --root '$ROOT' ps --format json ex | jq -e 'index($pid) != null'"
check_output "ps passes its options to ps as they are, not through a shell" "^ *$pid +[a-z-]+$" oci ps ex -o "pid,comm=A|B"

# ---------------------------------------------------------------- pause / resume
if [ -e "$cg/cgroup.freeze" ]; then
        check "pause" oci pause ex
        check_eq "state: paused" paused status_of ex
        check_output "the cgroup is frozen" "^frozen 1$" cat "$cg/cgroup.events"
        a=$(cat "$B/rootfs/tmp/counter"); sleep 0.3; b=$(cat "$B/rootfs/tmp/counter")
        check "a paused container makes no progress" test "$a" = "$b"
        check_fails "exec into a paused container is refused" oci exec ex true
        check "resume" oci resume ex
        check_eq "state: running" running status_of ex
        sleep 0.3
        c=$(cat "$B/rootfs/tmp/counter")
        check "a resumed container goes on" test "$c" != "$b"
        check_fails "resume of a running container is refused" oci resume ex
else
        skip "pause/resume" "no cgroup v2 freezer (cgroup.freeze) here"
fi

# ---------------------------------------------------------------- update
echo '{ "unified": { "cgroup.max.descendants": "7" } }' >"$T/res.json"
check "update --resources FILE" oci update --resources "$T/res.json" ex
check_eq "... written to the container's cgroup" 7 cat "$cg/cgroup.max.descendants"
if [ -e "$cg/pids.max" ]; then
        check "update --pids-limit" oci update --pids-limit 99 ex
        check_eq "... pids.max" 99 cat "$cg/pids.max"
else
        check_output "update --pids-limit without a v2 pids controller: a warning, not silence" "pids" \
                oci update --pids-limit 99 ex
fi
echo '{ "unified": { "cgroup.procs": "1" } }' >"$T/bad.json"
check_output "update refuses core cgroup files" "cgroup\.procs" oci update --resources "$T/bad.json" ex

oci delete --force ex
check "delete --force removes the cgroup" test ! -e "$cg"
finish
