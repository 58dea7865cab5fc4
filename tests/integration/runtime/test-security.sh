#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Security regression tests: CVE-2019-5736 (the runtime binary is out of reach, the init is not
# dumpable before it executes), CVE-2024-21626 (no descriptor leaks, cwd checked),
# CVE-2021-30465 (mount targets resolved inside the rootfs), CVE-2019-19921/2023-27561 (/proc
# must be a directory), CVE-2022-29162 (no inheritable capabilities on exec).
source "$(dirname "$0")/lib.sh"

B=$T/sec
make_bundle "$B" sleep 100

# ---------------------------------------------------------------- CVE-2019-5736
# While created, the init is still a copy of ctrmgr-oci (it has not executed the container's
# program yet). A process of the container must not get at its /proc/1/exe or /proc/1/mem.
# With a user namespace the capability checks let such a process through (it holds the same
# capabilities in the same namespace), so only "not dumpable" stands in the way. (The kernel
# also drops dumpable when the init takes its user namespace credentials; the runtime makes the
# child non-dumpable before anything else, so this holds for every path.)
if unshare --user true 2>/dev/null; then
        U=$T/secuser
        make_bundle "$U" sleep 100
        jq_edit "$U" '.linux.namespaces += [ { type: "user" } ]
                | .linux.uidMappings = [ { containerID: 0, hostID: 200000, size: 1000 } ]
                | .linux.gidMappings = [ { containerID: 0, hostID: 200000, size: 1000 } ]'
        oci create --bundle "$U" sec </dev/null >/dev/null 2>&1
        pid=$(pid_of sec)
        enter() { nsenter -t "$pid" -a -r -w "$@"; }
        check_eq "created: a container process cannot open the init's /proc/1/exe (not dumpable)" "error EACCES" \
                enter /probe open /proc/1/exe p
        check_eq "created: ... nor /proc/1/mem" "error EACCES" enter /probe open /proc/1/mem r
        check_eq "created: the init's /proc files belong to the host's root (not dumpable)" "0" stat -c %u /proc/"$pid"/status
        check_eq "the runtime binary is not in the container's mount namespace" "error ENOENT" enter /probe open "$OCI" p
        oci start sec
        check_eq "running: the init is the container's program" "/bin/busybox" oci exec sec readlink /proc/1/exe
        check_eq "running: and dumpable again, as any program after execve" "1" oci exec sec /probe dumpable
        check_eq "running: control: now the same open succeeds (so the checks above can fail)" "ok" \
                enter /probe open /proc/1/exe p
        check_eq "running: control: the init's /proc files belong to its user" "200000" stat -c %u /proc/"$pid"/status
        oci delete --force sec
else
        skip "CVE-2019-5736: the init is not dumpable before it executes" "no user namespaces here"
fi

oci create --bundle "$B" sec2 </dev/null >/dev/null 2>&1
check_eq "created, no user namespace: an exec'd process cannot open the init's /proc/1/exe" "error EACCES" \
        oci exec sec2 /probe open /proc/1/exe p
check_eq "... nor open it for writing" "error EACCES" oci exec sec2 /probe open /proc/1/exe w
oci delete --force sec2

# ---------------------------------------------------------------- CVE-2024-21626
exec 7</ 8>"$T/leak" 9<"$B/config.json"
check_eq "run: no descriptor of the caller (fds 7-9 open without CLOEXEC) reaches the process" "" \
        run_in "$B" /probe fds
check_output "run --preserve-fds 1: fd 3 is passed on, nothing more" "^3 " \
        sh -c "'$OCI' --root '$ROOT' run --preserve-fds 1 --bundle '$B' pf 3<'$B/config.json' </dev/null"
check_eq "... only fd 3" "1" sh -c "'$OCI' --root '$ROOT' run --preserve-fds 1 --bundle '$B' pf2 3<'$B/config.json' </dev/null | wc -l"
set_args "$B" /probe fds
jq_edit "$B" '.process.cwd = "/proc/self/fd/7"'
check_output "cwd through a leaked host directory fd is refused" "process\.cwd: /proc/self/fd/7" \
        oci run --bundle "$B" leak </dev/null
check_fails "... and the container is not left behind" oci state leak
jq_edit "$B" '.process.cwd = "/../../../../"'
check_eq "cwd with .. stays inside the rootfs" "/" run_in "$B" /probe cwd
jq_edit "$B" '.process.cwd = "/"'
exec 7<&- 8>&- 9<&-

# ---------------------------------------------------------------- CVE-2021-30465 and friends
mkdir -p "$T/outside" "$T/marker"
touch "$T/marker/MARKER"
ln -s /etc "$B/rootfs/abs-link"
ln -s ../../../../../../../../"$T/outside" "$B/rootfs/rel-link"
# The same path inside the rootfs, where RESOLVE_IN_ROOT clamps the symlink to.
mkdir -p "$B/rootfs/$T/outside"
jq_edit "$B" --arg m "$T/marker" '.root.readonly = false | .mounts += [
        { destination: "/abs-link", type: "bind", source: $m, options: ["bind", "ro"] },
        { destination: "/rel-link", type: "tmpfs", source: "tmpfs", options: ["size=1m"] } ]'
check_eq "a mount onto a symlink to /etc lands on the rootfs' /etc" "MARKER" run_in "$B" ls /etc
check "... and the host's /etc is untouched" test ! -e /etc/MARKER
check "a mount through a symlink leaving the rootfs does not reach the host directory" \
        sh -c "[ -z \"\$(ls -A '$T/outside')\" ]"
check_output "... it lands inside the rootfs" "^tmpfs $T/outside tmpfs" run_in "$B" cat /proc/self/mounts
jq_edit "$B" '.root.readonly = true | .mounts |= .[:-2]'
rm -rf "$B/rootfs/abs-link" "$B/rootfs/rel-link" "$B/rootfs/etc/MARKER" "$B/rootfs/$T"

P=$T/procsym
make_bundle "$P" true
rmdir "$P/rootfs/proc"
ln -s /tmp "$P/rootfs/proc"
check_output "/proc as a symlink in the rootfs is refused" "/proc" oci run --bundle "$P" procsym
check "... nothing was mounted on what it points to" sh -c "! grep -q ' $P/rootfs/tmp ' /proc/self/mounts"
rm "$P/rootfs/proc"; mkdir "$P/rootfs/proc"
rmdir "$P/rootfs/sys"
ln -s /tmp "$P/rootfs/sys"
check_output "/sys as a symlink in the rootfs is refused" "/sys" oci run --bundle "$P" syssym

# ---------------------------------------------------------------- CVE-2022-29162
jq_edit "$B" '.process.capabilities = { bounding: ["CAP_KILL", "CAP_NET_BIND_SERVICE"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"] }'
set_args "$B" sleep 100
oci create --bundle "$B" caps </dev/null >/dev/null 2>&1
oci start caps
check_output "exec: no inheritable and no ambient capabilities" "^inh=0000000000000000 .* amb=0000000000000000$" \
        oci exec caps /probe caps
check_output "exec --user: no capabilities at all for a non-root user" "^inh=0+ prm=0+ eff=0+ .* amb=0+$" \
        oci exec --user 1000 caps /probe caps
oci delete --force caps

finish
