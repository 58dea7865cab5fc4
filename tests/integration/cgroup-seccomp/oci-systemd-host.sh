#!/usr/bin/env bash
# Runs test-oci.sh with CGSEC_DRIVER=systemd (ctrmgr-oci --systemd-cgroup) inside a tier-1 test
# host (tests/system/lib/testhost.sh); the build tree is visible there at its machine path.
#   oci-systemd-host.sh TEST-OCI.SH CTRMGR_OCI PROBE
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
script=$(readlink -f "$1") oci=$(readlink -f "$2") probe=$(readlink -f "$3")
# shellcheck source=../../system/lib/testhost.sh
source "$src/tests/system/lib/testhost.sh"
TESTHOST_QUIET=1

if ! why=$(testhost_is_possible); then
        echo "1..0 # SKIP $why"
        exit 0
fi
testhost_trap_cleanup
name=cgsec-oci-$$
if ! testhost_boot "$name"; then
        echo "Bail out! the test host does not boot"
        exit 1
fi
testhost_exec "$name" env CGSEC_DRIVER=systemd bash "$script" "$oci" "$probe"
rc=$?
testhost_stop "$name" >/dev/null 2>&1
exit $rc
