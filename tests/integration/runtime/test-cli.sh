#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ctrmgr-oci's remaining command line: the console socket (create/run and exec --tty), --no-pivot,
# --log/--log-format, --debug/--log-level, --help of the verbs, the seccomp cache outside the
# container ids, spec (--rootless), features, --version.
source "$(dirname "$0")/lib.sh"

B=$T/cli
make_bundle "$B" sh -c 'if [ -t 0 ] && [ -t 1 ]; then echo "a tty: $(tty)"; fi; ls -l /dev/console'

# ---------------------------------------------------------------- console socket
jq_edit "$B" '.process.terminal = true | .process.consoleSize = { height: 40, width: 123 }'
check_output "terminal without --console-socket is refused with a clear error" "console socket" \
        oci run --bundle "$B" tty0
"$PROBE" recvtty "$T/tty.sock" >"$T/tty.out" 2>"$T/tty.err" &
rpid=$!
wait_for 5 test -S "$T/tty.sock"
check "run --console-socket" oci run --console-socket "$T/tty.sock" --bundle "$B" tty1
wait "$rpid"
check_output "the process has the pty on stdin/stdout" "a tty: /dev/" cat "$T/tty.out"
check_output "/dev/console is the pty (a char device)" "^c" cat "$T/tty.out"
"$PROBE" recvtty "$T/tty2.sock" >"$T/tty2.out" 2>/dev/null &
rpid=$!
wait_for 5 test -S "$T/tty2.sock"
set_args "$B" sh -c 'stty size'
oci run --console-socket "$T/tty2.sock" --bundle "$B" tty2 >/dev/null 2>&1
wait "$rpid"
check_output "process.consoleSize" "^40 123" cat "$T/tty2.out"

jq_edit "$B" '.process.terminal = false'
set_args "$B" sleep 100
oci create --bundle "$B" ex </dev/null >/dev/null 2>&1
oci start ex
"$PROBE" recvtty "$T/tty3.sock" >"$T/tty3.out" 2>/dev/null &
rpid=$!
wait_for 5 test -S "$T/tty3.sock"
check "exec --tty --console-socket" oci exec --tty --console-socket "$T/tty3.sock" ex sh -c '[ -t 0 ] && echo exec-tty'
wait "$rpid"
check_output "exec --tty: the process has a pty" "exec-tty" cat "$T/tty3.out"
oci delete --force ex

# ---------------------------------------------------------------- --no-pivot
set_args "$B" ls /
check_output "run --no-pivot: the container runs with the rootfs as /" "^probe$" oci run --no-pivot --bundle "$B" np
set_args "$B" /probe open /proc/1/root/../../../../etc/hostname
check_eq "... and cannot climb out of it" "error ENOENT" oci run --no-pivot --bundle "$B" np2

# ---------------------------------------------------------------- --log, --log-format
check_fails "an error with --log" "$OCI" --root "$ROOT" --log "$T/log.txt" state nosuch
check_output "--log (text) records it" "nosuch" cat "$T/log.txt"
check_fails "an error with --log-format json" "$OCI" --root "$ROOT" --log "$T/log.json" --log-format json state nosuch
check_eq "--log-format json writes JSON lines with level and msg" "error" sh -c "jq -r .level '$T/log.json' | head -1"

# ---------------------------------------------------------------- --help, --debug
check_output "exec --help: the usage, status 0" "^usage: ctrmgr-oci exec " oci exec --help
check "... status 0" oci exec --help
check_output "exec -h" "^usage: ctrmgr-oci exec " oci exec -h
check_output "create --help" "^usage: ctrmgr-oci create " oci create --help
set_args "$B" sleep 100
oci create --bundle "$B" hx </dev/null >/dev/null 2>&1
oci start hx
check_eq "exec ID CMD --help: the --help is the command's" "arg --help" oci exec hx sh -c 'echo arg "$1"' sh --help
oci delete --force hx

set_args "$B" true
"$OCI" --root "$ROOT" --debug run --bundle "$B" dbg </dev/null >"$T/debug.out" 2>&1
for step in "create dbg: bundle $B" "cgroup: $CGPARENT/cli" "cloned pid [0-9]+" "init: pid [0-9]+" \
        "created dbg: init pid [0-9]+" "start dbg: init pid [0-9]+" "start dbg: the process was executed" \
        "delete dbg: (running|stopped)" "delete dbg: state removed"; do
        check_output "--debug run: \"$step\"" "$step" cat "$T/debug.out"
done
check_no_output "without --debug: none of it" "create nodbg|init: pid" oci run --bundle "$B" nodbg
set_args "$B" sleep 100
oci create --bundle "$B" dbgx </dev/null >/dev/null 2>&1
oci start dbgx
check_output "--debug exec: the process and the init it joins" "exec in dbgx: pid [0-9]+ executed true" \
        "$OCI" --root "$ROOT" --debug exec dbgx true
check_output "--log-level debug is --debug" "kill dbgx: SIGKILL to its init" "$OCI" --root "$ROOT" --log-level debug kill dbgx KILL
"$OCI" --root "$ROOT" --debug --log "$T/debug.log" delete --force dbgx 2>/dev/null
check_output "--debug --log: the steps go to the log" "delete dbgx: state removed" cat "$T/debug.log"
check_fails "--log-level bogus is a usage error" "$OCI" --root "$ROOT" --log-level bogus list

# ---------------------------------------------------------------- the seccomp cache is no container id
set_args "$B" true
jq_edit "$B" '.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [ { names: ["sethostname"], action: "SCMP_ACT_ERRNO" } ] }'
check "a container with seccomp" oci run --bundle "$B" sc1
check "the compiled filter is cached in <root>/.seccomp-cache" sh -c "ls '$ROOT/.seccomp-cache/'*.bpf"
set_args "$B" sleep 100
check "a container may be called seccomp-cache" oci create --bundle "$B" seccomp-cache </dev/null
check_output "... list shows it" "^seccomp-cache$" oci list --quiet
check "... and it is deleted like any other" oci delete --force seccomp-cache
check "... which leaves the cache alone" sh -c "ls '$ROOT/.seccomp-cache/'*.bpf"
mkdir -p "$ROOT/seccomp-cache"
touch "$ROOT/seccomp-cache/0123.bpf"
check "the cache of older versions under the name seccomp-cache does not block that id" \
        oci create --bundle "$B" seccomp-cache </dev/null
oci delete --force seccomp-cache
jq_edit "$B" 'del(.linux.seccomp)'

# ---------------------------------------------------------------- spec, features, version
mkdir -p "$T/spec" "$T/rspec"
check "spec writes config.json" "$OCI" spec --bundle "$T/spec"
check_fails "spec does not overwrite an existing config.json" "$OCI" spec --bundle "$T/spec"
check "spec --rootless" "$OCI" spec --rootless --bundle "$T/rspec"
check_output "spec --rootless: a user namespace with mappings, no network namespace" "^user true false$" \
        jq -r '[(.linux.namespaces | map(.type) | (index("user") != null), (index("network") != null))] as $n | "user \($n[0]) \($n[1])"' "$T/rspec/config.json"
check "features is JSON" sh -c "'$OCI' features | jq -e '.ociVersionMax and (.linux.namespaces | index(\"user\")) and (.linux.seccomp.actions | index(\"SCMP_ACT_ERRNO\"))'"
check_output "--version" "ctrmgr-oci version" "$OCI" --version

finish
