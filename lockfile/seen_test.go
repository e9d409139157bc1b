package lockfile

import (
	"context"
	"os"
	"testing"
	"time"
)

// Options.Seen hears of a stale lock broken on the way to the lock, with the dead holder's record.
func TestSeenReportsABrokenStaleLock(t *testing.T) {
	path := lockPath(t)
	// A tokctl record of a process that cannot be alive, and nobody flocks the file.
	dead := Owner{PID: maxPID - 1, Host: hostname(), Since: time.Now().Add(-time.Minute).UTC(), Command: "tokctl token"}
	if err := os.WriteFile(path, dead.record(), 0o600); err != nil {
		t.Fatal(err)
	}
	var broken []Owner
	l, err := Acquire(context.Background(), path, Options{Seen: func(o Owner, b bool) {
		if b {
			broken = append(broken, o)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if len(broken) != 1 || broken[0].PID != dead.PID {
		t.Fatalf("Seen reported broken locks %+v, want the dead holder's", broken)
	}
}

// Options.Seen names a live holder once, however many polls the wait takes.
func TestSeenNamesTheHolderOnce(t *testing.T) {
	path := lockPath(t)
	held := mustAcquire(t, path, Options{Command: "holder"})
	time.AfterFunc(30*time.Millisecond, func() { held.Release() })
	var seen []Owner
	l, err := Acquire(context.Background(), path, Options{Seen: func(o Owner, b bool) { seen = append(seen, o) }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if len(seen) != 1 || seen[0].PID != os.Getpid() || seen[0].Command != "holder" {
		t.Fatalf("Seen = %+v, want the holder once", seen)
	}
}
