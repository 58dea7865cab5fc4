#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The OCI lifecycle through ctrmgr-oci: create, state, start, kill, delete, run, list.
source "$(dirname "$0")/lib.sh"

B=$T/life
make_bundle "$B" sh -c 'echo "started as $$ on $(hostname)"; exec sleep 100'

# ---------------------------------------------------------------- create / start / kill / delete
oci create --bundle "$B" --pid-file "$T/life.pid" life >"$T/create.out" 2>&1 </dev/null
check "create leaves a created container" test "$(status_of life)" = created
pid=$(pid_of life)
check "the pid file names the init" test "$(cat "$T/life.pid")" = "$pid"
check "the init is alive in its own mount namespace" \
        test "$(readlink /proc/"$pid"/ns/mnt)" != "$(readlink /proc/self/ns/mnt)"
check "the init is in its own pid namespace" \
        test "$(readlink /proc/"$pid"/ns/pid)" != "$(readlink /proc/self/ns/pid)"
check "the init is in the cgroup of cgroupsPath" grep -qx "$pid" "$CG2$CGPARENT/life/cgroup.procs"
check "nothing ran before start" test ! -s "$T/create.out"
check_output "list shows the created container" "^life +$pid +created" oci list
check_output "list --format json" "\"id\": *\"life\"" oci list --format json

check "start" oci start life
check "state is running" test "$(status_of life)" = running
check "the process writes to create's stdout" wait_for 5 grep -q "started as 1 on ctrmgr" "$T/create.out"
check_fails "a second start is refused" oci start life

check "kill with a signal name" oci kill life TERM
check "sh as pid 1 ignores TERM: still running" test "$(status_of life)" = running
check "kill with a number" oci kill life 9
check "state is stopped" wait_for 5 status_is life stopped
check "the init is gone" wait_for 5 gone "$pid"
check "delete" oci delete life
check_fails "state of a deleted container fails" oci state life
check "the state dir is gone" test ! -e "$ROOT/life"
check "the cgroup is gone" test ! -e "$CG2$CGPARENT/life"

# ---------------------------------------------------------------- delete --force, kill --all
oci create --bundle "$B" busy >/dev/null 2>&1 </dev/null
oci start busy
pid=$(pid_of busy)
check_fails "delete of a running container without --force is refused" oci delete busy
check "kill --all" oci kill --all busy KILL
check "kill --all stops it" wait_for 5 status_is busy stopped
check "delete after kill --all" oci delete busy
oci create --bundle "$B" busy2 >/dev/null 2>&1 </dev/null
oci start busy2
pid=$(pid_of busy2)
check "delete --force of a running container" oci delete --force busy2
check "delete --force killed the init" wait_for 5 gone "$pid"
check "delete --force removed the cgroup" test ! -e "$CG2$CGPARENT/busy2"
oci create --bundle "$B" created-only >/dev/null 2>&1 </dev/null
pid=$(pid_of created-only)
check "delete --force of a created container" oci delete --force created-only
check "its init is gone" wait_for 5 gone "$pid"

# ---------------------------------------------------------------- run
R=$T/run
make_bundle "$R" sh -c 'echo out; echo err >&2; exit 3'
rc=0
oci run --bundle "$R" runner >"$T/run.out" 2>"$T/run.err" </dev/null || rc=$?
check "run returns the exit status of the process" test "$rc" = 3
check "run: stdout" grep -qx out "$T/run.out"
check "run: stderr" grep -qx err "$T/run.err"
check "run deletes the container afterwards" test ! -e "$ROOT/runner"
echo "from stdin" >"$T/in"
set_args "$R" /probe stdin
check_output "run: stdin" "^from stdin$" oci run --bundle "$R" runner2 <"$T/in"

set_args "$R" sleep 100
check "run --detach" oci run --detach --bundle "$R" detached </dev/null
check "run --detach leaves it running" test "$(status_of detached)" = running
check "delete --force the detached one" oci delete --force detached

check_fails "create with an invalid id is refused" oci create --bundle "$R" ../evil
oci create --bundle "$R" dup >/dev/null 2>&1 </dev/null
check_output "create of an existing id is refused" 'already exists' oci create --bundle "$R" dup
oci delete --force dup >/dev/null 2>&1 || true

# ---------------------------------------------------------------- a program that cannot be executed
# (executed through the exec trampoline, whose execve failures reach `start` as the runtime's own
# did: the program and the reason)
printf '#!/nonexistent/interpreter\n' >"$R/rootfs/badinterp.sh"
printf 'not a program\n' >"$R/rootfs/notelf"
chmod 755 "$R/rootfs/badinterp.sh" "$R/rootfs/notelf"
set_args "$R" /badinterp.sh
oci create --bundle "$R" badexec >/dev/null 2>&1 </dev/null
check_output "start of a script with a missing interpreter fails, naming the program and ENOENT" \
        "start: executing /badinterp\.sh: No such file or directory" oci start badexec
oci delete --force badexec >/dev/null 2>&1
set_args "$R" /notelf
rc=0; oci run --bundle "$R" badexec2 >"$T/badexec.out" 2>&1 </dev/null || rc=$?
check_output "run of a file that is no program fails, naming it and ENOEXEC" \
        "executing /notelf: Exec format error" cat "$T/badexec.out"
check_eq "... with status 1, the runtime's, not the process's" 1 echo "$rc"
set_args "$R" nosuchprogram
check_output "a program not found along PATH is named" 'executable "nosuchprogram" not found' \
        oci run --bundle "$R" badexec3

check_output "an error in config.json names the JSON path" 'linux\.namespaces\[0\]\.type' \
        sh -c "jq '.linux.namespaces[0].type = \"bogus\"' '$R/config.json' >'$T/bad.json' && mkdir -p '$T/bad' && cp '$T/bad.json' '$T/bad/config.json' && ln -s '$R/rootfs' '$T/bad/rootfs' && '$OCI' --root '$ROOT' create --bundle '$T/bad' bad"

# ---------------------------------------------------------------- the state of older versions
# The config is kept in <root>/<id>/config.json, the record in state.json; older versions kept
# the config inside state.json, and their containers must still start, take execs and go.
O=$T/old
make_bundle "$O" sh -c 'exec sleep 100'
jq_edit "$O" --arg log "$T/old.log" '.annotations = {"org.example.k": "v"} |
        .hooks = {poststop: [{path: "/bin/sh", args: ["sh", "-c", ("echo poststop >>" + $log)]}]}'
oci create --bundle "$O" old >/dev/null 2>&1 </dev/null
check "create keeps the config as given in config.json" cmp "$O/config.json" "$ROOT/old/config.json"
check "... and not in state.json, which notes the poststop hooks" \
        sh -c "jq -e '(has(\"config\") | not) and .poststop' '$ROOT/old/state.json'"
jq --slurpfile c "$ROOT/old/config.json" '.config = $c[0] | del(.poststop)' "$ROOT/old/state.json" >"$T/old-state.json" &&
        mv "$T/old-state.json" "$ROOT/old/state.json" && rm "$ROOT/old/config.json"
check_eq "state of an older version's container has the annotations of its config" v \
        sh -c "'$OCI' --root '$ROOT' state old | jq -r '.annotations[\"org.example.k\"]'"
check "... it starts" oci start old
check "... takes an exec" oci exec old true
check "... and goes with delete --force" oci delete --force old
check "... which runs its poststop hook" grep -qx poststop "$T/old.log"

finish
