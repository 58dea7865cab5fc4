#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Security regression tests: CVE-2019-5736 (the runtime binary is out of reach: the process is
# executed through a sealed trampoline, so /proc/self/exe in the container never is the host's
# runtime binary; the init is not dumpable before it executes), CVE-2024-21626 (no descriptor leaks, cwd checked),
# CVE-2021-30465 (mount targets resolved inside the rootfs), CVE-2019-19921/2023-27561 (/proc
# must be a directory), CVE-2022-29162 (no inheritable capabilities on exec), and runc's 2025
# advisories: CVE-2025-31133 (masks from a /dev/null the container controls), CVE-2025-52565
# (/dev/console mounted through a path the container controls), CVE-2025-52881 (writes to /proc
# redirected by mounts that shadow /proc/sys or /proc/self/attr).
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

# The container's program is executed through the exec trampoline (runtime/trampoline.c), never by
# the runtime itself: a program or an interpreter "/proc/self/exe" is then the sealed trampoline
# (which refuses to run), not the host's runtime binary. The runtime under test is a copy of the
# built one, so that a failing test cannot damage the build; the rootfs has its shared libraries,
# so that it would run inside if it were reached.
V=$T/victim-oci
cp "$OCI" "$V"
vsum=$(sha256sum <"$V")
voci() { "$V" --root "$ROOT" "$@"; }
X=$T/selfexe
make_bundle "$X" sleep 100
jq_edit "$X" '.root.readonly = false'
for lib in $(ldd "$V" | awk '/=>/ { print $3 } /^[[:space:]]*\// { print $1 }'); do
        mkdir -p "$X/rootfs$(dirname "$lib")"
        cp -L "$lib" "$X/rootfs$lib"
done
set_args "$X" /proc/self/exe --version
rc=0; voci run --bundle "$X" selfexe </dev/null >"$T/selfexe.out" 2>&1 || rc=$?
if grep -q "ctrmgr-oci version" "$T/selfexe.out"; then fail "process /proc/self/exe does not run the host's runtime binary"; show "$T/selfexe.out"
else pass "process /proc/self/exe does not run the host's runtime binary"; fi
check_eq "... it is the exec trampoline, which refuses to run (status 127)" "127" echo "$rc"
check_output "... and says why" "exec trampoline, not a program" cat "$T/selfexe.out"
printf '#!/proc/self/exe --version\n' >"$X/rootfs/selfexe.sh"
chmod 755 "$X/rootfs/selfexe.sh"
set_args "$X" /selfexe.sh
rc=0; voci run --bundle "$X" selfexe2 </dev/null >"$T/out" 2>&1 || rc=$?
if grep -q "ctrmgr-oci version" "$T/out" || [ $rc -eq 0 ]; then fail "a #!/proc/self/exe script does not run the host's runtime binary"; show "$T/out"
else pass "a #!/proc/self/exe script does not run the host's runtime binary"; fi
# The write attack: one exec'd process runs /proc/self/exe, another holds its /proc/PID/exe open
# and writes through it once the first has exited (the binary is no longer busy then).
set_args "$X" sleep 100
voci create --bundle "$X" selfexe3 </dev/null >/dev/null 2>&1
voci start selfexe3
voci exec --detach selfexe3 sh -c 'end=$(($(date +%s) + 6)); while [ $(date +%s) -lt $end ]; do
        for p in /proc/[0-9]*; do
                case "$(readlink $p/exe 2>/dev/null)" in */bin/busybox|/probe|"") continue ;; esac
                exec 3<"$p/exe" || continue
                echo "holding $(readlink $p/exe) of $p" >/tmp/attack
                while [ -e "$p/exe" ]; do sleep 0.05; done
                sleep 1
                if echo "#PWNED" >>/proc/self/fd/3; then echo WROTE >>/tmp/attack; else echo "write failed" >>/tmp/attack; fi
                exit 0
        done
done; echo "nothing found" >/tmp/attack'
sleep 0.3
sh -c "sleep 2 | '$V' --root '$ROOT' exec selfexe3 /proc/self/exe update --resources - nosuch" >"$T/out" 2>&1
wait_for 10 test -s "$X/rootfs/tmp/attack"
wait_for 5 grep -q -e WROTE -e "write failed" -e "nothing found" "$X/rootfs/tmp/attack"
log "attacker: $(tr '\n' ' ' <"$X/rootfs/tmp/attack" 2>/dev/null)"
check "exec /proc/self/exe: the runtime binary is unchanged (sha256)" test "$(sha256sum <"$V")" = "$vsum"
check_fails "... the attacker did not write it" grep -q WROTE "$X/rootfs/tmp/attack"
voci delete --force selfexe3
# While created, the init holds its copy of the trampoline: sealed, so that even the host's root
# cannot change it.
voci create --bundle "$X" selfexe4 </dev/null >/dev/null 2>&1
ipid=$(voci state selfexe4 | jq -r .pid)
tfd=$(for f in /proc/"$ipid"/fd/*; do case "$(readlink "$f")" in /memfd:ctrmgr-exec*) echo "$f"; break ;; esac; done)
check "created: the init holds the trampoline in a memfd" test -n "$tfd"
check_fails "... which cannot be written" sh -c "echo x >>'$tfd'"
check_fails "... nor truncated" truncate -s 0 "$tfd"
check_output "... and is the trampoline" "ctrmgr-exec" sh -c "'$tfd' 2>&1"
voci delete --force selfexe4
check "the runtime binary is still unchanged at the end" test "$(sha256sum <"$V")" = "$vsum"
rm -rf "$X"

# The trampoline's execve (and the runtime's execveat) pass the default seccomp profile.
profile=/usr/share/containers/seccomp.json
if [ -r "$profile" ] && [ "$(uname -m)" = x86_64 ]; then
        D=$T/defprofile
        make_bundle "$D" sleep 100
        caps=$(jq -c '.process.capabilities.bounding' "$D/config.json")
        jq --argjson caps "$caps" '{ defaultAction, defaultErrnoRet,
                architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                syscalls: [ .syscalls[]
                        | select(((.includes.caps // []) - $caps) == [])
                        | select((.includes.arches // ["amd64"]) | index("amd64"))
                        | select(((.excludes.caps // []) - ((.excludes.caps // []) - $caps)) == [])
                        | select(((.excludes.arches // []) | index("amd64")) | not)
                        | { names, action, errnoRet, args } | with_entries(select(.value != null)) ] }' \
                "$profile" >"$T/defprofile.json"
        jq_edit "$D" --slurpfile s "$T/defprofile.json" '.linux.seccomp = $s[0]'
        check_eq "the default seccomp profile: the process runs" "uid=0 gid=0 groups=" run_in "$D" /probe ids
        set_args "$D" sleep 100
        oci create --bundle "$D" defprof </dev/null >/dev/null 2>&1
        oci start defprof
        check_eq "the default seccomp profile: exec runs" "2" oci exec defprof sh -c 'grep ^Seccomp: /proc/self/status | tr -dc 0-9'
        oci delete --force defprof
else
        skip "the default seccomp profile" "no $profile, or not x86_64"
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

# ---------------------------------------------------------------- CVE-2025-31133
# A /dev the container controls (here a bind of a directory of ours, as a racing container with a
# shared volume could arrange) whose "null" is a symlink to a file of the rootfs. runc bound "the
# container's /dev/null" over each masked file, following the symlink, so the masked path became
# a writable bind of its target (a procfs knob in the advisory). Masks must use the host's null
# device, opened and checked before the container existed.
M=$T/mask
make_bundle "$M" sh -c 'stat -c "%F %t:%T" /etc/masked; cat /etc/masked; echo end'
mkdir -p "$T/evildev"
ln -s ../etc/target "$T/evildev/null"
echo SECRET >"$M/rootfs/etc/masked"
echo TARGET >"$M/rootfs/etc/target"
jq_edit "$M" --arg d "$T/evildev" '.mounts |= map(select(.destination | startswith("/dev") | not))
        | .mounts += [ { destination: "/dev", type: "bind", source: $d, options: ["rbind"] } ]
        | .linux.maskedPaths += ["/etc/masked"]'
check_eq "CVE-2025-31133: a masked file with /dev/null a symlink in the container: the host's null device" \
        "character special file 1:3
end" oci run --bundle "$M" mask1
check_eq "... the symlink's target is untouched" "TARGET" cat "$M/rootfs/etc/target"
rm "$T/evildev/null"
echo "not a device" >"$T/evildev/null"
check_eq "CVE-2025-31133: ... and with /dev/null a regular file" "character special file 1:3
end" oci run --bundle "$M" mask2

# ---------------------------------------------------------------- CVE-2025-52565
# The console is the pty the runtime holds, mounted from its descriptor onto a /dev/console that
# is opened without following symlinks: a /dev/console the container made a symlink must not
# bring the pty (or anything) onto its target. runc mounted /dev/pts/N by path.
C=$T/console
make_bundle "$C" sh -c 'stat -c %F /etc/target; stat -c %F /dev/console'
echo TARGET >"$C/rootfs/etc/target"
mkdir -p "$T/condev"
ln -s ../etc/target "$T/condev/console"
jq_edit "$C" --arg d "$T/condev" '.process.terminal = true
        | .mounts |= map(select(.destination != "/dev"))
        | .mounts = [ { destination: "/dev", type: "bind", source: $d, options: ["rbind"] } ] + .mounts'
"$PROBE" recvtty "$T/con.sock" >"$T/con.out" 2>/dev/null &
rpid=$!
wait_for 5 test -S "$T/con.sock"
check_output "CVE-2025-52565: a /dev/console symlink is not followed (the container is refused)" \
        "/dev/console.*(symbolic links|ELOOP)" oci run --console-socket "$T/con.sock" --bundle "$C" con1
wait_for 5 gone "$rpid"; kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
check_fails "... and its target was not mounted over (it ran nothing)" grep -q "character special" "$T/con.out"
rm -rf "$T/condev/console" "$T/condev/pts"
mkdir -p "$T/condev/pts.real"
ln -s pts.real "$T/condev/pts"
jq_edit "$C" '.mounts |= map(select(.destination != "/dev/pts"))'
"$PROBE" recvtty "$T/con2.sock" >"$T/con2.out" 2>/dev/null &
rpid=$!
wait_for 5 test -S "$T/con2.sock"
check_output "... nor a /dev/pts symlink (the pty comes from a checked devpts)" "/dev/pts.*(symbolic links|not a devpts)" \
        oci run --console-socket "$T/con2.sock" --bundle "$C" con2
wait_for 5 gone "$rpid"; kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null

# ---------------------------------------------------------------- CVE-2025-52881
# sysctls are written through a private procfs instance, never through the container's /proc,
# where mounts (from config.json, or a racing container's shared volume) may shadow the file: a
# bind over /proc/sys/net/ipv4/ip_forward must receive nothing, and the real sysctl of the
# container's network namespace must be set. (/proc/sys is left writable here, so that a write
# through the container's /proc would land in the bind rather than fail.)
S=$T/sysctl
make_bundle "$S" sleep 100
echo fake >"$T/fake-ipfwd"
echo fake >"$T/fake-domain"
jq_edit "$S" --arg f "$T/fake-ipfwd" --arg g "$T/fake-domain" '.mounts += [
        { destination: "/proc/sys/net/ipv4/ip_forward", type: "bind", source: $f, options: ["bind"] },
        { destination: "/proc/sys/kernel/domainname", type: "bind", source: $g, options: ["bind"] } ]
        | .linux.sysctl = { "net.ipv4.ip_forward": "1", "kernel.domainname": "ctrdomain" }
        | .linux.readonlyPaths -= ["/proc/sys"]'
oci create --bundle "$S" shadow </dev/null >/dev/null 2>&1
spid=$(pid_of shadow)
check_eq "CVE-2025-52881: a bind shadowing /proc/sys/net/ipv4/ip_forward receives no sysctl write" "fake" cat "$T/fake-ipfwd"
check_eq "... nor one over /proc/sys/kernel/domainname" "fake" cat "$T/fake-domain"
check_eq "... the container's network namespace has the sysctl" "1" nsenter -t "$spid" -n cat /proc/sys/net/ipv4/ip_forward
check_eq "... and its UTS namespace" "ctrdomain" nsenter -t "$spid" -u cat /proc/sys/kernel/domainname
oci delete --force shadow
# The LSM exec labels go the same way (the trampoline opens attr/ of the private procfs); without
# AppArmor or SELinux here they are refused at create (test-process.sh), so nothing to shadow.

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
