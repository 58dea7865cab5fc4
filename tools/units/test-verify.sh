#!/bin/sh
# Runs `ctrmgr verify` the way a user would, on the test corpus and on the examples:
#   good/   → exit 0
#   mixed/  → exit 1, and every "FILE:LINE: level: text" prefix of mixed/EXPECTED is printed
#   examples/units → exit 0, no warnings even under --strict
# Usage: test-verify.sh CTRMGR SOURCE_ROOT
set -u
ctrmgr=$1
src=$2
data=$src/tests/data/units
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "# verify good/"
if ! "$ctrmgr" verify "$data/good" >"$out" 2>&1; then
        echo "not ok: verify good/ failed:"; cat "$out"; fail=1
fi

echo "# verify good/ by name with --unit-path"
if ! "$ctrmgr" verify --unit-path "$data/good" web db sleeper notify job worker@two worker@ >"$out" 2>&1; then
        echo "not ok: verify by name failed:"; cat "$out"; fail=1
fi

echo "# verify mixed/"
"$ctrmgr" verify "$data/mixed" >"$out" 2>&1
rc=$?
if [ "$rc" -ne 1 ]; then
        echo "not ok: verify mixed/ exited $rc, expected 1"; cat "$out"; fail=1
fi
while IFS= read -r want; do
        [ -z "$want" ] && continue
        if ! grep -qF "$data/mixed/$want" "$out"; then
                echo "not ok: missing in output: $want"; fail=1
        fi
done <"$data/mixed/EXPECTED"

echo "# verify a file with warnings only: exit 0; with --strict: exit 1"
if ! "$ctrmgr" verify "$data/mixed/warnings-only.ctr" >"$out" 2>&1; then
        echo "not ok: warnings alone failed verify"; cat "$out"; fail=1
fi
if "$ctrmgr" verify --strict "$data/mixed/warnings-only.ctr" >"$out" 2>&1; then
        echo "not ok: --strict passed with warnings"; fail=1
fi
grep -qF "warnings-only.ctr:6: error: Unknown key 'NoSuchKey'" "$out" || { echo "not ok: --strict did not turn the warning into an error"; cat "$out"; fail=1; }

echo "# verify a missing unit: exit 1"
if "$ctrmgr" verify --unit-path "$data/good" no-such-unit >"$out" 2>&1; then
        echo "not ok: missing unit passed"; fail=1
fi

echo "# verify examples/units --strict"
if ! "$ctrmgr" verify --strict "$src/examples/units" >"$out" 2>&1; then
        echo "not ok: examples are not clean:"; cat "$out"; fail=1
fi

echo "# cat"
"$ctrmgr" cat --unit-path "$data/good" web >"$out" 2>&1
grep -qx "# $data/good/web.ctr" "$out" || { echo "not ok: cat lacks the fragment header"; cat "$out"; fail=1; }
grep -qx "# $data/good/web.ctr.d/10-limits.conf" "$out" || { echo "not ok: cat lacks the drop-in header"; cat "$out"; fail=1; }

echo "# --help"
"$ctrmgr" verify --help | grep -q "Usage: ctrmgr verify" || { echo "not ok: verify --help"; fail=1; }
"$ctrmgr" cat --help | grep -q "Usage: ctrmgr cat" || { echo "not ok: cat --help"; fail=1; }

[ "$fail" -eq 0 ] && echo "ok: ctrmgr verify"
exit "$fail"
