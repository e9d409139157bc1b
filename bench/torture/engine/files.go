package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Build compiles tokctl from the module root into out exactly as a release is built
// (CGO_ENABLED=0, -trimpath, -tags urfave_cli_no_docs, -ldflags "-s -w"), plus extra tags.
func Build(root, out, tags string) error { return BuildPackage(root, ".", out, tags) }

// BuildPackage is Build for any main package of the module, e.g. ./bench/layers/variant.
func BuildPackage(root, pkg, out, tags string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-tags", strings.Trim("urfave_cli_no_docs,"+tags, ","), "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s (tags %q): %w\n%s", pkg, tags, err, b)
	}
	return nil
}

// HasHooks reports whether the binary at path carries the torture hooks (their environment
// variable names are in every build that has them).
func HasHooks(path string) (bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	return bytes.Contains(b, []byte("TOKCTL_TORTURE_")), nil
}

// Machine describes where a run took place: CPUs, CPU model, kernel, Go.
func Machine() string {
	model, kernel := "unknown CPU", "unknown"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%d CPUs, %s, Linux %s, %s", runtime.NumCPU(), model, kernel, runtime.Version())
}

// ModuleRoot returns the directory of tokctl's go.mod, wherever a harness was started.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the tokctl module (run from the repository)")
	}
	return filepath.Dir(gomod), nil
}

// WriteSection replaces the part of the Markdown file at path between the lines
// "<!-- section:NAME -->" and "<!-- /section:NAME -->" with body (appending the section when the
// file has none, creating the file when missing), so that several commands can share a file.
func WriteSection(path, name, body string) error {
	begin, end := "<!-- section:"+name+" -->", "<!-- /section:"+name+" -->"
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	block := begin + "\n" + strings.TrimRight(body, "\n") + "\n" + end + "\n"
	i, j := strings.Index(s, begin), strings.Index(s, end)
	switch {
	case i >= 0 && j > i:
		s = s[:i] + block + strings.TrimPrefix(s[j+len(end):], "\n")
	case s == "":
		s = block
	default:
		s = strings.TrimRight(s, "\n") + "\n\n" + block
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
