#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ctrmgr-oci's remaining command line: the console socket (create/run and exec --tty), --no-pivot,
# --log/--log-format, spec (--rootless), features, --version.
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
