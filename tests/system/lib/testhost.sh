# shellcheck shell=bash
# testhost.sh — throwaway tier-1 test hosts: the machine's own OS booted under systemd-nspawn on an
# overlay of / whose upper layer is a tmpfs, so the host has a real systemd as its PID 1, a system
# bus and journald, and nothing it writes reaches the real disk. See tests/system/README.md and
# ../../shared/notes/test-hosts.md.
#
# Use it as a library (bash only, as root):
#
#   source tests/system/lib/testhost.sh
#   testhost_trap_cleanup                      # EXIT/INT/TERM trap: tear down every host this
#                                              # shell booted, even when the test fails
#   testhost_boot web1 --install "$BUILD" \    # boot; returns once `systemctl is-system-running`
#       --copy "$STORE:/var/lib/ctrmgr/images" \ #  says running (or degraded, with a warning)
#       --copy examples/units:/etc/ctrmgr --enable ctrmgrd.service
#   testhost_exec web1 ctrmgr status web       # run a command inside (all namespaces); its exit
#                                              # status, stdout and stderr come back; stdin passes
#   testhost_sh web1 'journalctl -u x | grep y' # the same through `bash -c`
#   testhost_stop web1                         # poweroff inside, then clean everything up
#
# Functions (NAME: 1–40 characters of [A-Za-z0-9-], unique among running hosts):
#   testhost_boot NAME [OPTIONS]   boot in the background and wait until it is up. Options, applied
#                                  to the host's root before systemd starts, in this order:
#       --mask UNIT                  mask one more unit (symlink to /dev/null), repeatable
#       --tmpfs PATH                 a tmpfs of its own at PATH (not the overlay), repeatable;
#                                    /var/lib/ctrmgr always is one (overlayfs cannot put an upper
#                                    layer on overlayfs, and ctrmgr keeps containers' there)
#       --install BUILDDIR           `meson install --no-rebuild --destdir ROOT` of that build
#                                    (configure it with --prefix=/usr so files land where Debian
#                                    puts them: /usr/bin, /usr/lib/systemd/system, /etc, …)
#       --copy SRC:DEST              copy a host file or directory to DEST inside (a directory's
#                                    contents go into DEST, which is created), repeatable
#       --enable UNIT                `systemctl --root=ROOT enable UNIT` (offline), repeatable
#       --bind SRC[:DEST] / --bind-ro SRC[:DEST]   passed to systemd-nspawn, repeatable
#       --nspawn-arg ARG             any other systemd-nspawn argument, repeatable
#       --timeout SEC                how long to wait for the boot (default $TESTHOST_BOOT_TIMEOUT
#                                    or 90)
#       --no-wait                    return once the container's systemd runs, without waiting
#     On failure it prints the console log, removes everything it made and returns 1.
#   testhost_wait NAME [SEC]       wait until running/degraded (prints the state)
#   testhost_exec NAME CMD [ARG…]  run CMD inside with a clean environment (PATH, HOME=/root,
#                                  LANG=C.UTF-8, TERM); the process is placed in the host's
#                                  init.scope cgroup first, so `systemd-run --scope` works from it
#   testhost_sh NAME SCRIPT        testhost_exec NAME bash -c SCRIPT
#   testhost_shell NAME            interactive login shell inside
#   testhost_install NAME BUILDDIR meson install into the running host, then daemon-reload
#   testhost_copy NAME SRC DEST    copy into the running host (same rules as --copy)
#   testhost_stop NAME [SEC]       `systemctl poweroff` inside, wait for it (default 30 s), then
#                                  testhost_cleanup
#   testhost_cleanup NAME          force teardown: SIGTERM then SIGKILL to the processes this
#                                  library started (by PID, checked against their start time) and
#                                  to every process left in the host's cgroups, remove those
#                                  cgroups, the state directory and with them the mounts (they
#                                  only ever exist in the host's private mount namespace)
#   testhost_cleanup_all           testhost_cleanup for every host booted by this shell
#   testhost_trap_cleanup          install testhost_cleanup_all as EXIT/INT/TERM trap
#   testhost_leader NAME           PID (on the machine) of the host's systemd (PID 1 inside)
#   testhost_nspawn_pid NAME       PID of its systemd-nspawn
#   testhost_root NAME             path of the host's root, valid only inside its mount namespace:
#                                  nsenter -t "$(testhost_nspawn_pid NAME)" -m -- ls "$(testhost_root NAME)"
#   testhost_log NAME              the console log file (systemd's boot messages)
#   testhost_cgroups NAME          the cgroup directories holding the host (one per line)
#   testhost_is_possible           0 if this machine can boot test hosts, else 1 with the reason
#                                  on stdout (for a test's skip message)
#
# Environment: TESTHOST_STATE (default /run/ctrmgr-testhost) holds one directory per host;
# TESTHOST_BOOT_TIMEOUT; TESTHOST_QUIET=1 silences progress messages (they go to stderr).
#
# How the host is held: the launcher puts itself into new cgroups (on this hybrid machine
# /sys/fs/cgroup/unified/testhost-NAME and /sys/fs/cgroup/systemd/testhost-NAME; under a systemd
# PID 1 a transient scope testhost-NAME.scope with Delegate=yes; on a pure cgroup v2 machine
# without systemd /sys/fs/cgroup/testhost-NAME), enters a private mount namespace, mounts a tmpfs
# on $TESTHOST_STATE/NAME/mnt, overlays / there (upper layer on the tmpfs), puts an empty tmpfs on
# its /dev and on /run/systemd/nspawn (so nspawn writes nothing on the machine), masks the units
# the machine's image enables that a test host does not need, and execs
# `systemd-nspawn --boot --register=no --keep-unit --private-network`. systemd never runs on the
# machine's real root.

TESTHOST_STATE=${TESTHOST_STATE:-/run/ctrmgr-testhost}
TESTHOST_LIB=${BASH_SOURCE[0]}
case $TESTHOST_LIB in /*) ;; *) TESTHOST_LIB=$PWD/$TESTHOST_LIB ;; esac
TESTHOST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
declare -ga TESTHOST_BOOTED=()

# Paths that get a tmpfs of their own in every host (see --tmpfs).
TESTHOST_TMPFS_DEFAULT=(/var/lib/ctrmgr)

# Units the machine image (or a CI machine) may enable that a test host must not start. Anything
# else enabled in the image's /etc/systemd/system/*.wants/ is masked too (see _testhost_mask_enabled).
TESTHOST_MASK_DEFAULT=(postgresql.service console-getty.service getty@.service
        systemd-networkd-wait-online.service systemd-timesyncd.service
        apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer e2scrub_reap.service
        fstrim.timer dpkg-db-backup.timer logrotate.timer systemd-pstore.service
        ssh.service sshd.service cron.service)

_testhost_msg() { [ "${TESTHOST_QUIET:-0}" = 1 ] || echo "testhost: $*" >&2; }
_testhost_err() { echo "testhost: error: $*" >&2; }

_testhost_check_name() {
        if [[ ! $1 =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,39}$ ]]; then
                _testhost_err "invalid host name '$1' (1-40 of [A-Za-z0-9-])"
                return 1
        fi
}

_testhost_dir() { echo "$TESTHOST_STATE/$1"; }

# "PID STARTTIME" of a process, so a recorded PID is only ever signalled while it is still the
# process we started.
_testhost_proc_id() {
        local stat
        stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
        stat=${stat##*) }
        # shellcheck disable=SC2086
        set -- $stat
        # a zombie has finished; it only waits for its parent to reap it
        [ "$1" != Z ] && [ "$1" != X ] || return 1
        echo "${20}"
}

_testhost_pid_alive() { # FILE: holds "PID STARTTIME"
        local pid start now
        [ -r "$1" ] || return 1
        read -r pid start <"$1" || return 1
        [ -n "$pid" ] || return 1
        now=$(_testhost_proc_id "$pid") || return 1
        [ "$now" = "$start" ] && echo "$pid"
}

testhost_nspawn_pid() { _testhost_pid_alive "$(_testhost_dir "$1")/nspawn.pid"; }
testhost_root() { echo "$(_testhost_dir "$1")/mnt/root"; }
testhost_log() { echo "$(_testhost_dir "$1")/console.log"; }
testhost_cgroups() { cat "$(_testhost_dir "$1")/cgroups" 2>/dev/null; }

testhost_leader() {
        local d pid leader
        d=$(_testhost_dir "$1")
        if leader=$(_testhost_pid_alive "$d/leader.pid"); then
                echo "$leader"
                return 0
        fi
        pid=$(testhost_nspawn_pid "$1") || return 1
        # nspawn clones the container's init as its own child (CLONE_PARENT) in a new PID
        # namespace; it is the child whose command is systemd.
        local c
        for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
                if [ "$(cat /proc/"$c"/comm 2>/dev/null)" = systemd ] &&
                        [ "$(readlink /proc/"$c"/ns/pid)" != "$(readlink /proc/"$pid"/ns/pid)" ]; then
                        echo "$c $(_testhost_proc_id "$c")" >"$d/leader.pid"
                        echo "$c"
                        return 0
                fi
        done
        return 1
}

# Which cgroup layout this machine has: unified (pure v2), hybrid (v1 + v2 at /unified), legacy.
_testhost_cgroup_layout() {
        if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
                echo unified
        elif [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
                echo hybrid
        else
                echo legacy
        fi
}

_testhost_cg2_mount() {
        case $(_testhost_cgroup_layout) in
        unified) echo /sys/fs/cgroup ;;
        hybrid) echo /sys/fs/cgroup/unified ;;
        *) return 1 ;;
        esac
}

_testhost_pid1_is_systemd() {
        [ -d /run/systemd/system ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]
}

testhost_is_possible() {
        if [ "$(id -u)" != 0 ]; then
                echo "test hosts need root"
                return 1
        fi
        local t
        for t in systemd-nspawn nsenter unshare mount; do
                if ! command -v "$t" >/dev/null; then
                        echo "$t is not installed (package systemd-container / util-linux)"
                        return 1
                fi
        done
        if [ ! -x /lib/systemd/systemd ] && [ ! -x /usr/lib/systemd/systemd ]; then
                echo "systemd is not installed on this machine"
                return 1
        fi
        if ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2>/dev/null; then
                echo "the kernel has no overlayfs"
                return 1
        fi
        if ! unshare --mount --propagation private true 2>/dev/null; then
                echo "cannot create a mount namespace here"
                return 1
        fi
        return 0
}

# ---- launcher, stage 1: runs in the background subshell that becomes systemd-nspawn ----------

_testhost_enter_cgroups() { # NAME DIR
        local name=$1 d=$2 cg layout mnt
        layout=$(_testhost_cgroup_layout)
        : >"$d/cgroups.made"
        if _testhost_pid1_is_systemd; then
                # A normal systemd machine: let systemd make (and later remove) a delegated scope.
                echo systemd-scope >"$d/cgroup-mode"
                return 0
        fi
        echo manual >"$d/cgroup-mode"
        case $layout in
        unified) mnt=(/sys/fs/cgroup) ;;
        hybrid) mnt=(/sys/fs/cgroup/unified /sys/fs/cgroup/systemd) ;;
        legacy) mnt=(/sys/fs/cgroup/systemd) ;;
        esac
        for cg in "${mnt[@]}"; do
                [ -d "$cg" ] || continue
                if ! mkdir "$cg/testhost-$name"; then
                        _testhost_err "cannot create cgroup $cg/testhost-$name"
                        return 1
                fi
                echo "$cg/testhost-$name" >>"$d/cgroups.made"
                echo "$BASHPID" >"$cg/testhost-$name/cgroup.procs" || return 1
        done
}

# ---- launcher, stage 2: inside the private mount namespace, becomes systemd-nspawn -----------

_testhost_mask_enabled() { # ROOT: mask every service/socket/timer/path the image enables in /etc
        local root=$1 f u
        for f in "$root"/etc/systemd/system/*.wants/*; do
                [ -e "$f" ] || [ -L "$f" ] || continue
                u=${f##*/}
                case $u in
                *.service | *.socket | *.timer | *.path) ;;
                *) continue ;;
                esac
                # a template instance: mask the template so every instance goes
                [[ $u == *@?*.* ]] && u=${u%%@*}@.${u##*.}
                echo "$u"
        done
}

_testhost_stage2() { # NAME
        local name=$1 d mnt root u spec src dst
        d=$(_testhost_dir "$name")
        mnt=$d/mnt
        root=$mnt/root
        # shellcheck source=/dev/null
        source "$d/options"
        set -e
        mount -t tmpfs -o mode=0755 "testhost-$name" "$mnt"
        mkdir "$mnt/upper" "$mnt/work" "$root"
        mount -t overlay "testhost-$name" -o "lowerdir=/,upperdir=$mnt/upper,workdir=$mnt/work" "$root"
        # nspawn wants an unpopulated /dev; and keep its own runtime files off the machine's disk.
        mount -t tmpfs -o mode=0755 tmpfs "$root/dev"
        # overlayfs refuses an upper or work directory on overlayfs: whatever makes overlays inside
        # the host (ctrmgr's per-container writable layers) needs a filesystem of its own there.
        for u in "${TESTHOST_TMPFS_DEFAULT[@]}" "${opt_tmpfs[@]}"; do
                mkdir -p "$root$u"
                mount -t tmpfs -o mode=0755 "testhost-$name" "$root$u"
        done
        mkdir -p /run/systemd/nspawn
        mount -t tmpfs -o mode=0755 tmpfs /run/systemd/nspawn
        # A machine id of its own, so its journal is its own.
        systemd-id128 new >"$root/etc/machine-id"
        echo "$name" >"$root/etc/hostname"
        # Shut down quickly: a test host has nothing worth waiting 90 s for at poweroff (a unit
        # that ignores SIGTERM, such as a container whose PID 1 has no handler, is killed after
        # 10 s), so testhost_stop stays within its time.
        mkdir -p "$root/etc/systemd/system.conf.d"
        printf '[Manager]\nDefaultTimeoutStopSec=10s\n' >"$root/etc/systemd/system.conf.d/testhost.conf"
        mkdir -p "$root/etc/systemd/system"
        for u in "${TESTHOST_MASK_DEFAULT[@]}" $(_testhost_mask_enabled "$root") "${opt_mask[@]}"; do
                ln -sfn /dev/null "$root/etc/systemd/system/$u"
        done
        if [ -n "$opt_install" ]; then
                meson install -C "$opt_install" --no-rebuild --quiet --destdir "$root" >&2
        fi
        for spec in "${opt_copy[@]}"; do
                src=${spec%%:*}
                dst=${spec#*:}
                _testhost_copy_into "$root" "$src" "$dst"
        done
        for u in "${opt_enable[@]}"; do
                systemctl --root="$root" enable "$u" >&2
        done
        echo "$$ $(_testhost_proc_id $$)" >"$d/nspawn.pid"
        set +e
        export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
        # No nspawn syscall filter and every capability: the host should feel like a machine, so
        # that ctrmgr can make containers inside it.
        export SYSTEMD_SECCOMP=0
        exec systemd-nspawn -D "$root" --boot --register=no --keep-unit --private-network \
                -M "$name" --tmpfs=/tmp --console=passive --capability=all \
                "${opt_nspawn[@]}"
}

_testhost_copy_into() { # ROOT SRC DEST
        local root=$1 src=$2 dst=$3
        if [ -z "$src" ] || [ -z "$dst" ] || [[ $dst != /* ]]; then
                _testhost_err "copy: want SRC and an absolute DEST, got '$src' '$dst'"
                return 1
        fi
        if [ -d "$src" ]; then
                mkdir -p "$root$dst"
                cp -a "$src/." "$root$dst/"
        else
                mkdir -p "$(dirname "$root$dst")"
                cp -a "$src" "$root$dst"
        fi
}

# ---- public functions --------------------------------------------------------------------------

testhost_boot() {
        local name=$1
        shift || true
        _testhost_check_name "$name" || return 1
        local opt_install="" timeout=${TESTHOST_BOOT_TIMEOUT:-90} wait=1 why
        local -a opt_mask=() opt_copy=() opt_enable=() opt_nspawn=() opt_tmpfs=()
        while [ $# -gt 0 ]; do
                case $1 in
                --mask) opt_mask+=("$2"); shift 2 ;;
                --tmpfs)
                        [[ $2 == /?* ]] || { _testhost_err "--tmpfs wants an absolute path, got '$2'"; return 1; }
                        opt_tmpfs+=("$2"); shift 2 ;;
                --install) opt_install=$(cd "$2" && pwd) || return 1; shift 2 ;;
                --copy)
                        [[ $2 == *:/* ]] || { _testhost_err "--copy wants SRC:/DEST, got '$2'"; return 1; }
                        local s=${2%%:*}
                        [ -e "$s" ] || { _testhost_err "--copy: $s does not exist"; return 1; }
                        s=$(realpath "$s")
                        opt_copy+=("$s:${2#*:}")
                        shift 2 ;;
                --enable) opt_enable+=("$2"); shift 2 ;;
                --bind | --bind-ro) opt_nspawn+=("$1=$2"); shift 2 ;;
                --nspawn-arg) opt_nspawn+=("$2"); shift 2 ;;
                --timeout) timeout=$2; shift 2 ;;
                --no-wait) wait=0; shift ;;
                *) _testhost_err "boot: unknown option '$1'"; return 1 ;;
                esac
        done
        if ! why=$(testhost_is_possible); then
                _testhost_err "cannot boot a test host: $why"
                return 1
        fi
        local d
        d=$(_testhost_dir "$name")
        mkdir -p "$TESTHOST_STATE"
        if ! mkdir "$d" 2>/dev/null; then
                _testhost_err "a test host named '$name' exists ($d); stop it or pick another name"
                return 1
        fi
        mkdir "$d/mnt"
        TESTHOST_BOOTED+=("$name")
        {
                declare -p opt_install opt_mask opt_copy opt_enable opt_nspawn opt_tmpfs
        } >"$d/options"
        local t0=$EPOCHREALTIME
        _testhost_msg "booting $name"
        (
                exec </dev/null >"$d/console.log" 2>&1
                _testhost_enter_cgroups "$name" "$d" || exit 1
                trap - EXIT INT TERM
                if [ "$(cat "$d/cgroup-mode")" = systemd-scope ]; then
                        exec systemd-run --quiet --scope --collect --unit="testhost-$name" \
                                -p Delegate=yes -- \
                                unshare --mount --propagation private -- \
                                bash -c 'source "$1"; _testhost_stage2 "$2"' testhost "$TESTHOST_LIB" "$name"
                fi
                exec unshare --mount --propagation private -- \
                        bash -c 'source "$1"; _testhost_stage2 "$2"' testhost "$TESTHOST_LIB" "$name"
        ) &
        echo "$! $(_testhost_proc_id $!)" >"$d/launcher.pid"
        disown $! 2>/dev/null || true

        # Wait for the container's systemd to exist, then for the boot to finish.
        local deadline leader
        deadline=$(($(date +%s) + timeout))
        while ! leader=$(testhost_leader "$name"); do
                if ! _testhost_pid_alive "$d/launcher.pid" >/dev/null && ! testhost_nspawn_pid "$name" >/dev/null; then
                        _testhost_err "$name: systemd-nspawn exited during start-up"
                        _testhost_fail "$name"
                        return 1
                fi
                if [ "$(date +%s)" -ge "$deadline" ]; then
                        _testhost_err "$name: its systemd did not start within ${timeout}s"
                        _testhost_fail "$name"
                        return 1
                fi
                sleep 0.05
        done
        _testhost_record_cgroups "$name"
        [ "$wait" = 1 ] || return 0
        if ! testhost_wait "$name" "$((deadline - $(date +%s)))" >/dev/null; then
                _testhost_fail "$name"
                return 1
        fi
        _testhost_msg "$name is up ($(_testhost_elapsed "$t0") s), systemd is PID $leader on this machine"
}

_testhost_elapsed() {
        local now=$EPOCHREALTIME
        awk -v a="$1" -v b="$now" 'BEGIN { printf "%.2f", b - a }'
}

_testhost_record_cgroups() {
        local name=$1 d leader cg2 rel top
        d=$(_testhost_dir "$name")
        leader=$(testhost_leader "$name") || return 0
        cat "$d/cgroups.made" >"$d/cgroups" 2>/dev/null
        if [ "$(cat "$d/cgroup-mode" 2>/dev/null)" = systemd-scope ] && cg2=$(_testhost_cg2_mount); then
                # .../testhost-NAME.scope/payload/init.scope → the scope
                rel=$(sed -n 's/^0:://p' /proc/"$leader"/cgroup)
                top=${rel%/payload/*}
                [ -n "$top" ] && [ "$top" != "$rel" ] && echo "$cg2$top" >>"$d/cgroups"
        fi
}

_testhost_fail() {
        local name=$1 log
        log=$(testhost_log "$name")
        if [ -s "$log" ]; then
                echo "---- console of test host $name (last 60 lines) ----" >&2
                tail -n 60 "$log" >&2
                echo "---- end of console ----" >&2
        fi
        testhost_cleanup "$name"
}

testhost_wait() {
        local name=$1 timeout=${2:-${TESTHOST_BOOT_TIMEOUT:-90}} deadline state
        deadline=$(($(date +%s) + timeout))
        while :; do
                state=$(testhost_exec "$name" systemctl is-system-running 2>/dev/null)
                case $state in
                running)
                        echo "$state"
                        return 0
                        ;;
                degraded)
                        _testhost_msg "warning: $name is degraded; failed units:"
                        testhost_exec "$name" systemctl --failed --no-legend --plain >&2
                        echo "$state"
                        return 0
                        ;;
                esac
                if ! testhost_nspawn_pid "$name" >/dev/null; then
                        _testhost_err "$name: the host stopped while booting"
                        return 1
                fi
                if [ "$(date +%s)" -ge "$deadline" ]; then
                        _testhost_err "$name: not up after ${timeout}s (state '${state:-unknown}'); jobs:"
                        testhost_exec "$name" systemctl list-jobs --no-pager >&2
                        return 1
                fi
                sleep 0.1
        done
}

testhost_exec() {
        local name=$1 leader cg2 rel
        shift
        leader=$(testhost_leader "$name") || {
                _testhost_err "test host '$name' is not running"
                return 1
        }
        (
                # Join the host's init.scope first so the command is inside the host's cgroup
                # namespace and its systemd may move it (systemd-run --scope, ctrmgrd's scopes).
                if cg2=$(_testhost_cg2_mount); then
                        rel=$(sed -n 's/^0:://p' /proc/"$leader"/cgroup)
                        [ -n "$rel" ] && echo "$BASHPID" >"$cg2$rel/cgroup.procs" 2>/dev/null
                fi
                exec nsenter -t "$leader" -a -- env -i PATH="$TESTHOST_PATH" HOME=/root \
                        LANG=C.UTF-8 TERM="${TERM:-dumb}" USER=root LOGNAME=root "$@"
        )
}

testhost_sh() {
        local name=$1
        shift
        testhost_exec "$name" bash -c "$*"
}

testhost_shell() {
        testhost_exec "$1" bash -l
}

testhost_install() { # NAME BUILDDIR
        local name=$1 build pid root
        build=$(cd "$2" && pwd) || return 1
        pid=$(testhost_nspawn_pid "$name") || {
                _testhost_err "test host '$name' is not running"
                return 1
        }
        root=$(testhost_root "$name")
        nsenter -t "$pid" -m -- meson install -C "$build" --no-rebuild --quiet --destdir "$root" >&2 || return 1
        testhost_exec "$name" systemctl daemon-reload
}

testhost_copy() { # NAME SRC DEST
        local name=$1 src pid
        src=$(realpath "$2") || return 1
        pid=$(testhost_nspawn_pid "$name") || {
                _testhost_err "test host '$name' is not running"
                return 1
        }
        nsenter -t "$pid" -m -- bash -c 'source "$1"; _testhost_copy_into "$2" "$3" "$4"' \
                testhost "$TESTHOST_LIB" "$(testhost_root "$name")" "$src" "$3"
}

testhost_stop() {
        local name=$1 timeout=${2:-30} pid deadline
        if pid=$(testhost_nspawn_pid "$name"); then
                testhost_exec "$name" systemctl poweroff --no-block >/dev/null 2>&1 ||
                        kill -TERM "$pid" 2>/dev/null
                deadline=$(($(date +%s) + timeout))
                while testhost_nspawn_pid "$name" >/dev/null; do
                        if [ "$(date +%s)" -ge "$deadline" ]; then
                                _testhost_err "$name did not power off within ${timeout}s; killing it"
                                break
                        fi
                        sleep 0.1
                done
        fi
        testhost_cleanup "$name"
}

_testhost_cgroup_pids() { # every PID in the cgroup trees listed in FILE
        local cg
        while read -r cg; do
                [ -d "$cg" ] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null
        done <"$1"
}

testhost_cleanup() {
        local name=$1 d pid f i pids
        _testhost_check_name "$name" || return 1
        d=$(_testhost_dir "$name")
        [ -d "$d" ] || return 0
        # 1. The processes we started, by PID: nspawn forwards SIGTERM as a shutdown request.
        for f in nspawn.pid launcher.pid; do
                pid=$(_testhost_pid_alive "$d/$f") && kill -TERM "$pid" 2>/dev/null
        done
        for i in $(seq 50); do
                _testhost_pid_alive "$d/nspawn.pid" >/dev/null || _testhost_pid_alive "$d/launcher.pid" >/dev/null || break
                sleep 0.1
        done
        for f in leader.pid nspawn.pid launcher.pid; do
                pid=$(_testhost_pid_alive "$d/$f") && kill -KILL "$pid" 2>/dev/null
        done
        for i in $(seq 50); do
                _testhost_pid_alive "$d/leader.pid" >/dev/null || _testhost_pid_alive "$d/nspawn.pid" >/dev/null || break
                sleep 0.1
        done
        # 2. Anything still in the host's cgroups is its own (all of it descends from the
        #    processes above, or was placed there by testhost_exec).
        [ -f "$d/cgroups" ] || cp "$d/cgroups.made" "$d/cgroups" 2>/dev/null || : >"$d/cgroups"
        for i in $(seq 50); do
                pids=$(_testhost_cgroup_pids "$d/cgroups")
                [ -n "$pids" ] || break
                # shellcheck disable=SC2086
                kill -KILL $pids 2>/dev/null
                sleep 0.1
        done
        if [ -n "$pids" ]; then
                _testhost_err "$name: processes left in its cgroups: $pids"
        fi
        # 3. Remove the cgroups made for it, children first (nspawn made payload/ and supervisor/
        #    and the host's systemd made its slices and scopes below payload/).
        local cg rc=0
        while read -r cg; do
                case $cg in */testhost-"$name" | */testhost-"$name".scope) ;; *) continue ;; esac
                [ -d "$cg" ] || continue
                find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
                if [ -d "$cg" ]; then
                        _testhost_err "$name: could not remove cgroup $cg"
                        rc=1
                fi
        done <"$d/cgroups"
        if [ "$(cat "$d/cgroup-mode" 2>/dev/null)" = systemd-scope ]; then
                systemctl stop "testhost-$name.scope" >/dev/null 2>&1
        fi
        # 4. The mounts lived only in the private mount namespace, which went away with its last
        #    process; the mount point itself is an empty directory on the machine.
        if grep -qF " $d/mnt" /proc/self/mountinfo; then
                _testhost_err "$name: $d/mnt is mounted in this namespace (not removed)"
                rc=1
        else
                rm -rf --one-file-system "$d"
        fi
        local -a keep=()
        for i in "${TESTHOST_BOOTED[@]}"; do [ "$i" = "$name" ] || keep+=("$i"); done
        TESTHOST_BOOTED=("${keep[@]}")
        return $rc
}

testhost_cleanup_all() {
        local n
        for n in "${TESTHOST_BOOTED[@]}"; do
                testhost_cleanup "$n"
        done
}

testhost_trap_cleanup() {
        trap 'testhost_cleanup_all' EXIT
        trap 'testhost_cleanup_all; exit 130' INT
        trap 'testhost_cleanup_all; exit 143' TERM
}

testhost_list() {
        local d n state
        for d in "$TESTHOST_STATE"/*/; do
                [ -d "$d" ] || continue
                n=$(basename "$d")
                if testhost_nspawn_pid "$n" >/dev/null; then
                        state=$(testhost_exec "$n" systemctl is-system-running 2>/dev/null)
                        echo "$n ${state:-starting} leader=$(testhost_leader "$n" 2>/dev/null)"
                else
                        echo "$n stopped (run: testhost cleanup $n)"
                fi
        done
}

# ---- command line ------------------------------------------------------------------------------

_testhost_usage() {
        cat <<EOF
usage: testhost COMMAND NAME [ARGS]
  boot NAME [--install BUILDDIR] [--copy SRC:/DEST]… [--enable UNIT]… [--mask UNIT]…
            [--bind SRC[:DEST]]… [--nspawn-arg ARG]… [--timeout SEC] [--no-wait]
  exec NAME CMD [ARG…]      run a command inside
  shell NAME                a login shell inside
  install NAME BUILDDIR     meson install into it, then systemctl daemon-reload
  copy NAME SRC DEST        copy a file or directory into it
  stop NAME                 power it off and remove everything it used
  cleanup NAME              force teardown (also for a host whose nspawn already died)
  list                      the test hosts on this machine
See tests/system/README.md.
EOF
}

testhost_main() {
        local cmd=${1:-}
        shift || true
        case $cmd in
        boot) testhost_boot "$@" ;;
        exec) testhost_exec "$@" ;;
        sh) testhost_sh "$@" ;;
        shell) testhost_shell "$@" ;;
        install) testhost_install "$@" ;;
        copy) testhost_copy "$@" ;;
        stop) testhost_stop "$@" ;;
        cleanup) testhost_cleanup "$@" ;;
        wait) testhost_wait "$@" ;;
        list) testhost_list ;;
        leader) testhost_leader "$@" ;;
        -h | --help | help) _testhost_usage ;;
        *)
                _testhost_usage >&2
                return 2
                ;;
        esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        testhost_main "$@"
        exit $?
fi
