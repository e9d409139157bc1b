//go:build unix

package lockfile

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// overlapRun drives worker helpers (see runWorker) until total holds have
// completed, keeping `parallel` workers alive: a worker that dies by
// SIGKILL is replaced. Any worker seeing another holder's marker while it
// holds the lock exits 3 and fails the test. It returns how many workers
// were killed.
func overlapRun(t *testing.T, path string, parallel, perWorker, total int, env ...string) (kills int) {
	t.Helper()
	type exit struct {
		p   *proc
		oks int
		err error
	}
	exits := make(chan exit)
	launch := func() {
		p := spawnHelper(t, "worker", path, append(env, fmt.Sprintf("LOCKFILE_ITER=%d", perWorker))...)
		go func() {
			oks := 0
			for line := range p.lines {
				if line == "ok" {
					oks++
				}
			}
			exits <- exit{p, oks, <-p.done}
		}()
	}
	for i := 0; i < parallel; i++ {
		launch()
	}
	done, running := 0, parallel
	deadline := time.After(45 * time.Second)
	for running > 0 {
		select {
		case e := <-exits:
			running--
			done += e.oks
			var ee *exec.ExitError
			switch {
			case e.err == nil:
			case errors.As(e.err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
				kills++
			default:
				t.Fatalf("worker %d: %v\n%s", e.p.pid(), e.err, e.p.stderr.String())
			}
			if done+running*perWorker < total {
				launch()
				running++
			}
		case <-deadline:
			t.Fatalf("only %d of %d holds after 45s", done, total)
		}
	}
	if done < total {
		t.Fatalf("%d holds completed, want %d", done, total)
	}
	return kills
}

func TestExclusiveAcrossProcesses(t *testing.T) {
	path := lockPath(t)
	start := time.Now()
	overlapRun(t, path, 8, 50, 400)
	t.Logf("400 exclusive holds by 8 processes in %v", time.Since(start))
}

func TestExclusiveWhileBreakingLocksOfKilledHolders(t *testing.T) {
	// Holders die by SIGKILL mid-hold (lock file complete, flock dropped by
	// the kernel) and between create and record (empty lock file); the
	// others break those stale locks concurrently, under the guard.
	path := lockPath(t)
	start := time.Now()
	kills := overlapRun(t, path, 8, 40, 300,
		"LOCKFILE_KILL_PCT=4", "LOCKFILE_KILL_CREATE_PCT=1", "LOCKFILE_STALE_EMPTY=50ms")
	t.Logf("300 exclusive holds, %d holders SIGKILLed, in %v", kills, time.Since(start))
	if kills < 5 {
		t.Errorf("only %d workers were killed; the test did not exercise stale locks", kills)
	}
}

func TestExclusiveInLeaseMode(t *testing.T) {
	path := lockPath(t)
	overlapRun(t, path, 4, 25, 100, "LOCKFILE_LEASE=1")
}

func TestExclusiveWithShellScriptsContending(t *testing.T) {
	// Two bash loops take the same lock the noclobber way and check the
	// same marker while four tokctl workers compete with them.
	path := lockPath(t)
	script := `
set -o noclobber
for i in $(seq 10); do
  until { echo $$ > "$1"; } 2>/dev/null; do sleep 0.002; done
  if ! { echo $$ > "$1.marker"; } 2>/dev/null; then
    echo "OVERLAP: marker $(cat "$1.marker") present while script $$ holds the lock" >&2; exit 3
  fi
  sleep 0.001
  [ "$(cat "$1.marker")" = "$$" ] || { echo "OVERLAP: marker replaced" >&2; exit 3; }
  rm -f "$1.marker" "$1"
done
echo done`
	var scripts []*proc
	for i := 0; i < 2; i++ {
		scripts = append(scripts, spawnBash(t, script, path))
	}
	overlapRun(t, path, 4, 25, 100)
	for _, s := range scripts {
		if err := s.wait(t, 30*time.Second); err != nil {
			t.Fatalf("script %d: %v\n%s", s.pid(), err, s.stderr.String())
		}
		if strings.Contains(s.stderr.String(), "OVERLAP") {
			t.Fatal(s.stderr.String())
		}
	}
}
