#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The bash completion of ctrmgr (manager/completion/ctrmgr), run by bash itself: sourced, with
# COMP_WORDS/COMP_CWORD set as bash sets them, the function called, COMPREPLY compared. `ctrmgr`
# on PATH is a stand-in that prints a `list` table (no daemon) and hands --help to the built
# ctrmgr, so verbs and image commands come from the real help texts. Runs once with plain bash
# and once with bash-completion's library loaded (its _filedir), when it is installed. No root.
#
#   test-completion.sh BUILD_DIR SOURCE_DIR
set -uo pipefail

build=$(realpath "$1")
src=$(realpath "$2")
completion=$src/manager/completion/ctrmgr
bash_completion=/usr/share/bash-completion/bash_completion

T=$(mktemp -d /tmp/ctrmgr-completion-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bin" "$T/units/sub" "$T/units/web.ctr.d"
touch "$T/units/extra.ctr" "$T/units/quadlet.container" "$T/units/notes.txt"

export REAL_CTRMGR=$build/tools/ctrmgr
cat >"$T/bin/ctrmgr" <<'EOF'
#!/bin/sh
# ctrmgr as the completion sees it: `list` from a daemon that runs four units.
if [ "$*" = "--no-pager --no-legend list" ]; then
        cat <<'LIST'
● web      loaded active   running busybox:latest Static web server
○ db       loaded inactive dead    busybox:latest Database
× broken   error  inactive dead                   
● app@blue loaded active   running busybox:latest App, blue instance
LIST
        exit 0
fi
exec "$REAL_CTRMGR" "$@"
EOF
chmod +x "$T/bin/ctrmgr"
export PATH=$T/bin:$PATH

# The cases, run in a shell that has sourced the completion; prints "ok|not ok - DESC" lines.
cat >"$T/cases.sh" <<'EOF'
U=$T/units
# comp WORD… : what completing the last WORD gives (sorted, space-separated)
comp() {
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _ctrmgr ctrmgr "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'
}
# is DESC EXPECTED WORD…: exactly these completions
is() {
        local d=$1 want=$2 got; shift 2
        got=$(comp "$@")
        if [ "$got" = "$want" ]; then echo "ok - $MODE: $d"; else
                echo "not ok - $MODE: $d"; echo "#   ctrmgr ${*:2}|: wanted \"$want\", got \"$got\""; fi
}
# has DESC "W…" [-not "W…"] -- WORD…: these among the completions (and those not)
has() {
        local d=$1 want=$2 not="" got w ok=1; shift 2
        if [ "$1" = -not ]; then not=$2; shift 2; fi
        shift # --
        got=" $(comp "$@") "
        for w in $want; do [[ $got == *" $w "* ]] || ok=; done
        for w in $not; do [[ $got != *" $w "* ]] || ok=; done
        if [ -n "$ok" ]; then echo "ok - $MODE: $d"; else
                echo "not ok - $MODE: $d"; echo "#   ctrmgr ${*:2}|: wanted \"$want\" and not \"$not\", got \"$got\""; fi
}

has "verbs from ctrmgr --help, reload and reset-failed among them" \
        "list status start stop restart reload kill reset-failed daemon-reload logs exec spec verify cat image" -- ctrmgr ""
is "verbs by prefix" "reload reset-failed restart" ctrmgr re
is "global options" "--no-legend --no-pager" ctrmgr --no-
is "--output's values" "json text" ctrmgr --output ""
is "unit names, not the state dots" "app@blue broken db web" ctrmgr status ""
is "unit names by prefix" "web" ctrmgr status w
is "more units after one" "app@blue broken db web" ctrmgr stop web ""
is "after global options" "web" ctrmgr --no-pager -o json status w
is "after --output=json" "web" ctrmgr --output = json status w
for v in start restart reload reset-failed logs; do
        is "$v takes unit names" "db" ctrmgr $v d
done
is "kill: its options" "--help --signal -s" ctrmgr kill -
is "kill --signal: signal names" "SIGKILL" ctrmgr kill --signal SIGKI
is "kill -s: signal names" "SIGKILL" ctrmgr kill -s SIGKI
is "kill --signal=: signal names" "SIGKILL" ctrmgr kill --signal = SIGKI
has "kill --signal= with nothing typed yet" "SIGTERM SIGKILL SIGHUP" -- ctrmgr kill --signal =
is "kill: units after the signal" "web" ctrmgr kill --signal KILL w
is "logs: its options" "--directory --follow --help --lines --no-pager --output --since -D -f -n" ctrmgr logs -
is "logs -n N: then units" "web" ctrmgr logs -n 5 w
is "logs --since: words it knows" "today" ctrmgr logs --since to
has "logs -D: directories" "$U/sub" -not "$U/extra.ctr" -- ctrmgr logs -D "$U/"
is "cat: unit names, not files" "web" ctrmgr cat w
is "cat --unit-path DIR: that directory's units too" "extra" ctrmgr cat --unit-path "$U" e
is "cat --unit-path=DIR: that directory's units too" "quadlet" ctrmgr cat --unit-path = "$U" q
is "spec: its options" "--cgroup-driver --help --image-store --state-dir --unit-path" ctrmgr spec --
is "spec --cgroup-driver" "cgroupfs systemd" ctrmgr spec --cgroup-driver ""
is "exec: a unit first" "web" ctrmgr exec w
is "exec -t: a unit first" "web" ctrmgr exec -t w
is "exec NAME: no host commands for the container" "" ctrmgr exec web ""
is "exec NAME CMD: its options are the command's" "" ctrmgr exec web ls --signal ""
has "verify: .ctr/.container files and directories" "$U/extra.ctr $U/quadlet.container $U/sub" \
        -not "$U/notes.txt" -- ctrmgr verify "$U/"
is "verify: its options" "--help --strict --unit-path" ctrmgr verify -
is "image: its commands" "import import-rootfs inspect list mount prune rm umount unpack" ctrmgr image ""
is "image: commands by prefix" "import import-rootfs inspect" ctrmgr image i
has "image: its options" "--store --layers --name --read-only" -- ctrmgr image --
is "image --store DIR, then commands" "list" ctrmgr image --store "$U" l
has "image import FILE" "$U/notes.txt $U/sub" -- ctrmgr image import "$U/"
is "list takes no arguments" "" ctrmgr list ""
is "list: the global options that change its output" "--help --no-legend --no-pager --output" ctrmgr list --
is "status: the global options after the verb" "--no-pager" ctrmgr status --no-p
is "status -o after the verb: the output modes" "json text" ctrmgr status -o ""
is "status --output=json after the verb, then units" "web" ctrmgr status --output = json w
is "status -o json after the verb, then units" "web" ctrmgr status -o json w
EOF

results=$T/results
MODE=bash T=$T bash --norc --noprofile -c 'source "$1" && source "$2"' _ "$completion" "$T/cases.sh" >"$results" 2>&1
if [ -r "$bash_completion" ]; then
        MODE=bash-completion T=$T bash --norc --noprofile -c \
                'source "$1"; source "$2" && source "$3"' _ "$bash_completion" "$completion" "$T/cases.sh" >>"$results" 2>&1
else
        echo "ok - bash-completion # SKIP $bash_completion not installed" >>"$results"
fi

n=0 failures=0
while IFS= read -r line; do
        case $line in
        "ok - "*) n=$((n + 1)); echo "ok $n - ${line#ok - }" ;;
        "not ok - "*) n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - ${line#not ok - }" ;;
        "#"*) echo "$line" ;;
        *) echo "# $line" ;;
        esac
done <"$results"
echo "1..$n"
[ "$n" -gt 0 ] && [ $failures -eq 0 ]
