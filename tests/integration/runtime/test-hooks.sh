#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The six hook kinds: order, where they run, the state on their stdin, args/env, failure and
# timeout.
source "$(dirname "$0")/lib.sh"

B=$T/hooks
make_bundle "$B" sleep 100
mkdir -p "$T/hooklog" "$B/rootfs/hooklog"
log=$T/hooklog/log
# Each hook appends "KIND STATE-JSON ROOT-INODE" to the log (the root's inode tells the host's
# root from the container's).
hook() { # hook KIND LOGPATH → a hook object
        jq -n --arg k "$1" --arg l "$2" \
                '{ path: "/bin/sh", args: ["sh", "-c", "s=$(cat); echo \"$0 $s $(stat -c %i /) $HOOKVAR\" >>\"$1\"", $k, $l], env: ["HOOKVAR=set"], timeout: 10 }'
}
jq_edit "$B" --arg d "$T/hooklog" \
        --argjson p "$(hook prestart "$log")" --argjson cr "$(hook createRuntime "$log")" \
        --argjson cc "$(hook createContainer "$log")" --argjson sc "$(hook startContainer /hooklog/log)" \
        --argjson ps "$(hook poststart "$log")" --argjson pst "$(hook poststop "$log")" \
        '.hooks = { prestart: [$p], createRuntime: [$cr], createContainer: [$cc], startContainer: [$sc],
                    poststart: [$ps], poststop: [$pst] }
         | .mounts += [ { destination: "/hooklog", type: "bind", source: $d, options: ["bind"] } ]'

oci create --bundle "$B" hk </dev/null >/dev/null 2>&1
pid=$(pid_of hk)
check_eq "create runs prestart, createRuntime, createContainer in order" \
        "prestart createRuntime createContainer" sh -c "awk '{ print \$1 }' '$log' | tr '\n' ' ' | sed 's/ \$//'"
oci start hk
check "start runs startContainer and poststart" wait_for 5 sh -c "[ \$(wc -l <'$log') -eq 5 ]"
oci kill hk KILL
wait_for 5 status_is hk stopped
oci delete hk
check_eq "all six in order (poststop by delete)" \
        "prestart createRuntime createContainer startContainer poststart poststop" \
        sh -c "awk '{ print \$1 }' '$log' | tr '\n' ' ' | sed 's/ \$//'"

state() { grep "^$1 " "$log" | cut -d' ' -f2; }
for k in prestart createRuntime createContainer startContainer poststart poststop; do
        check_eq "$k: the state on stdin names the container" hk sh -c "$(declare -f state); log='$log'; state $k | jq -r .id"
done
check_eq "prestart: the state's pid is the init" "$pid" sh -c "grep ^prestart '$log' | cut -d' ' -f2 | jq -r .pid"
check_eq "prestart: status creating" creating sh -c "grep ^prestart '$log' | cut -d' ' -f2 | jq -r .status"
check_eq "startContainer: status created" created sh -c "grep ^startContainer '$log' | cut -d' ' -f2 | jq -r .status"
check_eq "poststart: status running" running sh -c "grep ^poststart '$log' | cut -d' ' -f2 | jq -r .status"
check_eq "poststop: status stopped" stopped sh -c "grep ^poststop '$log' | cut -d' ' -f2 | jq -r .status"
check_eq "the state carries the bundle" "$B" sh -c "grep ^poststart '$log' | cut -d' ' -f2 | jq -r .bundle"
hostroot=$(stat -c %i /)
ctrroot=$(stat -c %i "$B/rootfs")
check_eq "prestart, createRuntime, poststart, poststop run in the host's root" "$hostroot $hostroot $hostroot $hostroot" \
        sh -c "grep -E '^(prestart|createRuntime|poststart|poststop) ' '$log' | awk '{ print \$3 }' | tr '\n' ' ' | sed 's/ \$//'"
check_eq "startContainer runs in the container's root" "$ctrroot" sh -c "grep ^startContainer '$log' | awk '{ print \$3 }'"
check_eq "createContainer runs in the container's mount namespace before pivot_root" "$hostroot" \
        sh -c "grep ^createContainer '$log' | awk '{ print \$3 }'"
check_eq "hooks get their env" "set set set set set set" sh -c "awk '{ print \$4 }' '$log' | tr '\n' ' ' | sed 's/ \$//'"

# ---------------------------------------------------------------- failures
F=$T/hookfail
make_bundle "$F" true
jq_edit "$F" '.hooks = { prestart: [ { path: "/bin/sh", args: ["sh", "-c", "exit 3"] } ] }'
check_output "a failing prestart hook fails create, naming it" "prestart hook 0.*status 3" oci create --bundle "$F" hf
check_fails "... and leaves no container" oci state hf
check "... nor its cgroup" test ! -e "$CG2$CGPARENT/hookfail"
jq_edit "$F" '.hooks = { createRuntime: [ { path: "/bin/sleep", args: ["sleep", "30"], timeout: 1 } ] }'
t0=$(date +%s)
check_output "a hook past its timeout is killed and fails create" "timed out after 1 s" oci create --bundle "$F" ht
check "... after about the timeout" test $(($(date +%s) - t0)) -lt 10
check_fails "... and leaves no container" oci state ht
jq_edit "$F" --arg d "$T/hooklog" '.hooks = { poststop: [ { path: "/bin/sh", args: ["sh", "-c", "exit 1"] },
        { path: "/bin/sh", args: ["sh", "-c", "touch \"$0/second-poststop\"", $d] } ] }'
oci create --bundle "$F" hp </dev/null >/dev/null 2>&1
check "a failing poststop hook does not keep delete from removing the container" oci delete --force hp
check_fails "... it is gone" oci state hp
check "... and the poststop hook after it still ran" test -e "$T/hooklog/second-poststop"
check "create hp2 (the same poststop hooks)" oci create --bundle "$F" hp2 </dev/null
check_output "... the failure is a warning naming the hook" "warning.*poststop hook 0.*status 1|poststop hook 0.*status 1" \
        oci delete --force hp2

# poststart: the runtime-spec wants a warning for a failing hook and the hooks after it run.
jq_edit "$F" --arg d "$T/hooklog" '.hooks = { poststart: [ { path: "/bin/sh", args: ["sh", "-c", "exit 4"] },
        { path: "/bin/sh", args: ["sh", "-c", "touch \"$0/second-poststart\"", $d] } ] }'
set_args "$F" sleep 100
oci create --bundle "$F" ps1 </dev/null >/dev/null 2>&1
check_output "a failing poststart hook is reported, naming it" "poststart hook 0: hook /bin/sh: exited with status 4" \
        oci start ps1
check "... the poststart hook after it still ran" test -e "$T/hooklog/second-poststart"
check_eq "... and the container runs" running status_of ps1
oci delete --force ps1 >/dev/null 2>&1
rm -f "$T/hooklog/second-poststart"
set_args "$F" true
check_output "run: the same warning" "poststart hook 0: hook /bin/sh: exited with status 4" oci run --bundle "$F" ps2
check "run: the second poststart hook ran" test -e "$T/hooklog/second-poststart"

finish
