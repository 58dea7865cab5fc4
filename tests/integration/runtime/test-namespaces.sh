#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# linux.namespaces (new ones, joined by path, user with uid/gid mappings, time), hostname,
# domainname, sysctl, the session keyring, checked from inside the container.
source "$(dirname "$0")/lib.sh"

B=$T/ns
make_bundle "$B"

ns_inside() { run_in "$B" readlink /proc/self/ns/"$1"; }
for ns in pid ipc uts mnt cgroup net; do
        host=$(readlink /proc/self/ns/$ns)
        check_ne "new $ns namespace" "$host" ns_inside $ns
done
check_eq "no user namespace unless asked for" "$(readlink /proc/self/ns/user)" ns_inside user
check_output "the process is pid 1" "^1$" run_in "$B" sh -c 'echo $$'
check_output "cgroup namespace: the container's cgroup is its root" "^0::/$" run_in "$B" cat /proc/self/cgroup
check_output "network namespace: only lo" "^lo$" run_in "$B" sh -c "awk -F: 'NR > 2 { gsub(/ /, \"\", \$1); print \$1 }' /proc/net/dev"
check_no_output "network namespace: nothing but lo" "eth|ens|enp" run_in "$B" cat /proc/net/dev

jq_edit "$B" '.hostname = "ctr-host" | .domainname = "ctr.example"'
check_output "hostname" "^ctr-host$" run_in "$B" hostname
check_output "domainname" "^ctr\.example$" run_in "$B" cat /proc/sys/kernel/domainname
jq_edit "$B" '.linux.sysctl = { "kernel.msgmax": "12345", "net.ipv4.ip_forward": "1" }'
check_output "sysctl in the ipc namespace" "^12345$" run_in "$B" cat /proc/sys/kernel/msgmax
check_output "sysctl in the network namespace" "^1$" run_in "$B" cat /proc/sys/net/ipv4/ip_forward
check "the host's sysctls are untouched" test "$(cat /proc/sys/kernel/msgmax)" != 12345
jq_edit "$B" '.linux.sysctl = { "vm.swappiness": "1" }'
check_output "a sysctl outside the container's namespaces is refused" "linux\.sysctl\.vm\.swappiness: not in a namespace" run_in "$B" true
check "the host's vm.swappiness is untouched" test "$(cat /proc/sys/vm/swappiness)" != 1
jq_edit "$B" '.linux.sysctl = { "net.ipv4.ip_forward": "1" } | .linux.namespaces |= map(select(.type != "network"))'
check_output "a network sysctl without a network namespace is refused" "needs a network namespace" run_in "$B" true
jq_edit "$B" '.linux.namespaces += [ { type: "network" } ]'
jq_edit "$B" 'del(.linux.sysctl)'

# ---------------------------------------------------------------- joining by path
touch "$T/netns"
if unshare --net="$T/netns" true 2>/dev/null; then
        want=$(nsenter --net="$T/netns" readlink /proc/self/ns/net)
        jq_edit "$B" --arg p "$T/netns" '(.linux.namespaces[] | select(.type == "network")) |= { type: "network", path: $p }'
        check_eq "joining a network namespace by path" "$want" ns_inside net
        jq_edit "$B" '(.linux.namespaces[] | select(.type == "network")) |= { type: "network" }'
        umount "$T/netns"
else
        skip "joining a network namespace by path" "cannot make a persistent network namespace"
fi
jq_edit "$B" '(.linux.namespaces[] | select(.type == "network")) |= { type: "network", path: "/nonexistent/ns" }'
check_output "a missing namespace path is an error naming it" "/nonexistent/ns" run_in "$B" true
jq_edit "$B" '(.linux.namespaces[] | select(.type == "network")) |= { type: "network" }'

# ---------------------------------------------------------------- user namespace
if [ -e /proc/self/ns/user ] && unshare --user true 2>/dev/null; then
        U=$T/userns
        make_bundle "$U"
        jq_edit "$U" '.linux.namespaces += [ { type: "user" } ]
                | .linux.uidMappings = [ { containerID: 0, hostID: 200000, size: 1000 } ]
                | .linux.gidMappings = [ { containerID: 0, hostID: 300000, size: 1000 } ]'
        check_output "user namespace: uid_map" "^ +0 +200000 +1000$" run_in "$U" cat /proc/self/uid_map
        check_output "user namespace: gid_map" "^ +0 +300000 +1000$" run_in "$U" cat /proc/self/gid_map
        check_output "user namespace: root inside" "^uid=0 gid=0" run_in "$U" /probe ids
        set_args "$U" sleep 100
        oci create --bundle "$U" uns </dev/null >/dev/null 2>&1
        oci start uns
        pid=$(pid_of uns)
        check_output "user namespace: the host sees the mapped uid" "^Uid:[[:space:]]+200000" grep ^Uid: /proc/"$pid"/status
        check_output "user namespace: the host sees the mapped gid" "^Gid:[[:space:]]+300000" grep ^Gid: /proc/"$pid"/status
        oci delete --force uns
        jq_edit "$U" '.linux.uidMappings = [ { containerID: 1, hostID: 200000, size: 1000 } ]'
        check_output "user namespace without a mapping for root: a clear error" "uid/gid 0 mapped|mapp" run_in "$U" true
else
        skip "user namespace" "the kernel here does not allow user namespaces"
fi

# ---------------------------------------------------------------- time namespace
if [ -e /proc/self/ns/time ]; then
        jq_edit "$B" '.linux.namespaces += [ { type: "time" } ] | .linux.timeOffsets = { monotonic: { secs: 864000, nanosecs: 0 }, boottime: { secs: 1728000, nanosecs: 0 } }'
        check_output "time namespace: boottime offset seen in /proc/uptime" "^17[0-9]{5}\." run_in "$B" cat /proc/uptime
        check_ne "time namespace: a new one" "$(readlink /proc/self/ns/time)" ns_inside time
else
        skip "time namespace" "no time namespaces in this kernel"
fi

# ---------------------------------------------------------------- session keyring
# Each container joins a new session keyring "_ses.<id>" (runc's), not the caller's, whose keys it
# could otherwise read and where its own keys would outlive it; exec joins the container's.
K=$T/keys
make_bundle "$K" /probe keyring
hostring=$("$PROBE" keyring)
ka=$(oci run --bundle "$K" keys-a </dev/null 2>&1)
kb=$(oci run --bundle "$K" keys-b </dev/null 2>&1)
log "caller: $hostring, keys-a: $ka, keys-b: $kb"
check_output "a container has a session keyring of its own, \"_ses.<id>\"" "^[0-9]+ _ses\.keys-a$" echo "$ka"
check "two containers see different session keyrings" test -n "${ka%% *}" -a "${ka%% *}" != "${kb%% *}"
check "... neither is the caller's" test "${ka%% *}" != "${hostring%% *}" -a "${kb%% *}" != "${hostring%% *}"
check_eq "--no-new-keyring: the caller's session keyring" "$hostring" oci run --no-new-keyring --bundle "$K" keys-c
set_args "$K" sleep 100
oci create --bundle "$K" keys-d </dev/null >/dev/null 2>&1
oci start keys-d
kd=$(oci exec keys-d /probe keyring 2>&1)
check_output "exec: the container's session keyring" "^[0-9]+ _ses\.keys-d$" echo "$kd"
check_eq "... the same one each time" "$kd" oci exec keys-d /probe keyring
oci delete --force keys-d
oci create --no-new-keyring --bundle "$K" keys-e </dev/null >/dev/null 2>&1
oci start keys-e
check_eq "exec into a container created with --no-new-keyring: the caller's" "$hostring" oci exec keys-e /probe keyring
oci delete --force keys-e

finish
