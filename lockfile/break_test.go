//go:build unix

package lockfile

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// These tests replay, step by step, the interleavings that make breaking a
// stale lock dangerous, using testHook to stop a party at the worst moment.

func TestBreakStaleJudgesAgainUnderTheGuard(t *testing.T) {
	// Inode numbers are reused: the file a waiter judged stale may be gone
	// and a live holder's new file may carry the same inode by the time the
	// waiter has the guard. Simulate exactly that: a verdict "stale" on the
	// very inode a live holder now has. Only the re-judgement saves it.
	path := lockPath(t)
	l := mustAcquire(t, path, Options{})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	old := judgement{state: stateStale, info: fi, kind: kindTokctl}
	retry, err := breakStale(context.Background(), path, old, Options{}.withDefaults(), nil)
	if err != nil || retry {
		t.Fatalf("breakStale = %v, %v; want no break", retry, err)
	}
	if err := l.ours(); err != nil {
		t.Fatalf("live holder's lock file was broken: %v", err)
	}
}

func TestBreakStaleChecksTheInode(t *testing.T) {
	// A verdict on one file must not be applied to another at the path.
	path := lockPath(t)
	os.WriteFile(path, []byte(""), 0o600)
	judgedFi, _ := os.Stat(path)
	// Move the judged file aside (so its inode stays in use) and put a
	// different, equally stale-looking file at the path.
	os.Rename(path, path+".judged")
	os.WriteFile(path, nil, 0o600)
	stale := Options{StaleEmpty: time.Nanosecond}.withDefaults()
	retry, err := breakStale(context.Background(), path, judgement{state: stateStale, info: judgedFi}, stale, nil)
	if err != nil || !retry {
		t.Fatalf("breakStale = %v, %v; want retry without breaking", retry, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("a file that was never judged was removed: %v", err)
	}
}

func TestStalledCreatorWhoseFileWasBrokenStartsOver(t *testing.T) {
	// A creator stalls between its exclusive create and its flock for
	// longer than StaleEmpty, so a waiter breaks the empty file and takes
	// the lock. When the creator resumes, its flock lands on an unlinked
	// file: it must notice and wait, not believe it holds the lock.
	path := lockPath(t)
	opt := Options{StaleEmpty: 20 * time.Millisecond}
	created, resume := make(chan struct{}), make(chan struct{})
	var once bool
	testHook = func(point string) {
		if point == "created" && !once {
			once = true
			close(created)
			<-resume
		}
	}
	stalled := acquireAsync(path, 10*time.Second, opt)
	<-created
	time.Sleep(50 * time.Millisecond)
	winner, err := acquireWithin(t, path, 2*time.Second, opt)
	if err != nil {
		t.Fatalf("waiter could not break the stalled creator's empty file: %v", err)
	}
	close(resume)
	select {
	case r := <-stalled:
		t.Fatalf("stalled creator returned (%v) while the waiter holds the lock", r.err)
	case <-time.After(200 * time.Millisecond):
	}
	winner.Release()
	r := <-stalled
	testHook = nil
	if r.err != nil {
		t.Fatal(r.err)
	}
	r.l.Release()
}

func TestReleaseUnlinksBeforeDroppingTheFlock(t *testing.T) {
	// Whoever is woken by the flock going away must find the path free,
	// never a file that could still be flocked.
	path := lockPath(t)
	l := mustAcquire(t, path, Options{})
	watcher, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	testHook = func(point string) {
		if point == "release" {
			time.Sleep(50 * time.Millisecond) // between the two steps
		}
	}
	defer func() { testHook = nil }()
	woke := make(chan error, 1)
	go func() {
		if err := flockFile(watcher, syscall.LOCK_SH); err != nil {
			woke <- err
			return
		}
		_, err := os.Stat(path)
		woke <- err
	}()
	time.Sleep(20 * time.Millisecond)
	l.Release()
	if err := <-woke; !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("when the flock was dropped the lock path was still there (stat err %v)", err)
	}
}

func TestBreakStaleSparesTheFileOfTheNextHolder(t *testing.T) {
	// A breaker opens the file at the path; before it judges, that holder
	// releases (unlink, then close) and a new holder creates its file. The
	// breaker now finds the old file unflocked with a complete record,
	// rightly stale, but must not unlink the path, which is the new holder's.
	path := lockPath(t)
	first := mustAcquire(t, path, Options{})
	fi, _ := os.Stat(path)
	var next *Lock
	testHook = func(point string) {
		if point == "break-opened" {
			testHook = nil
			first.Release()
			next = mustAcquire(t, path, Options{})
		}
	}
	defer func() { testHook = nil }()
	j := judgement{state: stateStale, info: fi, kind: kindTokctl}
	if _, err := breakStale(context.Background(), path, j, Options{}.withDefaults(), nil); err != nil {
		t.Fatal(err)
	}
	if next == nil {
		t.Fatal("hook did not run")
	}
	if err := next.ours(); err != nil {
		t.Fatalf("the next holder's lock file was broken: %v", err)
	}
}
