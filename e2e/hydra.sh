#!/usr/bin/env bash
# hydra.sh prints the path of an Ory Hydra v2.3.0 binary for the e2e tests, building it first
# when the cache has none (design.md §8; about two minutes cold, with a cold module cache).
#
# The binary is cached outside the repository, in
#   ${TOKCTL_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokctl-e2e}/hydra-v2.3.0
# and built from the tool module in tools/hydra, whose go.mod and go.sum are checked in (with the
# pop/v6 replace Hydra needs), so nothing here runs "go mod tidy". The sqlite tag needs cgo.
#
# Usage: ./hydra.sh            build when missing, print the path
#        ./hydra.sh --rebuild  build even when cached
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${TOKCTL_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokctl-e2e}"
bin="$cache/hydra-v2.3.0"

if [ "${1:-}" = "--rebuild" ] || [ ! -x "$bin" ]; then
	mkdir -p "$cache"
	echo "hydra.sh: building Ory Hydra v2.3.0 into $bin (once; about two minutes)" >&2
	start=$(date +%s)
	tmp="$bin.tmp.$$"
	trap 'rm -f "$tmp"' EXIT
	(cd "$here/tools/hydra" && CGO_ENABLED=1 go build \
		-tags sqlite,sqlite_omit_load_extension -o "$tmp" github.com/ory/hydra/v2)
	mv -f "$tmp" "$bin" # rename: a concurrent run never sees half a binary
	echo "hydra.sh: built in $(($(date +%s) - start)) s" >&2
fi
echo "$bin"
