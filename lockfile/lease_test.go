//go:build unix

package lockfile

import (
	"encoding/json"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// shortLease makes leases heartbeat every 50ms and expire after 400ms, in
// this process and in helpers started with the returned environment.
func shortLease(t *testing.T) []string {
	oldBeat, oldTTL := leaseHeartbeat, leaseTTL
	leaseHeartbeat, leaseTTL = 50*time.Millisecond, 400*time.Millisecond
	t.Cleanup(func() { leaseHeartbeat, leaseTTL = oldBeat, oldTTL })
	return []string{"LOCKFILE_LEASE=1", "LOCKFILE_HEARTBEAT=50ms", "LOCKFILE_TTL=400ms"}
}

func TestLeaseModeHeartbeatsUntilRelease(t *testing.T) {
	shortLease(t)
	flockUnsupported = true
	t.Cleanup(func() { flockUnsupported = false })
	path := lockPath(t)
	l := mustAcquire(t, path, Options{Command: "tokctl token"})
	var o Owner
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &o); err != nil || !o.Lease {
		t.Fatalf("record %q: want lease: true (%v)", data, err)
	}
	fi1, _ := os.Stat(path)
	time.Sleep(200 * time.Millisecond)
	fi2, _ := os.Stat(path)
	if !fi2.ModTime().After(fi1.ModTime()) {
		t.Errorf("mtime did not advance: %v then %v", fi1.ModTime(), fi2.ModTime())
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if l.stop != nil {
		t.Error("heartbeat still running after Release")
	}
}

func TestLeaseOnOtherHostStaysHeldWhileHeartbeating(t *testing.T) {
	env := shortLease(t)
	path := lockPath(t)
	holder := spawnHelper(t, "holder", path, append(env, "LOCKFILE_HOST=otherbox")...)
	holder.expect(t, "locked", 10*time.Second)

	// Three TTLs: only the heartbeat keeps the lease alive this long.
	_, err := acquireWithin(t, path, 1200*time.Millisecond, Options{})
	var he *HeldError
	if !errors.As(err, &he) || he.Owner == nil || !he.Owner.Lease || he.Owner.Host != "otherbox" {
		t.Fatalf("err = %v, want a timeout naming the lease holder on otherbox", err)
	}

	// A dead holder on another host: only the stopped heartbeat tells.
	holder.cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	l, err := acquireWithin(t, path, 5*time.Second, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	took := time.Since(killed)
	t.Logf("lease of a killed other-host holder broken after %v (TTL %v)", took, leaseTTL)
	if took < leaseTTL-leaseHeartbeat-10*time.Millisecond || took > 2*time.Second {
		t.Errorf("broken after %v, want about the TTL %v", took, leaseTTL)
	}
}

func TestLeaseOfDeadLocalHolderIsBrokenByPid(t *testing.T) {
	env := shortLease(t)
	leaseTTL = time.Minute // so only the pid check can break it quickly
	path := lockPath(t)
	holder := spawnHelper(t, "holder", path, env...)
	holder.expect(t, "locked", 10*time.Second)
	if _, err := acquireWithin(t, path, 100*time.Millisecond, Options{}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("live lease holder: err = %v, want ErrTimeout", err)
	}
	holder.cmd.Process.Signal(syscall.SIGKILL)
	l, err := acquireWithin(t, path, 5*time.Second, Options{})
	if err != nil {
		t.Fatalf("dead local lease holder not broken: %v", err)
	}
	l.Release()
}
