#!/usr/bin/env bash
# The test command named in README.md (and run by .ci/run): installs what the tests need, then
# runs them. Go modules come through the module proxy; system packages through apt (as root).
set -euo pipefail
cd "$(dirname "$0")"

need() { # need COMMAND PACKAGE: install PACKAGE when COMMAND is missing
	command -v "$1" >/dev/null 2>&1 && return
	[ "$(id -u)" = 0 ] || { echo "test.sh: $1 is missing; install package $2" >&2; exit 1; }
	[ -n "${apt_updated:-}" ] || { apt-get update -qq; apt_updated=1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need bash bash
need git git
need gcc gcc # the race detector needs cgo
need curl curl # the curl recipes are tested with the real client
need zsh zsh   # completion tests run the real shells
need fish fish
need redis-server redis-server     # the fleet store is tested against real Redis (redistest/)
need redis-sentinel redis-sentinel # and real Sentinel failovers

step() { printf '\n== %s\n' "$*"; }

step "vet"
go vet ./...
test -z "$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed" >&2; exit 1; }

step "unit tests (race detector)"
TOKCTL_TEST_REDIS=1 go test -race -count=1 . ./config/ ./creds/ ./flows/ ./gitcred/ ./kubeexec/ ./lockfile/ ./oauthtest/ ./providers/ ./diagnose/ ./eventlog/ ./redistest/ ./redisconn/ ./redisstore/ # TOKCTL_TEST_REDIS=1: no Redis fails instead of skipping

step "benchmark correctness (quick)"
go run ./bench -quick -out "$(mktemp)"

step "fleet benchmark correctness (quick): 8 hosts on one Redis store, one refresh per burst; the lease handoff after a kill"
go run ./bench/fleet -quick -scenarios abc -out "$(mktemp)" # d builds an old commit: not for a clone without history

step "torture slice (60 s): kill -9 at every moment of the refresh; fails on a double-presented refresh token, an unreadable credential or a failed caller that was not killed"
go run ./bench/torture -duration 60s -kill-rate 0.3 -out "$(mktemp)" # a third of the bursts with kills: more of them in a minute

step "torture slice on the Redis store (30 s): the same verdicts, with the lock, the fence and the credential in Redis"
go run ./bench/torture -store redis -duration 30s -kill-rate 0.3 -out "$(mktemp)"

# A count, not a duration: go1.26's fuzzing coordinator can report its own -fuzztime deadline as a
# failure ("context deadline exceeded", no input; go.dev/issue/75804, fixed in go1.27). A count
# has no deadline to race. 20000 runs take 1–4 s per target here, diagnose:FuzzParse about 14 s.
step "fuzz smoke (${FUZZEXECS:=20000} runs each)"
for target in creds:FuzzParseCredential flows:FuzzParseTokenResponse providers:FuzzParseMetadata lockfile:FuzzParseOwner gitcred:FuzzParse kubeexec:FuzzParseExecInfo config:FuzzParseProfile config:FuzzCheckEndpoint flows:FuzzCheckPasted flows:FuzzParseRetryAfter flows:FuzzParseClaims diagnose:FuzzParse creds:FuzzParseChunkHeader redisconn:FuzzReadReply; do
	log=$(mktemp)
	if ! go test -run '^$' -fuzz "^${target#*:}\$" -fuzztime "${FUZZEXECS}x" "./${target%%:*}/" >"$log" 2>&1; then
		cat "$log"
		echo "FAIL ${target} (a failing input, if one was found, is now in ${target%%:*}/testdata/fuzz/)"
		exit 1
	fi
	rm -f "$log"
	echo "ok   ${target}"
done

step "release configuration: goreleaser check and two snapshot targets"
scripts/release-check.sh --quick

step "command-line scripts and real-process tests, with the secret-leak audit (commands/leak_test.go)"
TOKCTL_LEAK_AUDIT=1 TOKCTL_TEST_REDIS=1 go test -count=1 ./commands/

step "keychain store against a real Secret Service (gnome-keyring in a private D-Bus session)"
need dbus-run-session dbus-daemon
need gnome-keyring-daemon gnome-keyring
need secret-tool libsecret-tools
# TOKCTL_TEST_KEYRING=1 turns the keychain tests' "no Secret Service" skip into a failure. The
# keyring lives in a fresh XDG_DATA_HOME: a login keyring left by another run (or the user's own)
# would not unlock with this password.
XDG_DATA_HOME="$(mktemp -d)" dbus-run-session -- sh -c 'echo -n tokctl-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null &&
	TOKCTL_TEST_KEYRING=1 go test -count=1 -run Keyring ./creds/ ./commands/' 2> >(grep -v "Failed to set fd limit" >&2)

step "end-to-end: real Ory Hydra, tokctl processes, headless Chromium (e2e/, docs/design.md §8)"
need chromium chromium
(cd e2e && go vet ./... && hydra="$(./hydra.sh)" && TOKCTL_E2E_HYDRA="$hydra" go test -count=1 ./...)
