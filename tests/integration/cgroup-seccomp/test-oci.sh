#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The cgroup and seccomp parts through the real runtime (ctrmgr-oci), as the daemon and podman
# use them: the seccomp filter in the container and in exec'd processes, the compiled-filter
# cache (a repeated profile compiles nothing), pause/resume (cgroup v2 freezer), exec joining
# the container's cgroup, ps, update, kill --all, delete removing the cgroup.
#   test-oci.sh CTRMGR_OCI PROBE
# With CGSEC_DRIVER=systemd (run inside a tier-1 test host by oci-systemd-host.sh) the same
# checks use --systemd-cgroup: the container is a transient scope with Delegate=yes.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../runtime/lib.sh
source "$here/../runtime/lib.sh"

driver=${CGSEC_DRIVER:-cgroupfs}
oci() {
        if [ "$driver" = systemd ]; then
                "$OCI" --root "$ROOT" --systemd-cgroup "$@"
        else
                "$OCI" --root "$ROOT" "$@"
        fi
}
# The filesystem type is the field after "-" (the number of optional fields before it varies:
# none in a private mount namespace, so lib.sh's fixed column can miss it, e.g. in a test host).
CG2=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' \
        /proc/self/mountinfo | head -n 1)
# (TAP: a skip is the plan "1..0 # SKIP" and exit 0)
[ -n "$CG2" ] || { echo "1..0 # SKIP no cgroup2 hierarchy"; exit 0; }
if [ "$driver" = systemd ] && [ ! -d /run/systemd/system ]; then
        echo "1..0 # SKIP not running under systemd"
        exit 0
fi
log "driver $driver, cgroup2 at $CG2"

# A profile that makes mkdir/mkdirat fail with EOPNOTSUPP (95), and one with EACCES (13).
profile() {
        jq -n --argjson e "$1" '{ defaultAction: "SCMP_ACT_ALLOW", architectures: [ "SCMP_ARCH_X86_64" ],
                syscalls: [ { names: [ "mkdir", "mkdirat" ], action: "SCMP_ACT_ERRNO", errnoRet: $e } ] }'
}
# cgroup dir of a container from its state (the runtime records the resolved path)
cgdir_of() { echo "$CG2$(jq -r '.cgroupPath // empty' "$ROOT/$1/state.json" 2>/dev/null)"; }
cgpath_for() {
        if [ "$driver" = systemd ]; then echo "system.slice:ctrmgr-cgsec-$$:$1"; else echo "$CGPARENT/$1"; fi
}

b=$T/c1
make_bundle "$b" sh -c 'i=0; while :; do i=$((i + 1)); echo $i >/tmp/tick; sleep 0.05; done'
jq_edit "$b" --argjson s "$(profile 95)" --arg cg "$(cgpath_for c1)" '.linux.seccomp = $s | .linux.cgroupsPath = $cg | .root.readonly = false'

create_start() { oci create --bundle "$1" "$2" && oci start "$2"; }
check "create and start with a seccomp profile" create_start "$b" c1
cache=$ROOT/.seccomp-cache
n_bpf() { find "$cache" -name '*.bpf' 2>/dev/null | wc -l; }
check_output "the compiled filter is in the cache" '^1$' n_bpf
check_output "the container's mkdir fails with the profile's errno" 'Operation not supported' \
        oci exec c1 mkdir /tmp/x
check_output "an exec'd process gets the container's filter" 'Operation not supported' \
        oci exec c1 sh -c 'mkdir /tmp/y; echo done'

cgrel=$(oci state c1 | jq -r '.cgroupPath // empty')
[ -n "$cgrel" ] || cgrel=$(jq -r '.cgroupPath // empty' "$ROOT/c1/state.json" 2>/dev/null)
pid=$(pid_of c1)
cgline=$(grep '^0::' "/proc/$pid/cgroup" | cut -d: -f3)
log "container cgroup: $cgline"
if [ "$driver" = systemd ]; then
        check_output "the init is in the scope" "^/system.slice/ctrmgr-cgsec-$$-c1.scope$" echo "$cgline"
        check_output "the scope has Delegate=yes" '^yes$' systemctl show -p Delegate --value "ctrmgr-cgsec-$$-c1.scope"
else
        check_output "the init is in cgroupsPath" "^$CGPARENT/c1$" echo "$cgline"
fi
cg=$CG2$cgline
# exec: the new process is placed in the container's cgroup (seen from here: the container has
# its own cgroup namespace, where it is "/")
oci exec --detach --pid-file "$T/exec.pid" c1 sleep 30 >"$T/out" 2>&1
epid=$(cat "$T/exec.pid" 2>/dev/null)
check_output "exec joins the container's cgroup" "^0::$cgline\$" grep '^0::' "/proc/${epid:-0}/cgroup"
check_output "inside, its cgroup namespace root is the container's cgroup" '^0::/$' oci exec c1 grep '^0::' /proc/self/cgroup
ps_has() { oci ps --format json c1 | jq -e "index($pid) != null and index(${epid:-0}) != null"; }
check "ps lists the init and the exec'd process" ps_has

# pause / resume: the loop writing /tmp/tick stops and goes on
check "pause" oci pause c1
check_output "state is paused" '^paused$' status_of c1
check_output "cgroup.events says frozen" '^frozen 1$' grep frozen "$cg/cgroup.events"
t1=$(cat "$b/rootfs/tmp/tick" 2>/dev/null); sleep 0.4; t2=$(cat "$b/rootfs/tmp/tick" 2>/dev/null)
check "nothing runs while paused (tick $t1)" test -n "$t1" -a "$t1" = "$t2"
check "resume" oci resume c1
check_output "state is running again" '^running$' status_of c1
wait_for 3 bash -c "[ \"\$(cat $b/rootfs/tmp/tick)\" != \"$t2\" ]"
check "it runs again after resume" bash -c "[ \"\$(cat $b/rootfs/tmp/tick)\" != \"$t2\" ]"

# update: a unified key lands in the cgroup; a limit this host cannot apply is reported
echo '{ "unified": { "cgroup.max.descendants": "3" } }' >"$T/res.json"
check "update --resources" oci update --resources "$T/res.json" c1
check_output "cgroup.max.descendants is 3" '^3$' cat "$cg/cgroup.max.descendants"
if grep -qw pids "$cg/cgroup.controllers"; then
        check "update --pids-limit" oci update --pids-limit 42 c1
        check_output "pids.max is 42" '^42$' cat "$cg/pids.max"
else
        log "no pids controller here: update --pids-limit must not fail silently either way"
        oci update --pids-limit 42 c1 >"$T/upd" 2>&1
        log "update --pids-limit: exit $?, $(tr '\n' ' ' <"$T/upd")"
fi

# a second container with the same profile compiles nothing; another profile is a new entry
b2=$T/c2
make_bundle "$b2" sleep 30
jq_edit "$b2" --argjson s "$(profile 95)" --arg cg "$(cgpath_for c2)" '.linux.seccomp = $s | .linux.cgroupsPath = $cg'
check "second container, same profile" oci create --bundle "$b2" c2
check_output "still one compiled filter (cache hit)" '^1$' n_bpf
oci delete --force c2 >/dev/null 2>&1
jq_edit "$b2" --argjson s "$(profile 13)" '.linux.seccomp = $s'
check "third container, another profile" oci create --bundle "$b2" c3
check_output "two compiled filters" '^2$' n_bpf
check_output "its filter is its own" 'Permission denied' oci exec c3 mkdir /tmp/z
oci delete --force c3 >/dev/null 2>&1

# runc's org.systemd.property.* annotations become properties of the scope (systemd driver);
# one ctrmgr does not know is refused, named
if [ "$driver" = systemd ]; then
        b4=$T/c4
        make_bundle "$b4" sleep 30
        jq_edit "$b4" --arg cg "$(cgpath_for c4)" '.linux.cgroupsPath = $cg |
                .annotations["org.systemd.property.KillSignal"] = "SIGUSR1" |
                .annotations["org.systemd.property.TimeoutStopUSec"] = "uint64 7000000" |
                .annotations["org.systemd.property.After"] = "dbus.service"'
        check "create with org.systemd.property annotations" oci create --bundle "$b4" c4
        check_output "KillSignal=SIGUSR1 (10) on the scope" '^10$' systemctl show -p KillSignal --value "ctrmgr-cgsec-$$-c4.scope"
        check_output "TimeoutStopUSec from runc's GVariant form" '^7s$' systemctl show -p TimeoutStopUSec --value "ctrmgr-cgsec-$$-c4.scope"
        check_output "After= on the scope" 'dbus.service' systemctl show -p After --value "ctrmgr-cgsec-$$-c4.scope"
        oci delete --force c4 >/dev/null 2>&1
        jq_edit "$b4" '.annotations = {"org.systemd.property.CPUWeight": "5"}'
        check_output "an unknown property is refused, named" 'org.systemd.property.CPUWeight: not a scope property' \
                oci create --bundle "$b4" c5
        oci delete --force c5 >/dev/null 2>&1
fi

# kill --all and delete: every process gone, the cgroup (or scope) removed
check "kill --all" oci kill --all c1 KILL
wait_for 5 bash -c "[ -z \"\$(cat $cg/cgroup.procs 2>/dev/null)\" ]"
check "no process left in the cgroup" bash -c "[ -z \"\$(cat $cg/cgroup.procs 2>/dev/null)\" ]"
is_stopped() { [ "$(status_of c1)" = stopped ]; }
wait_for 5 is_stopped
check_output "state is stopped" '^stopped$' status_of c1
check "delete" oci delete c1
check "the cgroup is gone" test ! -d "$cg"
if [ "$driver" = systemd ]; then
        check_output "the scope is gone" '^(inactive|)$' systemctl show -p ActiveState --value "ctrmgr-cgsec-$$-c1.scope"
fi
finish
