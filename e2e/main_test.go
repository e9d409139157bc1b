package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// stack is the running Hydra, its counting front door and the login/consent app, shared by
// every test; each test registers its own OAuth2 client and TOKCTL_HOME.
//
// The tests run one at a time, not in parallel: Hydra's in-memory database (SQLite in shared
// cache mode) answers writes that overlap in time with 500 "Unable to serialize access due to a
// concurrent update", so one test's burst would break another test's login or refresh.
var stack *hydraStack

// workDir holds this run's Hydra log and the binaries built for it; removed at the end.
var workDir string

// TestMain builds (or finds) Hydra, starts the stack, runs the tests and stops it again.
func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	// Hydra is started with Pdeathsig, which fires when the starting thread ends: keep this
	// goroutine on one thread until the process exits.
	runtime.LockOSThread()
	bin, err := hydraBinary()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	work, err := os.MkdirTemp("", "tokctl-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(work)
	workDir = work

	start := time.Now()
	s, err := startStack(bin, work)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: start hydra: %v\n", err)
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "e2e: hydra ready in %v (issuer %s)\n", time.Since(start).Round(time.Millisecond), s.issuer)
	}
	stack = s
	code := m.Run()
	s.stop()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: hydra's log (warnings and errors):\n%s\n", tail(s.logPath, 40))
	}
	return code
}

// hydraBinary returns $TOKCTL_E2E_HYDRA, or asks hydra.sh for the cached binary (building it
// on the first run).
func hydraBinary() (string, error) {
	if p := os.Getenv("TOKCTL_E2E_HYDRA"); p != "" {
		return p, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "hydra.sh")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hydra.sh: %w", err)
	}
	p := strings.TrimSpace(string(out))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("hydra.sh printed %q: %w", p, err)
	}
	return p, nil
}

// tail returns the last n lines of a file, for failure reports.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// tempFile is a path in a per-test directory; t.TempDir cleans it up.
func tempFile(t *testing.T, name string) string { return filepath.Join(t.TempDir(), name) }

// exitCode returns the exit status of a finished command, or -1 when it did not run.
func exitCode(err error) int {
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		return exitErr.ExitCode()
	default:
		return -1
	}
}
