#!/usr/bin/env bash
# Smoke test of the tier-2 VM: builds (or reuses) the cached image, boots it under qemu with a
# payload that checks systemd as PID 1, pure cgroup v2 with memory/pids/cpu/io controllers and
# enforced limits; the payload's results come back over 9p. TAP output.
#   VM_SMOKE_REBOOT=1 also checks a reboot (a second boot in the same run).
set -u
here=$(cd "$(dirname "$0")" && pwd)
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

skip() { echo "1..0 # SKIP $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
command -v debootstrap >/dev/null || [ -f "$("$here/build-image.sh" --print-dir)/ready" ] ||
        skip "debootstrap is not installed and no VM image is cached"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
reboot=${VM_SMOKE_REBOOT:-0}
max_boots=1
[ "$reboot" = 1 ] && max_boots=2
t0=$(date +%s)
"$here/build-image.sh" >"$out/image-dir" || { not_ok "the VM image builds"; echo "1..$n"; exit 1; }
ok "the VM image is there ($(cat "$(cat "$out/image-dir")/build-seconds") s to build, $(($(date +%s) - t0)) s now)"

mkdir -p "$out/tree/etc/vm-smoke"
echo "hello from the host" >"$out/tree/etc/vm-smoke/hello"
# Two boot-time units: one enabled from its [Install] section (systemctl --root enable on the
# host), one linked into a target by the image's generator (--enable UNIT:TARGET).
for u in boot gen; do
        printf '[Unit]\nDescription=vm smoke boot-time unit (%s)\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/touch /run/vm-smoke-%s\n' \
                "$u" "$u" >"$out/vm-smoke-$u.service"
done
printf '[Install]\nWantedBy=multi-user.target\n' >>"$out/vm-smoke-boot.service"
"$here/run-in-vm.sh" --out "$out/res" --share "$here:/srv/vm-smoke" --max-boots "$max_boots" \
        --copy "$out/tree:/" --copy "$out/vm-smoke-boot.service:/etc/systemd/system/vm-smoke-boot.service" \
        --copy "$out/vm-smoke-gen.service:/etc/systemd/system/vm-smoke-gen.service" \
        --enable vm-smoke-boot.service --enable vm-smoke-gen.service:multi-user.target \
        --env "VM_SMOKE_TOKEN=a b'c" --env "VM_SMOKE_REBOOT=$reboot" \
        --timeout "${CTRMGR_VM_TIMEOUT:-600}" "$here/smoke-payload.sh" /srv/vm-smoke >"$out/payload-out"
rc=$?
while IFS= read -r line; do
        case $line in
        "ok - "*) ok "${line#ok - }" ;;
        "not ok - "*) not_ok "${line#not ok - }" ;;
        *) echo "# $line" ;;
        esac
done <"$out/payload-out"
if [ "$rc" = 0 ]; then ok "run-in-vm.sh returns the payload's status (0)"; else not_ok "run-in-vm.sh returned $rc"; fi
[ "$rc" = 0 ] || tail -n 30 "$out/res/console.log" 2>/dev/null | sed 's/^/# console: /'
if [ -s "$out/res/smoke-result" ]; then
        ok "the payload's result file came back over the share"
else
        not_ok "the payload's result file came back over the share"
fi
for f in "$out"/res/boot-?.txt; do [ -f "$f" ] && sed 's/^/# /' "$f"; done
echo "# VM run took $(cat "$out/res/vm-seconds" 2>/dev/null) s"
if [ "$reboot" = 1 ]; then
        if [ "$(cat "$out/res/boots" 2>/dev/null)" = 2 ] && grep -q '^2 ' "$out/res/smoke-result"; then
                ok "the VM rebooted and the payload ran again on boot 2"
        else
                not_ok "the VM rebooted and the payload ran again on boot 2"
        fi
fi
echo "1..$n"
exit $((failed > 0))
