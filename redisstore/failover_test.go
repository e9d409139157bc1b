package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/redistest"
)

// A holder whose primary dies mid-refresh keeps its promise through a Sentinel failover: the
// lock was acknowledged by the replica before the refresh (WAIT), so on the promoted replica it
// is still the holder's, and the fenced save, retried while the lease lasts, lands there.
func TestSaveRidesOutAFailover(t *testing.T) {
	f := redistest.NewFailover(t, redistest.FailoverOptions{AppendOnly: true})
	s, err := Open(Options{URL: f.URL(), Profile: "work", Host: "host-a"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Save(&creds.Credential{AccessToken: "at0", RefreshToken: "rt0"}); err != nil {
		t.Fatal(err)
	}
	h, err := s.Lock(context.Background(), creds.LockRequest{Command: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	if _, err := h.Load(); err != nil {
		t.Fatal(err)
	}
	if h.(*held).replicas < 1 {
		t.Fatal("the lock was taken without a replica to acknowledge it")
	}
	old, err := f.KillPrimary()
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// The provider answered meanwhile; the holder saves while the group fails over.
	if err := h.Save(&creds.Credential{AccessToken: "at1", RefreshToken: "rt1"}); err != nil {
		t.Fatalf("save during the failover: %v", err)
	}
	t.Logf("fleet: save landed %s after kill -9 of the primary", time.Since(killed).Round(time.Millisecond))
	primary, err := f.WaitFailover(old, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got, err := primary.DoString("GET", s.keys.cred)
	if err != nil || got == "" {
		t.Fatalf("new primary has no credential: %q %v", got, err)
	}
	c, err := s.Load()
	if err != nil || c.RefreshToken != "rt1" {
		t.Fatalf("after the failover: %+v %v", c, err)
	}
}
