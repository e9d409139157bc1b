package redistest

import (
	"strings"
	"testing"
	"time"
)

func testFailover(t *testing.T, opts FailoverOptions) {
	start := time.Now()
	f := NewFailover(t, opts)
	t.Logf("group up in %s", time.Since(start).Round(time.Millisecond))
	scheme := "redis+sentinel://"
	if opts.TLS {
		scheme = "rediss+sentinel://"
	}
	if want := scheme + strings.Join(f.SentinelAddrs(), ",") + "/tokctl/0"; f.URL() != want || len(f.SentinelAddrs()) != 3 {
		t.Fatalf("URL %q, want %q", f.URL(), want)
	}
	servers := f.Servers()
	p, err := f.Primary()
	if err != nil || p != servers[0] {
		t.Fatalf("Primary: %v %v, want %s", p, err, servers[0].Addr())
	}
	c, err := p.Dial()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do("SET", "k", "before"); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Do("WAIT", "1", "5000"); err != nil || n != int64(1) {
		t.Fatalf("WAIT 1: %v %v", n, err)
	}
	c.Close()

	killed := time.Now()
	old, err := f.KillPrimary()
	if err != nil || old != p || old.Running() {
		t.Fatalf("KillPrimary: %v %v", old, err)
	}
	np, err := f.WaitFailover(old, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("failover in %s", time.Since(killed).Round(time.Millisecond))
	if np != servers[1] {
		t.Fatalf("new primary %s, want the replica %s", np.Addr(), servers[1].Addr())
	}
	if cur, err := f.Primary(); err != nil || cur != np {
		t.Fatalf("Primary after failover: %v %v", cur, err)
	}
	if v, err := np.DoString("GET", "k"); err != nil || v != "before" {
		t.Fatalf("GET on the new primary: %q %v", v, err)
	}
	if _, err := np.Do("SET", "k", "after"); err != nil {
		t.Fatalf("SET on the new primary: %v", err)
	}

	// The killed primary restarts on its port; the sentinels keep naming the new primary
	// (they demote the returning one to a replica only after a fixed 8 s grace period).
	if err := old.Restart(); err != nil {
		t.Fatal(err)
	}
	if v, err := old.Do("PING"); err != nil || v != "PONG" {
		t.Fatalf("PING the restarted old primary: %v %v", v, err)
	}
	if cur, err := f.WaitFailover(old, 5*time.Second); err != nil || cur != np {
		t.Fatalf("after the old primary's restart the sentinels name %v (%v), want %s", cur, err, np.Addr())
	}
}

func TestFailover(t *testing.T) {
	t.Parallel()
	testFailover(t, FailoverOptions{Password: "fleet-pw"})
}

func TestFailoverTLS(t *testing.T) {
	t.Parallel()
	testFailover(t, FailoverOptions{Password: "fleet-pw", TLS: true, AppendOnly: true})
}

// A primary that hangs (SIGSTOP, as in a partition) is failed over too; when it resumes it
// still believes it is the primary until the sentinels demote it: the split-brain window
// fenced writes must survive.
func TestFailoverFrozenPrimary(t *testing.T) {
	t.Parallel()
	f := NewFailover(t, FailoverOptions{})
	p, err := f.Primary()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Freeze(); err != nil {
		t.Fatal(err)
	}
	np, err := f.WaitFailover(p, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Thaw(); err != nil {
		t.Fatal(err)
	}
	role, err := p.Role()
	t.Logf("new primary %s; the thawed old primary %s says %q %v", np.Addr(), p.Addr(), role, err)
	if err != nil {
		t.Fatal(err)
	}
}
