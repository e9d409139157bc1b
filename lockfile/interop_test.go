//go:build unix

package lockfile

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

// These tests pit Acquire against real bash processes using the classic
// shell lock: `set -o noclobber; echo $$ > PATH.lock`.

func TestShellScriptLockExcludesAcquire(t *testing.T) {
	path := lockPath(t)
	script := spawnBash(t, `set -o noclobber; echo $$ > "$1" && echo locked; read x; rm -f "$1"`, path)
	script.expect(t, "locked", 5*time.Second)

	_, err := acquireWithin(t, path, 150*time.Millisecond, Options{})
	var he *HeldError
	if !errors.As(err, &he) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want a timeout while the script holds the lock", err)
	}
	want := fmt.Sprintf("lock %s held by pid %d", path, script.pid())
	if err.Error() != want || he.Owner != nil {
		t.Errorf("err = %q (owner %v), want %q and no tokctl owner", err, he.Owner, want)
	}
	if o, held, err := Inspect(path); err != nil || !held || o.PID != script.pid() {
		t.Errorf("Inspect = %+v, %v, %v", o, held, err)
	}

	waiter := acquireAsync(path, 5*time.Second, Options{})
	time.Sleep(20 * time.Millisecond)
	script.stdin.Close() // the script removes its lock file and exits
	r := <-waiter
	if r.err != nil {
		t.Fatalf("Acquire after the script released: %v", r.err)
	}
	r.l.Release()
}

func TestDeadShellScriptLockIsBrokenAtOnce(t *testing.T) {
	// The script dies holding the lock: its pid is gone, so the lock is
	// stale at once, long before StaleForeign.
	path := lockPath(t)
	script := spawnBash(t, `set -o noclobber; echo $$ > "$1"`, path)
	if err := script.wait(t, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	l, err := acquireWithin(t, path, 5*time.Second, Options{StaleForeign: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %v to break a dead script's lock", took)
	}
}

func TestAcquireExcludesShellScript(t *testing.T) {
	path := lockPath(t)
	l := mustAcquire(t, path, Options{Command: "tokctl token"})

	try := spawnBash(t, `set -o noclobber; if { echo $$ > "$1"; } 2>/dev/null; then echo got; else echo busy; fi`, path)
	try.expect(t, "busy", 5*time.Second)

	waiting := spawnBash(t, `set -o noclobber
until { echo $$ > "$1"; } 2>/dev/null; do sleep 0.005; done
echo got; rm -f "$1"`, path)
	select {
	case line := <-waiting.lines:
		t.Fatalf("script printed %q while tokctl holds the lock", line)
	case <-time.After(200 * time.Millisecond):
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	waiting.expect(t, "got", 5*time.Second)
	if _, err := os.Stat(path); err == nil {
		waiting.wait(t, 5*time.Second)
	}
}
