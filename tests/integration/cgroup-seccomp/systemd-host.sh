#!/usr/bin/env bash
# Runs test-cgroup-systemd (the systemd cgroup driver against a real systemd and system bus)
# inside a tier-1 test host (tests/system/lib/testhost.sh). TAP output passes through.
#   systemd-host.sh PATH-TO-test-cgroup-systemd
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
bin=$(readlink -f "$1")
# shellcheck source=../../system/lib/testhost.sh
source "$src/tests/system/lib/testhost.sh"
TESTHOST_QUIET=1

if ! why=$(testhost_is_possible); then
        echo "1..0 # SKIP $why"
        exit 0
fi
testhost_trap_cleanup
name=cgsec-$$
if ! testhost_boot "$name"; then
        echo "Bail out! the test host does not boot"
        exit 1
fi
testhost_exec "$name" "$bin"
rc=$?
testhost_stop "$name" >/dev/null 2>&1
exit $rc
