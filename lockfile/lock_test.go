//go:build unix

package lockfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func acquireWithin(t *testing.T, path string, d time.Duration, opt Options) (*Lock, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return Acquire(ctx, path, opt)
}

func mustAcquire(t *testing.T, path string, opt Options) *Lock {
	t.Helper()
	l, err := acquireWithin(t, path, 10*time.Second, opt)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	t.Cleanup(func() { l.Release() })
	return l
}

func TestAcquireWritesOwnerRecordInPrivateFile(t *testing.T) {
	path := lockPath(t)
	before := time.Now().Add(-time.Second)
	l := mustAcquire(t, path, Options{Command: "tokctl token"})
	if l.Path() != path {
		t.Errorf("Path() = %q, want %q", l.Path(), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if strings.Count(string(data), "\n") != 1 || !strings.HasSuffix(string(data), "\n") {
		t.Errorf("record is not one line: %q", data)
	}
	var o Owner
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatalf("record %q: %v", data, err)
	}
	host, _ := os.Hostname()
	if o.PID != os.Getpid() || o.Host != host || o.Command != "tokctl token" || o.Lease || o.Since.Before(before) {
		t.Errorf("record = %+v", o)
	}
}

func TestAcquireNeedsExistingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	path := filepath.Join(dir, "creds.json.lock")
	_, err := acquireWithin(t, path, time.Second, Options{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want a not-exist error naming %s", err, path)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Acquire created the directory (stat err %v)", err)
	}
}

func TestReleaseRemovesFileAndIsIdempotent(t *testing.T) {
	path := lockPath(t)
	l := mustAcquire(t, path, Options{})
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file still there after Release (stat err %v)", err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	mustAcquire(t, path, Options{}) // free again
}

func TestReleaseNeverRemovesSomeoneElsesLockFile(t *testing.T) {
	path := lockPath(t)
	l := mustAcquire(t, path, Options{})
	// Someone wrongly broke our lock and a new holder created its own file.
	os.Remove(path)
	theirs := []byte(`{"pid":1,"host":"x","since":"2026-01-01T00:00:00Z"}` + "\n")
	if err := os.WriteFile(path, theirs, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); !errors.Is(err, errLost) {
		t.Errorf("Release = %v, want errLost", err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(theirs) {
		t.Errorf("Release touched the other holder's file: %q", got)
	}
}

func TestTimeoutNamesTheHolder(t *testing.T) {
	path := lockPath(t)
	held := mustAcquire(t, path, Options{Command: "tokctl token"})
	start := time.Now()
	_, err := acquireWithin(t, path, 100*time.Millisecond, Options{})
	if took := time.Since(start); took < 100*time.Millisecond || took > time.Second {
		t.Errorf("timed out after %v, want ~100ms", took)
	}
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	var he *HeldError
	if !errors.As(err, &he) || he.Owner == nil || he.Owner.PID != os.Getpid() || he.Path != path {
		t.Fatalf("err = %#v, want *HeldError with our pid", err)
	}
	host, _ := os.Hostname()
	want := fmt.Sprintf("lock %s held by pid %d on host %s since %s (\"tokctl token\")",
		path, os.Getpid(), host, he.Owner.Since.UTC().Format(time.RFC3339))
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err, want)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("timeout disturbed the holder's file: %v", err)
	}
	held.Release()
}

func TestWatchEndsTheWait(t *testing.T) {
	path := lockPath(t)
	mustAcquire(t, path, Options{})
	calls := 0
	_, err := acquireWithin(t, path, 5*time.Second, Options{Watch: func() bool {
		calls++
		return calls == 3 // "a sibling already refreshed the credential"
	}})
	if !errors.Is(err, ErrNotNeeded) || calls != 3 {
		t.Fatalf("err = %v after %d Watch calls, want ErrNotNeeded after 3", err, calls)
	}
}

func TestCancelEndsTheWait(t *testing.T) {
	path := lockPath(t)
	mustAcquire(t, path, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	_, err := Acquire(ctx, path, Options{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want context.Canceled and not ErrTimeout", err)
	}
}

func TestGoroutinesExcludeEachOther(t *testing.T) {
	path := lockPath(t)
	var inside atomic.Int32
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 25; i++ {
				l, err := acquireWithin(t, path, 10*time.Second, Options{})
				if err != nil {
					done <- err
					return
				}
				if n := inside.Add(1); n != 1 {
					done <- fmt.Errorf("%d holders at once", n)
					return
				}
				time.Sleep(50 * time.Microsecond)
				inside.Add(-1)
				l.Release()
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestInspect(t *testing.T) {
	path := lockPath(t)
	if o, held, err := Inspect(path); o != nil || held || err != nil {
		t.Fatalf("no lock file: Inspect = %v, %v, %v", o, held, err)
	}
	l := mustAcquire(t, path, Options{Command: "tokctl token"})
	o, held, err := Inspect(path)
	if err != nil || !held || o == nil || o.PID != os.Getpid() || o.Command != "tokctl token" {
		t.Fatalf("held lock: Inspect = %+v, %v, %v", o, held, err)
	}
	l.Release()
	// A complete record nobody flocks: its holder is gone.
	os.WriteFile(path, (Owner{PID: os.Getpid(), Host: hostname(), Since: time.Now()}).record(), 0o600)
	if o, held, err := Inspect(path); err != nil || held || o.PID != os.Getpid() {
		t.Fatalf("stale record: Inspect = %+v, %v, %v", o, held, err)
	}
	// A shell script's lock, with the script alive: held, pid parsed.
	os.WriteFile(path, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o600)
	if o, held, err := Inspect(path); err != nil || !held || o.PID != os.Getpid() || o.Host != "" {
		t.Fatalf("shell lock: Inspect = %+v, %v, %v", o, held, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("Inspect removed the lock file: %v", err)
	}
}

func TestOwnerString(t *testing.T) {
	since := time.Date(2026, 11, 29, 17, 3, 49, 123, time.UTC)
	for _, tc := range []struct {
		o    Owner
		want string
	}{
		{Owner{PID: 4242, Host: "box", Since: since, Command: "tokctl token"},
			`pid 4242 on host box since 2026-11-29T17:03:49Z ("tokctl token")`},
		{Owner{PID: 4242}, "pid 4242"},
		{Owner{PID: 7, Host: "elsewhere"}, "pid 7 on host elsewhere"},
		{Owner{Since: since}, "unknown holder (lock file created 2026-11-29T17:03:49Z)"},
	} {
		if got := tc.o.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.o, got, tc.want)
		}
	}
}
