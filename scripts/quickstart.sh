#!/usr/bin/env bash
# quickstart.sh — the README's first command. On a fresh Debian 12 machine, as root (PID 1
# systemd or not): installs the dependencies, builds ctrmgr, builds the example image, boots a
# throwaway test host (systemd-nspawn on a tmpfs overlay of /, see tests/system/README.md) with
# ctrmgr installed, the example units in its /etc/ctrmgr and the image in its
# /var/lib/ctrmgr/images, starts ctrmgrd there and shows `ctrmgr list` and `ctrmgr status web`.
#
#   scripts/quickstart.sh [--name HOST] [--no-deps]
#
# The host stays up so you can look around; the script ends by telling you how to get a shell
# in it and how to stop it (which removes everything it used). Nothing is installed on the
# machine itself apart from the Debian packages; the build goes to build-quickstart/.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
name=${CTRMGR_QUICKSTART_HOST:-ctrmgr-demo}
deps=1
while [ $# -gt 0 ]; do
        case $1 in
        --name) name=$2; shift ;;
        --no-deps) deps=0 ;;
        -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "quickstart: unknown option $1" >&2; exit 2 ;;
        esac
        shift
done

build=$top/build-quickstart
work=$build/quickstart
store=$work/images
setup_log=${TMPDIR:-/tmp}/ctrmgr-quickstart-setup.log
testhost=$top/tests/system/lib/testhost
missing=()

if [ -t 1 ]; then
        bold=$'\e[1m' red=$'\e[31m' green=$'\e[32m' yellow=$'\e[33m' off=$'\e[0m'
else
        bold="" red="" green="" yellow="" off=""
fi
step_no=0
step() { step_no=$((step_no + 1)); printf '\n%s==> %d. %s%s\n' "$bold" "$step_no" "$*" "$off"; }
die() { printf '%squickstart: step %d failed: %s%s\n' "$red" "$step_no" "$*" "$off" >&2; exit 1; }
miss() {
        missing+=("step $step_no: $*")
        printf '%sMISSING: %s%s\n' "$yellow" "$*" "$off" >&2
}
inside() { "$testhost" exec "$name" "$@"; }

[ "$(id -u)" = 0 ] || die "run me as root (I install packages and boot a test host)"

step "Dependencies (scripts/install-deps.sh)"
if [ "$deps" = 1 ]; then
        "$top/scripts/install-deps.sh" || die "installing the Debian packages failed"
else
        echo "skipped (--no-deps)"
fi

step "Build (meson, prefix /usr, into build-quickstart/)"
if [ ! -f "$build/build.ninja" ]; then
        meson setup "$build" "$top" --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
                --buildtype=debugoptimized -Dtests=false >"$setup_log" 2>&1 ||
                { tail -n 30 "$setup_log" >&2; die "meson setup failed (log: $setup_log)"; }
fi
ninja -C "$build" || die "the build failed"
mkdir -p "$work"

step "Example image (examples/images/)"
image_script=$top/examples/images/build-busybox.sh
if [ ! -x "$image_script" ]; then
        miss "examples/images/build-busybox.sh is missing; the host gets no images"
else
        rm -rf "$store"
        mkdir -p "$store"
        "$image_script" --ctrmgr "$build/tools/ctrmgr" --store "$store" --name busybox:latest ||
                die "$image_script failed"
        [ -f "$store/index.json" ] || die "$image_script ran but $store has no index.json"
        echo "image store: $store ($(du -sh "$store" | cut -f1)), busybox:latest"
fi

step "Boot the test host '$name' with ctrmgr installed"
if grep -q "^$name " <<<"$("$testhost" list 2>/dev/null)"; then
        echo "a test host '$name' exists from an earlier run; stopping it first"
        "$testhost" stop "$name" || "$testhost" cleanup "$name"
fi
boot=(boot "$name" --install "$build")
if [ -f "$store/index.json" ]; then
        boot+=(--copy "$store:/var/lib/ctrmgr/images")
fi
if ls "$top"/examples/units/*.ctr >/dev/null 2>&1; then
        boot+=(--copy "$top/examples/units:/etc/ctrmgr")
else
        miss "examples/units/ has no .ctr units; /etc/ctrmgr in the host is empty"
fi
"$testhost" "${boot[@]}" || die "the test host did not boot"
inside sh -c 'echo "host: $(hostname), PID 1: $(cat /proc/1/comm), state: $(systemctl is-system-running)"'
inside sh -c 'ls /etc/ctrmgr 2>/dev/null | sed "s/^/  \/etc\/ctrmgr\//"'

step "Start ctrmgrd in the test host (systemctl enable --now ctrmgrd)"
daemon=0
if ! inside test -x /usr/bin/ctrmgr; then
        miss "no ctrmgr binary was installed (meson install put no /usr/bin/ctrmgr)"
elif ! inside systemctl cat ctrmgrd.service >/dev/null 2>&1; then
        miss "ctrmgrd.service is not installed; ctrmgr has nothing to talk to"
elif inside systemctl enable --now ctrmgrd.service; then
        daemon=1
        inside systemctl is-active ctrmgrd.service || true
else
        inside systemctl status --no-pager -n 20 ctrmgrd.service
        die "ctrmgrd did not start (its status is above)"
fi

if [ "$daemon" = 1 ]; then
        # Units with [Install] WantedBy=multi-user.target start with the daemon; web is ready once
        # its health check passes. Wait up to 30 s for it to settle (active or failed).
        for _ in $(seq 60); do
                # (not a pipe into grep -q: with pipefail, ctrmgr's SIGPIPE would hide the match)
                st=$(inside ctrmgr --no-pager status web 2>/dev/null)
                grep -Eq 'Active: (active|failed)' <<<"$st" && break
                sleep 0.5
        done
        step "ctrmgr list"
        inside ctrmgr --no-pager list || miss "'ctrmgr list' failed"
        step "ctrmgr status web"
        inside ctrmgr --no-pager status web || miss "'ctrmgr status web' failed (exit $?)"
fi

cat <<EOF

${bold}The test host '$name' is running${off} (systemd $(inside systemctl --version | head -1 | cut -d' ' -f2) as its PID 1,
its own journal and system bus, private network, nothing written to this machine's disk).

  A shell in it:        $testhost shell $name
  One command in it:    $testhost exec $name ctrmgr status web
  Its logs:             $testhost exec $name journalctl -u ctrmgr-web.scope
  Stop it (removes every process, mount and cgroup it used):
                        $testhost stop $name
EOF
if [ ${#missing[@]} -gt 0 ]; then
        printf '\n%sNot everything is there yet:%s\n' "$red" "$off"
        printf '  %s\n' "${missing[@]}"
        exit 1
fi
printf '\n%sQuick start complete.%s\n' "$green" "$off"
