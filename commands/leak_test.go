package commands_test

// The secret-leak audit: TOKCTL_LEAK_AUDIT=1 go test ./commands/ (test.sh does).
//
// Every token the tests' authorization servers mint is a recognisable sentinel (oauthtest's
// at_/rt_/ac_/dc_ prefix and 32 base64url characters, pinned by TestLeakSentinelsAreOAuthtests),
// and every client secret in the scripts contains "s3cret". With the audit on:
//
//   - each tokctl process a script runs copies its argv, stdout, stderr and any panic
//     (debug.SetCrashOutput) into a record directory; at the end, no stderr, panic or argv may
//     hold a sentinel, and no stdout may either — except an access token printed by the
//     commands whose job that is (token, git-credential, kubectl, exec);
//   - every file a script leaves under its TOKCTL_HOME except the credential store itself
//     (profiles, locks, failure records, event logs) must be free of sentinels;
//   - a goroutine sweeps /proc every 10 ms for the argv of every process descended
//     from the test binary — tokctl built as a real binary, curl, git, kubectl, sh, browsers.
//
// A finding fails the package run (exit 1) with where it was seen, the sentinel redacted.

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tokctl/tokctl/commands"
)

const (
	leakAuditEnv = "TOKCTL_LEAK_AUDIT" // "1" turns the audit on
	leakDirEnv   = "TOKCTL_LEAK_DIR"   // set for script processes: where they keep their record
)

// sentinels are what must never leak; stdoutOK marks the one kind some commands print by design.
var sentinels = []struct {
	what     string
	re       *regexp.Regexp
	stdoutOK bool
}{
	{"an access token", regexp.MustCompile(`\bat_[A-Za-z0-9_-]{32}`), true},
	{"a refresh token", regexp.MustCompile(`\brt_[A-Za-z0-9_-]{32}`), false},
	{"an authorization code", regexp.MustCompile(`\bac_[A-Za-z0-9_-]{32}`), false},
	{"a device code", regexp.MustCompile(`\bdc_[A-Za-z0-9_-]{32}`), false},
	{"a client secret", regexp.MustCompile(`s3cret[A-Za-z0-9_%-]*`), false},
}

// tokenPrinters are the commands whose stdout is an access token (or a child's, for exec).
var tokenPrinters = []string{"token", "git-credential", "kubectl", "exec"}

// audit collects findings from the record directory, the homes and the /proc sweeps.
var audit struct {
	mu       sync.Mutex
	dir      string // record directory; "" when the audit is off
	findings []string
	homes    int
	allowed  map[string]bool // token values a test leaks on purpose
}

// allowLeak exempts one value from the audit: for a test that demonstrates a leak on purpose
// (the naive curl recipe that the README warns against).
func allowLeak(value string) {
	audit.mu.Lock()
	defer audit.mu.Unlock()
	if audit.allowed == nil {
		audit.allowed = map[string]bool{}
	}
	audit.allowed[value] = true
}

func addFinding(format string, args ...any) {
	audit.mu.Lock()
	defer audit.mu.Unlock()
	audit.findings = append(audit.findings, redact(fmt.Sprintf(format, args...)))
}

// scanText reports each sentinel kind in data; stdoutOK allows access tokens.
func scanText(where string, data []byte, stdoutOK bool) {
	audit.mu.Lock()
	allowed := maps.Clone(audit.allowed)
	audit.mu.Unlock()
	for _, s := range sentinels {
		if stdoutOK && s.stdoutOK {
			continue
		}
		for _, m := range s.re.FindAll(data, -1) {
			if !allowed[string(m)] {
				addFinding("%s holds %s", where, s.what)
				break
			}
		}
	}
}

// redact replaces every sentinel in s, so the report itself leaks nothing.
func redact(s string) string {
	for _, sn := range sentinels {
		s = sn.re.ReplaceAllStringFunc(s, func(m string) string { return m[:3] + "…(redacted)" })
	}
	return s
}

// leakAudited wraps the test run in the audit when TOKCTL_LEAK_AUDIT=1.
func leakAudited(m *testing.M) testscript.TestingM {
	if os.Getenv(leakAuditEnv) != "1" {
		return m
	}
	return auditedRun{m}
}

type auditedRun struct{ m *testing.M }

func (a auditedRun) Run() int {
	dir, err := os.MkdirTemp("", "tokctl-leak-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "leak audit:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	audit.dir = dir
	stop := sweepProc(10 * time.Millisecond)
	code := a.m.Run()
	sweeps := stop()
	records := scanRecords(dir)
	if len(audit.findings) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL leak audit: %d finding(s):\n  %s\n", len(audit.findings), strings.Join(audit.findings, "\n  "))
		return max(code, 1)
	}
	fmt.Fprintf(os.Stderr, "leak audit: clean (%d script processes, %d homes, %d /proc sweeps)\n", records, audit.homes, sweeps)
	return code
}

// leakSetup gives a script's processes the record directory and scans its home at the end.
func leakSetup(env *testscript.Env) {
	if audit.dir == "" {
		return
	}
	env.Setenv(leakDirEnv, audit.dir)
	home := filepath.Join(env.WorkDir, "home")
	env.Defer(func() { scanHome(filepath.Base(env.WorkDir), home) })
}

// auditedIO is the script's tokctl process's side: stdio copied into its record.
func auditedIO(std commands.IO) commands.IO {
	dir := os.Getenv(leakDirEnv)
	if dir == "" {
		return std
	}
	prefix := filepath.Join(dir, fmt.Sprint(os.Getpid()))
	os.WriteFile(prefix+".argv", []byte(strings.Join(os.Args, "\x00")), 0o600)
	open := func(ext string) *os.File {
		f, err := os.OpenFile(prefix+ext, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			panic(err)
		}
		return f
	}
	debug.SetCrashOutput(open(".crash"), debug.CrashOptions{})
	return commands.IO{Stdin: std.Stdin, Stdout: io.MultiWriter(std.Stdout, open(".stdout")), Stderr: io.MultiWriter(std.Stderr, open(".stderr"))}
}

// scanRecords checks every script process's record and returns how many there were.
func scanRecords(dir string) int {
	argvs, _ := filepath.Glob(filepath.Join(dir, "*.argv"))
	for _, path := range argvs {
		prefix := strings.TrimSuffix(path, ".argv")
		raw, _ := os.ReadFile(path)
		args := strings.Split(string(raw), "\x00")
		who := fmt.Sprintf("script process %s (%s)", filepath.Base(prefix), strings.Join(args, " "))
		scanText("the argv of "+who, raw, false)
		for ext, stdoutOK := range map[string]bool{".stdout": printsTokens(args), ".stderr": false, ".crash": false} {
			if data, err := os.ReadFile(prefix + ext); err == nil {
				scanText(strings.TrimPrefix(ext, ".")+" of "+who, data, stdoutOK)
			}
		}
	}
	return len(argvs)
}

// printsTokens reports whether argv runs one of the tokenPrinters.
func printsTokens(args []string) bool {
	for _, a := range args[1:] {
		if slices.Contains(tokenPrinters, a) {
			return true
		}
	}
	return false
}

// scanHome checks every file a script left under its TOKCTL_HOME except the credentials.
func scanHome(script, home string) {
	audit.mu.Lock()
	audit.homes++
	audit.mu.Unlock()
	filepath.WalkDir(home, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || isCredentialFile(home, path) {
			return nil
		}
		if data, err := os.ReadFile(path); err == nil {
			rel, _ := filepath.Rel(home, path)
			scanText(fmt.Sprintf("file %s in the home of script %s", rel, script), data, false)
		}
		return nil
	})
}

// isCredentialFile: the file store's own files (credentials/NAME.json and their temporary
// files) are where tokens belong.
func isCredentialFile(home, path string) bool {
	rel, _ := filepath.Rel(home, path)
	dir, name := filepath.Split(rel)
	return filepath.Clean(dir) == "credentials" && (strings.HasSuffix(name, ".json") || strings.Contains(name, ".json.tmp"))
}
