#!/usr/bin/env bash
# setup.sh - Gradescope runs this once, as root, to build the image that
# grades socketlab lab @LAB@ (made by grader/tools/gradescope from
# grader/gradescope/setup.sh).  Base image: Ubuntu 22.04.
#
# Installs what grader/grade needs: a C compiler, make, valgrind (the
# memory test), patch, git, and bats 1.8.2 from its repository's pinned
# tag (Ubuntu 22.04's bats is 1.2.1, older than the 1.5 the tests need),
# or, where GitHub cannot be reached, the copy of bats the zip carries
# (vendor/bats-core, the packing machine's own); apt's bats is the last
# resort, good only where it is 1.5 or newer.  Then builds
# the grader's peers, so that each submission's run starts at once.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BATS_TAG=v1.8.2
BATS_REPO=https://github.com/bats-core/bats-core

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends build-essential make valgrind patch git \
	ca-certificates iproute2 procps
# The bats helper libraries: no test loads them, but grader/tools/deps
# looks for them (and would apt-get them on every run without them).
apt-get install -y -q --no-install-recommends bats-support bats-assert bats-file ||
	echo "setup.sh: no bats-support/bats-assert/bats-file packages here (not needed by the tests)" >&2

# bats_version BATS: "MAJOR MINOR" of that bats ("0 0" if it does not run).
bats_version() {
	local v
	v=$("$1" --version 2>/dev/null | sed -n 's/^Bats \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
	echo "${v:-0 0}"
}
new_enough() { # BATS: 1.5 or newer?
	local major minor
	read -r major minor <<<"$(bats_version "$1")"
	((major > 1 || (major == 1 && minor >= 5)))
}

tmp=$(mktemp -d)
vendor="$here/vendor/bats-core"	# the packing machine's bats, if it had 1.5+
if git clone -q --depth 1 --branch "$BATS_TAG" "$BATS_REPO" "$tmp/bats-core" &&
	"$tmp/bats-core/install.sh" /usr/local; then
	echo "setup.sh: bats $BATS_TAG installed in /usr/local"
elif [[ -x $vendor/bin/bats ]]; then
	echo "setup.sh: could not install bats $BATS_TAG from $BATS_REPO; installing the copy in the zip (bats $(cat "$vendor/VERSION" 2>/dev/null))" >&2
	mkdir -p /usr/local/bin /usr/local/lib /usr/local/libexec
	cp "$vendor/bin/bats" /usr/local/bin/bats
	cp -R "$vendor/lib/bats-core" /usr/local/lib/
	cp -R "$vendor/libexec/bats-core" /usr/local/libexec/
else
	echo "setup.sh: could not install bats $BATS_TAG from $BATS_REPO; trying apt's bats" >&2
	apt-get install -y -q --no-install-recommends bats
fi
rm -rf "$tmp"
export PATH="/usr/local/bin:$PATH"
bats=$(command -v bats || true)
if [[ -z $bats ]] || ! new_enough "$bats"; then
	echo "setup.sh: the grader needs bats 1.5 or newer; found: ${bats:-none} $( [[ -n $bats ]] && "$bats" --version)" >&2
	exit 1
fi
echo "setup.sh: using $bats ($("$bats" --version))"

make -s -C "$here" peers
echo "setup.sh: lab @LAB@ is ready to grade"
