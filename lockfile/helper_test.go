//go:build unix

package lockfile

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the helper process that holds or contends for
// locks, so the tests exercise real processes, real SIGKILLs and real
// kernel flock release. LOCKFILE_HELPER selects the helper's role:
//
//	holder  take the lock, print "locked", hold until stdin closes, release
//	worker  take the lock LOCKFILE_ITER times, proving exclusivity with a
//	        marker file each time (exit 3 on overlap), maybe dying by SIGKILL
const helperEnv = "LOCKFILE_HELPER"

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		os.Exit(runHelper(role))
	}
	os.Exit(m.Run())
}

func runHelper(role string) int {
	path := os.Getenv("LOCKFILE_PATH")
	opt := Options{Command: "lockfile-test " + role, StaleEmpty: envDuration("LOCKFILE_STALE_EMPTY", 0)}
	if os.Getenv("LOCKFILE_LEASE") == "1" {
		flockUnsupported = true
	}
	leaseHeartbeat = envDuration("LOCKFILE_HEARTBEAT", leaseHeartbeat)
	leaseTTL = envDuration("LOCKFILE_TTL", leaseTTL)
	if h := os.Getenv("LOCKFILE_HOST"); h != "" {
		hostname = func() string { return h }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	var err error
	switch role {
	case "holder":
		err = runHolder(ctx, path, opt)
	case "worker":
		err = runWorker(ctx, path, opt)
	default:
		err = fmt.Errorf("unknown helper role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "helper %s (pid %d): %v\n", role, os.Getpid(), err)
		if strings.Contains(err.Error(), "OVERLAP") {
			return 3
		}
		return 1
	}
	return 0
}

func runHolder(ctx context.Context, path string, opt Options) error {
	l, err := Acquire(ctx, path, opt)
	if err != nil {
		return err
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin) // hold until the test closes stdin (or kills us)
	if err := l.Release(); err != nil {
		return err
	}
	fmt.Println("released")
	return nil
}

// runWorker acquires the lock repeatedly. While holding, it creates
// PATH.marker exclusively and checks on the way out that the marker is
// still its own: two holders at once make one of them fail with OVERLAP.
// With LOCKFILE_KILL_PCT it SIGKILLs itself mid-hold (leaving lock and
// marker behind), and with LOCKFILE_KILL_CREATE_PCT between the lock
// file's create and its record (leaving an empty lock file).
func runWorker(ctx context.Context, path string, opt Options) error {
	iter := envInt("LOCKFILE_ITER", 50)
	killPct, createKillPct := envInt("LOCKFILE_KILL_PCT", 0), envInt("LOCKFILE_KILL_CREATE_PCT", 0)
	testHook = func(point string) {
		if point == "created" && rand.IntN(100) < createKillPct {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
	marker := path + ".marker"
	for i := 0; i < iter; i++ {
		l, err := Acquire(ctx, path, opt)
		if err != nil {
			return err
		}
		if err := enterMarker(marker); err != nil {
			return err
		}
		if rand.IntN(100) < killPct {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
		if err := leaveMarker(marker); err != nil {
			return err
		}
		if err := l.Release(); err != nil {
			return err
		}
		fmt.Println("ok")
	}
	return nil
}

func enterMarker(marker string) error {
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			_, err = fmt.Fprintf(f, "%d\n", os.Getpid())
			return errorsJoinClose(err, f)
		}
		if !os.IsExist(err) {
			return err
		}
		b, _ := os.ReadFile(marker)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if pid <= 0 || attempt > 0 {
			return fmt.Errorf("OVERLAP: marker present (%q) while we hold the lock", b)
		}
		// Left by a holder that was SIGKILLed while holding. It must be
		// dead: its death is what released the lock to us. Allow a moment
		// for the kernel to finish tearing it down after dropping its flock.
		deadline := time.Now().Add(time.Second)
		for pidAlive(pid) {
			if time.Now().After(deadline) {
				return fmt.Errorf("OVERLAP: holder %d is alive while we hold the lock", pid)
			}
			time.Sleep(time.Millisecond)
		}
		os.Remove(marker)
	}
}

func leaveMarker(marker string) error {
	b, err := os.ReadFile(marker)
	if err != nil {
		return fmt.Errorf("OVERLAP: our marker vanished while we held the lock: %v", err)
	}
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(os.Getpid()) {
		return fmt.Errorf("OVERLAP: marker names pid %s while we (%d) hold the lock", got, os.Getpid())
	}
	return os.Remove(marker)
}

func errorsJoinClose(err error, f *os.File) error {
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

// proc is a running helper (or bash) process.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, line by line; closed at EOF
	done   chan error  // the exit status, once stdout hit EOF
	stderr syncBuffer
}

// syncBuffer is a bytes.Buffer safe to read while the process writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// spawnHelper starts the test binary as a helper in role, locking path.
func spawnHelper(t *testing.T, role, path string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, "LOCKFILE_PATH="+path)
	cmd.Env = append(cmd.Env, env...)
	return start(t, cmd)
}

// spawnBash runs script with bash; "$1" is path.
func spawnBash(t *testing.T, script, path string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command("bash", "-c", script, "bash", path)
	cmd.Env = append(os.Environ(), env...)
	return start(t, cmd)
}

func start(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, lines: make(chan string, 1024), done: make(chan error, 1)}
	cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		p.stdin.Close()
	})
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// expect waits for the next stdout line to be want.
func (p *proc) expect(t *testing.T, want string, within time.Duration) {
	t.Helper()
	select {
	case got, ok := <-p.lines:
		if !ok || got != want {
			t.Fatalf("pid %d printed %q (open=%v), want %q; stderr: %s", p.pid(), got, ok, want, p.stderr.String())
		}
	case <-time.After(within):
		t.Fatalf("pid %d did not print %q within %v", p.pid(), want, within)
	}
}

// wait returns the process's exit status.
func (p *proc) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	timeout := time.After(within)
	lines := p.lines
	for {
		select {
		case _, ok := <-lines: // drain
			if !ok {
				lines = nil
			}
		case err := <-p.done:
			p.done <- err // keep it for later callers
			return err
		case <-timeout:
			t.Fatalf("pid %d still running after %v", p.pid(), within)
		}
	}
}

// lockPath returns a lock path in a fresh private directory.
func lockPath(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "tokctl")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "creds.json.lock")
}
