package main

import (
	"runtime/debug"
	"strings"
)

// versionFor is the version string tokctl runs with. Only a command line that may show it
// (--version, help, the man page; see showsVersion) pays for debug.ReadBuildInfo, which costs
// start-up (about 0.1 ms on its first call); "tokctl token" and the other hot paths get the
// stamped version as it is.
func versionFor(args []string) string {
	if !showsVersion(args) {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return buildVersion(version, bi)
}

// showsVersion reports whether args may print the version: "tokctl" alone (help), any
// --version, --help or -h flag, and the "help" and "man" commands (the man page's header names
// the version). Everything before "--" is looked at; a profile named "man" only costs a little.
func showsVersion(args []string) bool {
	if len(args) < 2 {
		return true
	}
	for _, a := range args[1:] {
		if a == "--" {
			return false
		}
		if name, ok := strings.CutPrefix(a, "-"); ok {
			name, _, _ = strings.Cut(strings.TrimPrefix(name, "-"), "=")
			if name == "version" || name == "help" || name == "h" {
				return true
			}
			continue
		}
		if a == "help" || a == "man" {
			return true
		}
	}
	return false
}

// buildVersion names the build, so that every bug report says which one it is.
//
//   - A release build stamped with -ldflags "-X main.version=v1.2.3" (goreleaser.yaml) is
//     "v1.2.3", and nothing else: the tag says it all.
//   - "go install github.com/tokctl/tokctl@v1.2.3" stamps nothing, but the module version is in
//     the build info: "v1.2.3".
//   - "go build" in a checkout records the commit: "v0.0.0-20261205100000-abcdef123456+dirty
//     (abcdef123456, 2026-12-05T10:00:00Z, dirty)", or, with a Go that gives no module version
//     there, "dev (abcdef123456, 2026-12-05T10:00:00Z, dirty)". "dirty" means the working tree
//     had uncommitted changes.
//   - A build with neither (-buildvcs=false, no module version) is "dev (no VCS information)".
func buildVersion(stamped string, bi *debug.BuildInfo) string {
	if stamped != "dev" && stamped != "" {
		return stamped
	}
	v := "dev"
	if bi == nil {
		return v
	}
	if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
		v = mv
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	var details []string
	if rev != "" {
		details = append(details, rev[:min(len(rev), 12)])
	}
	if at != "" {
		details = append(details, at)
	}
	if dirty {
		details = append(details, "dirty")
	}
	switch {
	case len(details) > 0:
		return v + " (" + strings.Join(details, ", ") + ")"
	case v == "dev":
		return "dev (no VCS information)"
	}
	return v
}
