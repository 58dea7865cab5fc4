#!/usr/bin/env bash
# Installs every Debian package the project needs to build, test, benchmark and run its test
# hosts: the union of scripts/packages.d/*.txt (one package a line, '#' comments). Idempotent;
# skips apt entirely when everything is already installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here"/packages.d/*.txt | grep -v '^$' | sort -u)
missing=()
for p in "${pkgs[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
                missing+=("$p")
        fi
done
if [ ${#missing[@]} -eq 0 ]; then
        echo "install-deps: all ${#pkgs[@]} packages present"
        exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing packages (run as root to install): ${missing[*]}" >&2
        exit 1
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
        # Name the culprit instead of leaving the reader to find it in apt's output.
        for p in "${missing[@]}"; do
                apt-cache show "$p" >/dev/null 2>&1 ||
                        echo "install-deps: no Debian package named '$p' (listed in $(grep -lx "$p" "$here"/packages.d/*.txt | xargs -n1 basename | tr '\n' ' '))" >&2
        done
        exit 1
fi
