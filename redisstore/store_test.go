package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/lockfile"
	"github.com/tokctl/tokctl/redistest"
)

func openTest(t *testing.T, addr, host string) *Store {
	t.Helper()
	s, err := Open(Options{URL: "redis://" + addr + "/0?lease=2s", Profile: "work", Host: host})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func startRedis(t *testing.T, opts redistest.Options) string {
	t.Helper()
	redistest.Require(t)
	return redistest.NewServer(t, opts).Addr()
}

func TestSmoke(t *testing.T) {
	addr := startRedis(t, redistest.Options{})
	a, b := openTest(t, addr, "host-a"), openTest(t, addr, "host-b")
	if _, err := a.Load(); !errors.Is(err, creds.ErrNotFound) {
		t.Fatalf("empty store: %v", err)
	}
	if err := a.Save(&creds.Credential{AccessToken: "at1", RefreshToken: "rt1"}); err != nil {
		t.Fatal(err)
	}
	c, err := b.Load()
	if err != nil || c.AccessToken != "at1" {
		t.Fatalf("b.Load: %+v %v", c, err)
	}
	ctx := context.Background()
	h, err := a.Lock(ctx, creds.LockRequest{Command: "test"})
	if err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = b.Lock(tctx, creds.LockRequest{})
	var held *lockfile.HeldError
	if !errors.As(err, &held) || held.Owner == nil || held.Owner.Host != "host-a" {
		t.Fatalf("b.Lock while a holds: %v", err)
	}
	t.Log(err)
	got := make(chan time.Time, 1)
	go func() {
		h2, err := b.Lock(ctx, creds.LockRequest{})
		if err != nil {
			t.Error(err)
		}
		got <- time.Now()
		h2.Release()
	}()
	time.Sleep(300 * time.Millisecond)
	if _, err := h.Load(); err != nil {
		t.Fatal(err)
	}
	if err := h.Save(&creds.Credential{AccessToken: "at2", RefreshToken: "rt2"}); err != nil {
		t.Fatal(err)
	}
	released := time.Now()
	h.Release()
	handoff := (<-got).Sub(released)
	t.Logf("handoff %s", handoff)
	if handoff > 100*time.Millisecond {
		t.Errorf("handoff took %s", handoff)
	}
}
