//go:build unix

package lockfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// acquireAsync starts Acquire in a goroutine; the result arrives on the
// channel together with the time it returned.
func acquireAsync(path string, d time.Duration, opt Options) <-chan acquired {
	ch := make(chan acquired, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		l, err := Acquire(ctx, path, opt)
		ch <- acquired{l, err, time.Now()}
	}()
	return ch
}

type acquired struct {
	l   *Lock
	err error
	at  time.Time
}

func TestSIGKILLedHolderIsReplacedWithinMilliseconds(t *testing.T) {
	path := lockPath(t)
	holder := spawnHelper(t, "holder", path)
	holder.expect(t, "locked", 10*time.Second)

	waiter := acquireAsync(path, 10*time.Second, Options{})
	select {
	case r := <-waiter:
		t.Fatalf("got the lock while the holder lives: %v", r.err)
	case <-time.After(50 * time.Millisecond):
	}
	killed := time.Now()
	holder.cmd.Process.Signal(syscall.SIGKILL)
	r := <-waiter
	if r.err != nil {
		t.Fatalf("after SIGKILL: %v", r.err)
	}
	defer r.l.Release()
	handoff := r.at.Sub(killed)
	t.Logf("handoff after SIGKILL: %v", handoff)
	if handoff > time.Second {
		t.Errorf("handoff after SIGKILL took %v, want < 1s", handoff)
	}
	if _, err := os.Stat(path + guardSuffix); err != nil {
		t.Errorf("breaking the stale lock left no guard file: %v", err)
	}
}

func TestReleaseHandsOverWithinMilliseconds(t *testing.T) {
	path := lockPath(t)
	holder := spawnHelper(t, "holder", path)
	holder.expect(t, "locked", 10*time.Second)
	waiter := acquireAsync(path, 10*time.Second, Options{})
	time.Sleep(50 * time.Millisecond)
	asked := time.Now()
	holder.stdin.Close() // the holder releases
	r := <-waiter
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.l.Release()
	t.Logf("handoff after release (including the holder noticing EOF): %v", r.at.Sub(asked))
	if d := r.at.Sub(asked); d > time.Second {
		t.Errorf("handoff took %v", d)
	}
}

// staleCase writes content as a lock file nobody holds and checks that
// Acquire waits at least minWait for it but then breaks it.
func staleCase(t *testing.T, content string, opt Options, minWait time.Duration, holder string) {
	t.Helper()
	path := lockPath(t)
	created := time.Now()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := acquireWithin(t, path, minWait/2, opt)
	var he *HeldError
	if !errors.As(err, &he) || !strings.Contains(he.Holder, holder) {
		t.Fatalf("before %v: err = %v, want HeldError naming %q", minWait, err, holder)
	}
	l, err := acquireWithin(t, path, 5*time.Second, opt)
	if err != nil {
		t.Fatalf("stale lock not recovered: %v", err)
	}
	defer l.Release()
	// File times come from the kernel's coarse clock, a few ms behind time.Now.
	if took := time.Since(created); took < minWait-10*time.Millisecond {
		t.Errorf("broken after %v, before its %v", took, minWait)
	} else {
		t.Logf("broken after %v (threshold %v)", took, minWait)
	}
}

func TestEmptyLockFileIsRecoveredAfterStaleEmpty(t *testing.T) {
	opt := Options{StaleEmpty: 300 * time.Millisecond, StaleForeign: time.Minute}
	staleCase(t, "", opt, opt.StaleEmpty, "unknown holder (lock file created ")
}

func TestHalfWrittenRecordIsRecoveredAfterStaleEmpty(t *testing.T) {
	opt := Options{StaleEmpty: 300 * time.Millisecond, StaleForeign: time.Minute}
	staleCase(t, `{"pid":12345,"host":"bo`, opt, opt.StaleEmpty, "unknown holder")
}

func TestGarbageIsRecoveredAfterStaleForeign(t *testing.T) {
	opt := Options{StaleEmpty: 50 * time.Millisecond, StaleForeign: 600 * time.Millisecond}
	staleCase(t, "this is not a lock record\n", opt, opt.StaleForeign, "unknown holder")
}

func TestOtherHostPidIsRecoveredAfterStaleForeign(t *testing.T) {
	opt := Options{StaleEmpty: 50 * time.Millisecond, StaleForeign: 600 * time.Millisecond}
	staleCase(t, `{"pid": 1, "hostname": "elsewhere"}`, opt, opt.StaleForeign, "pid 1 on host elsewhere")
}

func TestFlockedEmptyFileIsNeverStale(t *testing.T) {
	// A holder between its exclusive create and writing its record.
	path := lockPath(t)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := lockExclusive(f); err != nil {
		t.Fatal(err)
	}
	_, err = acquireWithin(t, path, 400*time.Millisecond, Options{StaleEmpty: 20 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "unknown holder (lock file created") {
		t.Fatalf("err = %v, want timeout naming an unknown holder", err)
	}
}

func TestDeadTokctlRecordIsBrokenAtOnce(t *testing.T) {
	// A complete record whose flock is free: the holder died or released.
	path := lockPath(t)
	rec := Owner{PID: os.Getpid(), Host: hostname(), Since: time.Now(), Command: "tokctl token"}
	os.WriteFile(path, rec.record(), 0o600)
	start := time.Now()
	l, err := acquireWithin(t, path, 5*time.Second, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("took %v to break a dead holder's record", took)
	}
}

func TestLocalForeignJSONPidIsJudgedByLiveness(t *testing.T) {
	path := lockPath(t)
	sleeper := spawnBash(t, `echo up; read x`, path)
	sleeper.expect(t, "up", 5*time.Second)
	os.WriteFile(path, []byte(fmt.Sprintf(`{"pid": %d}`, sleeper.pid())), 0o600)
	_, err := acquireWithin(t, path, 100*time.Millisecond, Options{})
	var he *HeldError
	if !errors.As(err, &he) || he.Holder != fmt.Sprintf("pid %d", sleeper.pid()) || he.Owner != nil {
		t.Fatalf("err = %#v, want HeldError naming pid %d only", err, sleeper.pid())
	}
	sleeper.stdin.Close()
	sleeper.wait(t, 5*time.Second)
	l, err := acquireWithin(t, path, time.Second, Options{})
	if err != nil {
		t.Fatalf("dead foreign pid not broken: %v", err)
	}
	l.Release()
}
