package main

import (
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	vcs := func(rev, at, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "-buildmode", Value: "exe"}, {Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: at}, {Key: "vcs.modified", Value: modified}}
	}
	const rev, at = "abcdef1234567890abcdef1234567890abcdef12", "2026-12-05T10:00:00Z"
	info := func(mod string, settings []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/tokctl/tokctl", Version: mod}, Settings: settings}
	}
	for _, tc := range []struct {
		name, stamped string
		bi            *debug.BuildInfo
		want          string
	}{
		{"release stamp wins over everything", "v1.2.3", info("v0.0.0-20261205100000-abcdef123456+dirty", vcs(rev, at, "true")), "v1.2.3"},
		{"release stamp without build info", "v1.2.3", nil, "v1.2.3"},
		{"go install module@version", "dev", info("v1.2.3", nil), "v1.2.3"},
		{"go build at a clean tag", "dev", info("v1.2.3", vcs(rev, at, "false")), "v1.2.3 (abcdef123456, 2026-12-05T10:00:00Z)"},
		{"go build, pseudo-version, dirty", "dev", info("v0.0.0-20261205100000-abcdef123456+dirty", vcs(rev, at, "true")),
			"v0.0.0-20261205100000-abcdef123456+dirty (abcdef123456, 2026-12-05T10:00:00Z, dirty)"},
		{"devel with vcs, clean", "dev", info("(devel)", vcs(rev, at, "false")), "dev (abcdef123456, 2026-12-05T10:00:00Z)"},
		{"devel with vcs, dirty", "dev", info("(devel)", vcs(rev, at, "true")), "dev (abcdef123456, 2026-12-05T10:00:00Z, dirty)"},
		{"short revision kept whole", "dev", info("(devel)", vcs("abc", "", "")), "dev (abc)"},
		{"devel without vcs", "dev", info("(devel)", nil), "dev (no VCS information)"},
		{"empty module version", "dev", info("", nil), "dev (no VCS information)"},
		{"no build info at all", "dev", nil, "dev"},
	} {
		if got := buildVersion(tc.stamped, tc.bi); got != tc.want {
			t.Errorf("%s: buildVersion = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// The hot paths never read the build info; anything that may print the version does.
func TestShowsVersion(t *testing.T) {
	for args, want := range map[string]bool{
		"tokctl": true, "tokctl --version": true, "tokctl -version": true, "tokctl --version=true": true,
		"tokctl --help": true, "tokctl -h": true, "tokctl help": true, "tokctl token --help": true, "tokctl man": true,
		"tokctl token": false, "tokctl token --profile work --output header": false, "tokctl git-credential get": false,
		"tokctl kubectl --profile k": false, "tokctl exec -- curl --version": false, "tokctl -v token": false,
		"tokctl __complete token --pro": false, "tokctl status": false,
	} {
		if got := showsVersion(strings.Fields(args)); got != want {
			t.Errorf("showsVersion(%q) = %v, want %v", args, got, want)
		}
	}
}

// A binary built by "go build" in this checkout names the commit it was built from; one
// stamped the way goreleaser.yaml stamps it prints the stamp alone.
func TestVersionNamesTheBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tokctl twice")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	head := func() string {
		out, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil {
			t.Skipf("not a git checkout: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	dirty := func() bool {
		out, err := exec.Command("git", "status", "--porcelain").Output()
		if err != nil {
			t.Fatal(err)
		}
		return len(out) > 0
	}
	dir := t.TempDir()
	run := func(bin string) string {
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("%s --version: %v\n%s", bin, err, out)
		}
		return string(out)
	}
	build := func(name string, flags ...string) string {
		bin := filepath.Join(dir, name)
		// -buildvcs=true: the default ("auto") stamps the commit too, but GOFLAGS may say false.
		args := append([]string{"build", "-buildvcs=true", "-o", bin}, flags...)
		if out, err := exec.Command(goTool, append(args, ".")...).CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		return bin
	}

	// Others may commit or edit while this builds: what the build saw lies between the two looks.
	headBefore, dirtyBefore := head(), dirty()
	got := run(build("tokctl"))
	headAfter, dirtyAfter := head(), dirty()
	if !strings.HasPrefix(got, "tokctl version ") || strings.Contains(got, "no VCS information") {
		t.Fatalf("--version = %q, want the build's commit", got)
	}
	if !strings.Contains(got, "("+headBefore[:12]+", ") && !strings.Contains(got, "("+headAfter[:12]+", ") {
		t.Errorf("--version = %q, want it to name HEAD %s", got, headAfter[:12])
	}
	if dirtyBefore == dirtyAfter && strings.Contains(got, ", dirty)") != dirtyAfter {
		t.Errorf("--version = %q, but the working tree is dirty=%v", got, dirtyAfter)
	}

	if got := run(build("tokctl-release", "-ldflags", "-X main.version=v9.8.7")); got != "tokctl version v9.8.7\n" {
		t.Errorf("stamped --version = %q, want %q", got, "tokctl version v9.8.7\n")
	}
}
