package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/tokctl/tokctl/bench/internal/measure"
)

// releaseFlags are exactly the flags of a tokctl release build (goreleaser.yaml, README).
var releaseFlags = []string{"build", "-trimpath", "-tags", "urfave_cli_no_docs", "-ldflags", "-s -w"}

// releaseCommand is releaseFlags as a shell line, for the report.
const releaseCommand = `CGO_ENABLED=0 go build -trimpath -tags urfave_cli_no_docs -ldflags "-s -w"`

// plainCommand is how "go install github.com/tokctl/tokctl@…" builds tokctl: the default CGO
// setting (on where a C compiler is found), no -trimpath, no -ldflags, no tags.
const plainCommand = "go build"

// binaries are the programs under test: tokctl, the floor, the floor linked with all of tokctl
// (bench/linkedfloor), which separates the price of the dependency set from tokctl's work, the
// floor linked with net/http and urfave/cli only (bench/clifloor), the least any tokctl links,
// and tokctl built the way "go install" builds it (plainCommand), next to the release build.
type binaries struct {
	tokctl, floor, linked, cli, plain string
	tokctlSize, floorSize             int64
	size                              map[string]int64 // every binary's size, by path
}

// build compiles tokctl (the module's main package), bench/floor, bench/linkedfloor and
// bench/clifloor into dir with the release flags and CGO_ENABLED=0, and tokctl once more as
// "go install" would (plainCommand, the environment's CGO setting). extraTags, normally empty,
// are added to the release tokctl's build tags only: "tokctl_nolock" builds a tokctl without
// the lock, to prove the correctness checks fail.
func build(root, dir, extraTags string) (*binaries, error) {
	b := &binaries{tokctl: filepath.Join(dir, "tokctl"), floor: filepath.Join(dir, "floor"), linked: filepath.Join(dir, "linkedfloor"),
		cli: filepath.Join(dir, "clifloor"), plain: filepath.Join(dir, "tokctl-plain"), size: map[string]int64{}}
	for _, t := range []struct{ out, pkg string }{{b.tokctl, "."}, {b.floor, "./bench/floor"}, {b.linked, "./bench/linkedfloor"}, {b.cli, "./bench/clifloor"}, {b.plain, "."}} {
		args := append([]string{}, releaseFlags...)
		env := append(os.Environ(), "CGO_ENABLED=0")
		if t.out == b.plain {
			args, env = []string{"build"}, os.Environ()
		} else if extraTags != "" && t.pkg == "." {
			args[3] += "," + extraTags
		}
		args = append(args, "-o", t.out, t.pkg)
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", t.pkg, err, out)
		}
		size, err := measure.Settle(t.out)
		if err != nil {
			return nil, err
		}
		b.size[t.out] = size
	}
	b.tokctlSize, b.floorSize = b.size[b.tokctl], b.size[b.floor]
	return b, nil
}

// mib formats a binary's size.
func (b *binaries) mib(path string) string {
	return fmt.Sprintf("%.1f MiB", float64(b.size[path])/(1<<20))
}

// machine describes where the numbers were taken.
type machine struct {
	nproc              int
	model, kernel, goV string
}

func describeMachine() machine {
	m := machine{nproc: runtime.NumCPU(), model: "unknown", kernel: "unknown", goV: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.goV = strings.TrimSpace(strings.TrimPrefix(string(out), "go version "))
	}
	return m
}

func (m machine) String() string {
	return fmt.Sprintf("%d CPUs (nproc), %s, Linux %s, %s", m.nproc, m.model, m.kernel, m.goV)
}
