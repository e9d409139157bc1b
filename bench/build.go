package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// releaseFlags are exactly the flags of a tokctl release build (goreleaser.yaml, README).
var releaseFlags = []string{"build", "-trimpath", "-tags", "urfave_cli_no_docs", "-ldflags", "-s -w"}

// releaseCommand is releaseFlags as a shell line, for the report.
const releaseCommand = `CGO_ENABLED=0 go build -trimpath -tags urfave_cli_no_docs -ldflags "-s -w"`

// binaries are the programs under test: tokctl, the floor, the floor linked with all of tokctl
// (bench/linkedfloor), which separates the price of the dependency set from tokctl's work, and
// the floor linked with net/http and urfave/cli only (bench/clifloor), the least any tokctl links.
type binaries struct {
	tokctl, floor, linked, cli string
	tokctlSize, floorSize      int64
}

// build compiles tokctl (the module's main package) and bench/floor into dir with the release
// flags and CGO_ENABLED=0. extraTags, normally empty, are added to tokctl's build tags only:
// "tokctl_nolock" builds a tokctl without the lock, to prove the correctness checks fail.
func build(root, dir, extraTags string) (*binaries, error) {
	b := &binaries{tokctl: filepath.Join(dir, "tokctl"), floor: filepath.Join(dir, "floor"), linked: filepath.Join(dir, "linkedfloor"), cli: filepath.Join(dir, "clifloor")}
	for _, t := range []struct{ out, pkg string }{{b.tokctl, "."}, {b.floor, "./bench/floor"}, {b.linked, "./bench/linkedfloor"}, {b.cli, "./bench/clifloor"}} {
		args := append([]string{}, releaseFlags...)
		if extraTags != "" && t.pkg == "." {
			args[3] += "," + extraTags
		}
		args = append(args, "-o", t.out, t.pkg)
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", t.pkg, err, out)
		}
	}
	for _, t := range []struct {
		path string
		size *int64
	}{{b.tokctl, &b.tokctlSize}, {b.floor, &b.floorSize}} {
		st, err := os.Stat(t.path)
		if err != nil {
			return nil, err
		}
		*t.size = st.Size()
	}
	return b, nil
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
