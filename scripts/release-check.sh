#!/usr/bin/env bash
# Checks goreleaser.yaml with the pinned goreleaser and builds a snapshot release of the
# working tree, then looks inside what it built:
#
#   scripts/release-check.sh           # check + snapshot release: 6 binaries, archives, checksums, deb/rpm
#   scripts/release-check.sh --quick   # check + two single-target builds (linux/amd64, windows/arm64)
#
# goreleaser comes from the Go module proxy (go run …@v2.15.1): about 10 minutes to build the
# first time on 2 cores (and a few more to compile the standard library for the other five
# targets), 15-20 seconds a run after that. Needs Go, git, tar, gzip, sha256sum; dpkg-deb when
# present. The working tree is not touched: goreleaser runs on a copy in a fresh repository,
# so uncommitted changes are included and no tag or clean tree is needed. KEEP=1 keeps the copy.
set -euo pipefail
cd "$(dirname "$0")/.."

GORELEASER=github.com/goreleaser/goreleaser/v2@v2.15.1
quick=
case "${1:-}" in
--quick) quick=1 ;;
"") ;;
*) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

step() { printf '== %s\n' "$*"; }
fail() { echo "release-check: $*" >&2; exit 1; }
goreleaser() { go run "$GORELEASER" "$@"; }

step "build goreleaser ${GORELEASER#*@} (cached after the first time)"
goreleaser --version >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/tokctl-release.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
step "copy the working tree to $work/src"
mkdir "$work/src"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf - | tar -xf - -C "$work/src"
cd "$work/src"
git init -q
git add -A
git -c user.name=release-check -c user.email=release-check@localhost.invalid commit -qm "release check" --no-gpg-sign
git remote add origin https://github.com/tokctl/tokctl.git # only read, never fetched

step "goreleaser check"
goreleaser check

# zip_list ARCHIVE: the names in a zip, with Go's archive/zip (no unzip needed).
zip_list() {
	[ -f "$work/ziplist/main.go" ] || {
		mkdir -p "$work/ziplist"
		cat >"$work/ziplist/main.go" <<-'EOF'
			package main

			import ("archive/zip"; "fmt"; "os")

			func main() {
				r, err := zip.OpenReader(os.Args[1])
				if err != nil { fmt.Fprintln(os.Stderr, err); os.Exit(1) }
				for _, f := range r.File { fmt.Println(f.Name) }
			}
		EOF
	}
	go run "$work/ziplist/main.go" "$1"
}

# binary_ok FILE GOOS: a static, trimmed, tagged build for GOOS, stamped with the version
# goreleaser gave this snapshot (-trimpath keeps -ldflags out of "go version -m": look inside).
binary_ok() {
	local info
	info=$(go version -m "$1") || fail "$1: not a Go binary"
	for want in "CGO_ENABLED=0" "-trimpath=true" "-tags=urfave_cli_no_docs" "GOOS=$2"; do
		grep -qF -- "$want" <<<"$info" || fail "$1: build settings lack $want"
	done
	grep -aqF -- "$version" "$1" || fail "$1: version \"$version\" not stamped in"
}

# snapshot_version is the version goreleaser gave the build in dist/.
snapshot_version() {
	version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json)
	[ -n "$version" ] || fail "no version in dist/metadata.json"
}

if [ -n "$quick" ]; then
	for target in linux/amd64 windows/arm64; do
		step "goreleaser build --snapshot --single-target ($target)"
		# --single-target builds for $GOOS/$GOARCH: give them to goreleaser, not to "go run".
		go run -exec "env GOOS=${target%/*} GOARCH=${target#*/}" "$GORELEASER" \
			build --snapshot --clean --single-target >/dev/null 2>"$work/log" ||
			{ cat "$work/log" >&2; fail "goreleaser build failed"; }
		snapshot_version
		bin=$(find dist -type f \( -name tokctl -o -name tokctl.exe \) | head -1)
		[ -n "$bin" ] || fail "no binary for $target in dist/"
		binary_ok "$bin" "${target%/*}"
	done
	step "ok (quick)"
	exit 0
fi

step "goreleaser release --snapshot (no publishing)"
goreleaser release --snapshot --clean >/dev/null 2>"$work/log" || { cat "$work/log" >&2; fail "goreleaser release failed"; }

step "look inside dist/"
snapshot_version
cd dist
shopt -s nullglob
sha256sum -c --quiet checksums.txt || fail "checksums.txt does not match"
for os in linux darwin windows; do
	for arch in amd64 arm64; do
		bin=tokctl
		[ $os = windows ] && bin=tokctl.exe
		archives=(tokctl_*_${os}_${arch}.tar.gz tokctl_*_${os}_${arch}.zip)
		[ ${#archives[@]} = 1 ] || fail "not one archive for $os/$arch: ${archives[*]}"
		archive=${archives[0]}
		case $archive in
		*.zip) list=$(zip_list "$archive") ;;
		*) list=$(tar -tzf "$archive") ;;
		esac
		for f in "$bin" README.md completions/tokctl.bash completions/tokctl.zsh completions/tokctl.fish completions/tokctl.ps1 manpages/tokctl.1.gz; do
			grep -qx -- "$f" <<<"$list" || fail "$archive lacks $f"
		done
		bins=(tokctl_${os}_${arch}*/$bin)
		[ ${#bins[@]} = 1 ] || fail "not one $os/$arch binary: ${bins[*]}"
		binary_ok "${bins[0]}" $os
	done
done
bins=(tokctl_linux_amd64*/tokctl)
said=$("./${bins[0]}" --version)
[ "$said" = "tokctl version $version" ] || fail "linux/amd64 --version says: $said"
zcat ../manpages/tokctl.1.gz | grep -q '^\.TH TOKCTL 1 ' || fail "manpages/tokctl.1.gz is not tokctl(1)"
debs=(tokctl_*_amd64.deb) rpms=(tokctl-*.x86_64.rpm)
[ ${#debs[@]} = 1 ] && [ ${#rpms[@]} = 1 ] || fail "not one amd64 .deb and one .rpm: ${debs[*]} ${rpms[*]}"
if command -v dpkg-deb >/dev/null; then
	contents=$(dpkg-deb -c "${debs[0]}")
	for f in ./usr/bin/tokctl ./usr/bin/git-credential-tokctl ./usr/share/bash-completion/completions/tokctl \
		./usr/share/zsh/vendor-completions/_tokctl ./usr/share/fish/vendor_completions.d/tokctl.fish \
		./usr/share/man/man1/tokctl.1.gz; do
		grep -qF -- " $f" <<<"$contents" || fail "the .deb lacks $f"
	done
fi
echo "$said"
archives=(*.tar.gz *.zip) packages=(*.deb *.rpm)
step "ok: ${#archives[@]} archives, ${#packages[@]} packages, checksums verified"
