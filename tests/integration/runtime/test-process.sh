#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# process.*: capabilities, no_new_privs, user and groups, umask, rlimits, env, cwd, oomScoreAdj,
# seccomp (actions, errnoRet, argument conditions), each checked from inside the container.
source "$(dirname "$0")/lib.sh"

B=$T/proc
make_bundle "$B"
jq_edit "$B" ".root.readonly = false"

# ---------------------------------------------------------------- capabilities
# ctrmgr-oci spec: AUDIT_WRITE(29), KILL(5), NET_BIND_SERVICE(10) = 0x20000420
check_output "default caps: bounding/effective/permitted as given, no inheritable, no ambient" \
        "^inh=0000000000000000 prm=0000000020000420 eff=0000000020000420 bnd=0000000020000420 amb=0000000000000000$" \
        run_in "$B" /probe caps
jq_edit "$B" '.process.capabilities = { bounding: ["CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"],
        effective: ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"], permitted: ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
        inheritable: ["CAP_NET_BIND_SERVICE"], ambient: ["CAP_NET_BIND_SERVICE"] }'
check_output "all five sets as given (ambient needs inheritable)" \
        "^inh=0000000000000400 prm=0000000000000401 eff=0000000000000401 bnd=0000000000200401 amb=0000000000000400$" \
        run_in "$B" /probe caps
jq_edit "$B" '.process.capabilities = { bounding: ["CAP_CHOWN"], effective: ["CAP_CHOWN"], permitted: ["CAP_CHOWN"] }'
check_output "no capabilities given as inheritable means none" "^inh=0000000000000000 .* amb=0000000000000000$" \
        run_in "$B" /probe caps
jq_edit "$B" '.process.capabilities.bounding = ["CAP_BOGUS"]'
check_output "an unknown capability is an error naming it" "CAP_BOGUS" run_in "$B" true
jq_edit "$B" '.process.capabilities = { bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"] }'

# ---------------------------------------------------------------- no_new_privs
check_output "noNewPrivileges: true" "^1$" run_in "$B" /probe nnp
jq_edit "$B" '.process.noNewPrivileges = false'
check_output "noNewPrivileges: false" "^0$" run_in "$B" /probe nnp
jq_edit "$B" '.process.noNewPrivileges = true'

# ---------------------------------------------------------------- user, groups, umask
jq_edit "$B" '.process.user = { uid: 1000, gid: 1001, additionalGids: [5, 7], umask: 23 }'
check_output "uid, gid and additional gids" "^uid=1000 gid=1001 groups=5,7$" run_in "$B" /probe ids
check_output "umask" "^0027$" run_in "$B" /probe umask
check_output "a non-root user has no effective capabilities" "eff=0000000000000000" run_in "$B" /probe caps
jq_edit "$B" '.process.user = { uid: 0, gid: 0 }'
check_output "default umask 0022" "^0022$" run_in "$B" /probe umask

# ---------------------------------------------------------------- rlimits
jq_edit "$B" '.process.rlimits = [ { type: "RLIMIT_NOFILE", soft: 512, hard: 1000 },
        { type: "RLIMIT_CORE", soft: 0, hard: 0 } ]'
check_output "RLIMIT_NOFILE" "^512 1000$" run_in "$B" /probe rlimit NOFILE
check_output "RLIMIT_CORE" "^0 0$" run_in "$B" /probe rlimit CORE
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ]; then
        jq_edit "$B" --argjson h $((hard + 1000)) '.process.rlimits = [ { type: "RLIMIT_NOFILE", soft: $h, hard: $h } ]'
        eff=$(awk '/^CapEff/ { print $2 }' /proc/self/status)
        if (( (16#$eff >> 24) & 1 )); then # CAP_SYS_RESOURCE
                check_output "a hard limit above ours is applied (we hold CAP_SYS_RESOURCE)" "^$((hard + 1000)) $((hard + 1000))$" \
                        run_in "$B" /probe rlimit NOFILE
        else
                check_output "a hard limit above ours is kept at ours (no CAP_SYS_RESOURCE)" "^$hard $hard$" \
                        run_in "$B" /probe rlimit NOFILE
        fi
fi
jq_edit "$B" '.process.rlimits = [ { type: "RLIMIT_BOGUS", soft: 1, hard: 1 } ]'
check_output "an unknown rlimit names the JSON path" "process\.rlimits\[0\]" run_in "$B" true
jq_edit "$B" '.process.rlimits = [ { type: "RLIMIT_NOFILE", soft: 1024, hard: 1024 } ]'

# ---------------------------------------------------------------- env, cwd, oomScoreAdj
jq_edit "$B" '.process.env += ["CTRMGR_TEST=hello world"]'
check_output "env" "^CTRMGR_TEST=hello world$" run_in "$B" env
jq_edit "$B" '.process.cwd = "/tmp"'
check_output "cwd" "^/tmp$" run_in "$B" /probe cwd
jq_edit "$B" '.process.cwd = "/does/not/exist"'
check_output "a missing cwd is refused, naming it" "process\.cwd: /does/not/exist: No such file" \
        run_in "$B" /probe cwd
jq_edit "$B" '.process.cwd = "/" | .process.oomScoreAdj = 500'
check_output "oomScoreAdj" "^500$" run_in "$B" cat /proc/self/oom_score_adj
jq_edit "$B" 'del(.process.oomScoreAdj)'

# ---------------------------------------------------------------- scheduler, ioPriority, personality
jq_edit "$B" '.process.scheduler = { policy: "SCHED_BATCH", nice: 5 } | .process.ioPriority = { class: "IOPRIO_CLASS_BE", priority: 6 }'
check_eq "scheduler (SCHED_BATCH, nice 5) and ioPriority (best effort, 6)" "policy=3 nice=5 ioprio-class=2 ioprio=6" \
        run_in "$B" /probe sched
jq_edit "$B" 'del(.process.scheduler) | del(.process.ioPriority) | .linux.personality = { domain: "LINUX32" }'
check_output "personality LINUX32" "^i[3-6]86$" run_in "$B" uname -m
jq_edit "$B" 'del(.linux.personality)'
check_output "default personality" "^x86_64$" run_in "$B" uname -m

# ---------------------------------------------------------------- seccomp
jq_edit "$B" '.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
        syscalls: [
          { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 18,
            args: [ { index: 1, value: 448, op: "SCMP_CMP_EQ" } ] },
          { names: ["sethostname"], action: "SCMP_ACT_ERRNO" } ] }'
check_output "seccomp: a filter is installed" "^Seccomp:[[:space:]]+2$" run_in "$B" grep Seccomp: /proc/self/status
check_output "seccomp: denied by default errno (EPERM)" "^error EPERM$" run_in "$B" /probe sethostname x
check_output "seccomp: errnoRet with an argument condition that matches" "^error EXDEV$" \
        run_in "$B" /probe mkdir /tmp/a 0700
check_output "seccomp: the same call with another argument is allowed" "^ok$" run_in "$B" /probe mkdir /tmp/b 0755
jq_edit "$B" '.linux.seccomp = { defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38,
        syscalls: [ { names: ["execve", "brk", "arch_prctl", "set_tid_address", "set_robust_list",
          "rseq", "prlimit64", "readlinkat", "getrandom", "mprotect", "uname", "write", "exit_group",
          "newfstatat", "fstat", "ioctl", "prctl", "capget", "capset", "setresuid", "setresgid",
          "setgroups", "close", "close_range", "fcntl", "getuid", "getgid", "getgroups",
          "mmap", "munmap", "mremap", "madvise", "sigaltstack", "rt_sigaction", "rt_sigprocmask",
          "rt_sigreturn", "getpid", "gettid", "tgkill", "futex", "sched_yield", "openat", "read",
          "pread64", "lseek", "dup", "dup2", "dup3", "exit", "sysinfo", "getrlimit", "umask" ],
          action: "SCMP_ACT_ALLOW" } ] }'
# (the allow list also holds what the runtime itself calls between installing the filter and
# execve, under ASan too)
check_output "seccomp: defaultAction ERRNO with defaultErrnoRet" "^error ENOSYS$" run_in "$B" /probe mkdir /tmp/c
jq_edit "$B" '.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [ { names: ["getppid"], action: "SCMP_ACT_KILL_PROCESS" } ] }'
rc=0; run_in "$B" sh -c 'echo $PPID' >/dev/null 2>&1 || rc=$?
if [ "$rc" = 159 ] || [ "$rc" = 137 ]; then pass "seccomp: SCMP_ACT_KILL_PROCESS kills (SIGSYS)"; else fail "seccomp: SCMP_ACT_KILL_PROCESS kills (status $rc)"; fi
jq_edit "$B" '.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [ { names: ["bogus_call"], action: "SCMP_ACT_ERRNO" } ] }'
check "seccomp: an unknown syscall name is ignored (as runc and crun do)" run_in "$B" true
jq_edit "$B" '.linux.seccomp = { defaultAction: "SCMP_ACT_NOPE" }'
check_output "seccomp: an unknown action names the JSON path" "linux\.seccomp\.defaultAction" run_in "$B" true
jq_edit "$B" 'del(.linux.seccomp)'

# The profile is read from the text of config.json, json-c parsing the rest (runtime/spec.c):
# it must be the one json-c takes, also where json-c's rules and extensions decide. The texts
# below are edited with sed (jq would undo what is tested), the container run directly.
sc_errno() { # sc_errno ERRNO: a profile that fails sethostname with ERRNO
        printf '{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ["sethostname"], "action": "SCMP_ACT_ERRNO", "errnoRet": %s } ] }' "$1"
}
cp "$B/config.json" "$T/config.json.saved"
set_args "$B" /probe sethostname x
sc_run() { # sc_run JQ-FILTER SED-SCRIPT: the config from jq, then sed, then run
        jq --argjson a "$(sc_errno 18)" --argjson b "$(sc_errno 95)" "$1" "$T/config.json.args" | sed "$2" >"$B/config.json"
        run_seq=$((run_seq + 1))
        oci run --bundle "$B" "sc$run_seq" </dev/null
}
cp "$B/config.json" "$T/config.json.args"
check_output "seccomp: of two linux.seccomp, the last is the profile" "^error EOPNOTSUPP$" \
        sc_run '.linux.seccomp = $a | .linux.zzzz = $b' 's/"zzzz"/"seccomp"/'
check_output "... also when the other comes first" "^error EXDEV$" \
        sc_run '.linux.zzzz = $b | .linux.seccomp = $a' 's/"zzzz"/"seccomp"/'
check_output "... and of two linux, the last, however spelled (linu\\u0078)" "^error EOPNOTSUPP$" \
        sc_run '.linux.seccomp = $a | .zzzz = (.linux | .seccomp = $b)' 's/"zzzz"/"linu\\u0078"/'
check_output "... with a comment (json-c's extension) and an escape in it" "^error EXDEV$" \
        sc_run '.linux.seccomp = $a' 's|"sethostname" *\]|"\\u0073ethostname" /* a comment */ ]|'
sc_run '.linux.seccomp = $a' 's/"errnoRet": *18/"errnoRet": 18 18/' >"$T/sc.out" 2>&1
bad=$(grep -bo '18 18' "$B/config.json" | cut -d: -f1)
check_output "... and a syntax error in it fails the config, naming its byte" "invalid JSON at byte $((bad + 3)):" \
        cat "$T/sc.out"
cp "$T/config.json.saved" "$B/config.json"

# ---------------------------------------------------------------- seccomp SCMP_ACT_NOTIFY
# The listener goes to linux.seccomp.listenerPath with the container process state (runtime-spec):
# a seccomp agent (probe seccomp-agent) receives it and answers the container's mkdir.
agent() { # agent SOCKET OUTPUT: starts an agent answering ENOTBLK; its pid in $apid
        rm -f "$1"
        "$PROBE" seccomp-agent "$1" ENOTBLK >"$2" 2>&1 &
        apid=$!
        wait_for 5 test -S "$1"
}
notify_profile() { # notify_profile LISTENER
        jq_edit "$B" --arg l "$1" '.annotations = { "org.ctrmgr.test": "notify" }
                | .linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", listenerPath: $l, listenerMetadata: "hello-agent",
                        syscalls: [ { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY" } ] }'
}
state_of() { sed -n 's/^state: //p' "$1"; }
agent "$T/agent.sock" "$T/agent.out"
notify_profile "$T/agent.sock"
check_output "SCMP_ACT_NOTIFY: the agent at listenerPath answers the notified call" "^error ENOTBLK$" \
        run_in "$B" /probe mkdir /tmp/notified
wait_for 5 gone "$apid"; kill "$apid" 2>/dev/null; wait "$apid" 2>/dev/null
check_output "... it was told of the call" "^notification: nr=(83|258) pid=[0-9]+$" cat "$T/agent.out"
check_eq "... the listener came with the container process state: fds, metadata, pid" \
        "seccompFd hello-agent true" sh -c "sed -n 's/^state: //p' '$T/agent.out' | jq -r '\"\\(.fds[0]) \\(.metadata) \\(.pid == .state.pid and .pid > 0)\"'"
check_eq "... and the container's state: id, status, annotations" "r$run_seq-proc created notify" \
        sh -c "sed -n 's/^state: //p' '$T/agent.out' | jq -r '\"\\(.state.id) \\(.state.status) \\(.state.annotations[\"org.ctrmgr.test\"])\"'"
check "... the directory was not made" test ! -e "$B/rootfs/tmp/notified"
# exec: its own filter, its own listener, its own connection
agent "$T/agent-init.sock" "$T/agent-init.out"
ipid=$apid
notify_profile "$T/agent-init.sock"
set_args "$B" sleep 100
oci create --bundle "$B" notif </dev/null >/dev/null 2>&1
oci start notif
check_output "exec: the init's listener went to its agent at start" '"status":"created"' cat "$T/agent-init.out"
agent "$T/agent-exec.sock" "$T/agent-exec.out"
jq -n --arg l "$T/agent-exec.sock" '{ args: ["/probe", "mkdir", "/tmp/x"], cwd: "/" }' >"$T/p-notif.json"
# The exec'd process gets the container's filter, whose listenerPath is the saved config's: point
# it at the second agent by swapping the socket files.
mv "$T/agent-init.sock" "$T/agent-init.sock.away"
ln -s "$T/agent-exec.sock" "$T/agent-init.sock"
check_eq "exec: the exec'd process's listener reaches an agent, which answers" "error ENOTBLK" \
        oci exec --process "$T/p-notif.json" notif
wait_for 5 grep -q '^notification' "$T/agent-exec.out"
check_eq "... with the state of the running container (its init) and the exec'd pid" "running true true" \
        sh -c "sed -n 's/^state: //p' '$T/agent-exec.out' | jq -r --argjson i \"\$('$OCI' --root '$ROOT' state notif | jq .pid)\" '\"\\(.state.status) \\(.state.pid == \$i) \\(.pid != .state.pid)\"'"
oci delete --force notif
wait_for 5 gone "$ipid"; kill "$ipid" "$apid" 2>/dev/null; wait "$ipid" "$apid" 2>/dev/null
rm -f "$T/agent-init.sock"
# an agent that is not there: an error, and nothing runs unsupervised
notify_profile "$T/nobody.sock"
check_output "a listenerPath nobody listens on fails the container, naming it" \
        "linux\.seccomp\.listenerPath $T/nobody\.sock: No such file" run_in "$B" echo ran
check_no_output "... and the process did not run" "^ran$" sh -c "'$OCI' --root '$ROOT' run --bundle '$B' nobody </dev/null 2>&1 || true"
jq_edit "$B" 'del(.linux.seccomp) | del(.annotations)'

# ---------------------------------------------------------------- LSM labels
# On a host without AppArmor/SELinux a label is refused at create, saying which LSM is missing (not
# at start with a raw errno of /proc/<tid>/attr/...). The messages matched here are the whole
# reason, so that a message that only names the field cannot pass.
if [ -d /sys/kernel/security/apparmor ] || [ -e /sys/fs/selinux/enforce ]; then
        skip "LSM labels without an LSM give a clear error at create" "this host has AppArmor or SELinux"
else
        jq_edit "$B" '.process.apparmorProfile = "ctrmgr-test"'
        check_output "apparmorProfile on a host without AppArmor: refused at create" \
                '^ctrmgr-oci: create: process\.apparmorProfile "ctrmgr-test": AppArmor is not enabled on this host$' \
                oci create --bundle "$B" lsm1
        check_fails "... leaving no container" oci state lsm1
        jq_edit "$B" 'del(.process.apparmorProfile) | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
        check_output "selinuxLabel on a host without SELinux: refused at create" \
                '^ctrmgr-oci: create: process\.selinuxLabel "[^"]*": SELinux is not enabled on this host$' \
                oci create --bundle "$B" lsm2
        check_fails "... leaving no container" oci state lsm2
        jq_edit "$B" 'del(.process.selinuxLabel) | .linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"'
        check_output "linux.mountLabel on a host without SELinux: refused at create, not ignored" \
                '^ctrmgr-oci: create: linux\.mountLabel "[^"]*": SELinux is not enabled on this host$' \
                oci create --bundle "$B" lsm3
        check_fails "... leaving no container" oci state lsm3
        jq_edit "$B" 'del(.linux.mountLabel)'
        set_args "$B" sleep 100
        oci create --bundle "$B" lsm4 </dev/null >/dev/null 2>&1
        oci start lsm4
        jq -n '{ args: ["true"], cwd: "/", apparmorProfile: "ctrmgr-test" }' >"$T/p-aa.json"
        check_output "exec --process with apparmorProfile: the same error" \
                '^ctrmgr-oci: exec: process\.apparmorProfile "ctrmgr-test": AppArmor is not enabled on this host$' \
                oci exec --process "$T/p-aa.json" lsm4
        oci delete --force lsm4
fi

finish
