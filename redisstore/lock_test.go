package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/lockfile"
	"github.com/tokctl/tokctl/redistest"
)

// raw runs a command on the server behind s on a connection of its own, for assertions.
func raw(t *testing.T, s *Store, args ...string) any {
	t.Helper()
	ctx, cancel := s.opContext()
	defer cancel()
	c, err := s.dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Do(ctx, args...)
	if err != nil {
		t.Fatalf("%v: %v", args[0], err)
	}
	return v
}

// A holder whose lease ran out and whose lock another host took must not write: the fenced
// save refuses, and the credential the new holder stored stays.
func TestFencedSaveRefusesAfterTheLeaseWasLost(t *testing.T) {
	addr := startRedis(t, redistest.Options{})
	a, b := openTest(t, addr, "host-a"), openTest(t, addr, "host-b")
	a.Save(&creds.Credential{AccessToken: "at0", RefreshToken: "rt0"})
	ctx := context.Background()
	ha, err := a.Lock(ctx, creds.LockRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ha.Load(); err != nil {
		t.Fatal(err)
	}
	// a is paused (GC, SIGSTOP, partition) past its lease: simulate by removing its lock,
	// as the lease's expiry would, and let b take and use it.
	raw(t, a, "DEL", a.keys.lock)
	hb, err := b.Lock(ctx, creds.LockRequest{})
	if err != nil {
		t.Fatal(err)
	}
	hb.Load()
	if err := hb.Save(&creds.Credential{AccessToken: "at-b", RefreshToken: "rt-b"}); err != nil {
		t.Fatal(err)
	}
	if d := ha.Deadline(); time.Until(d) > 0 {
		t.Errorf("Deadline of a lost lease is %s in the future", time.Until(d))
	}
	err = ha.Save(&creds.Credential{AccessToken: "at-a", RefreshToken: "rt-a"})
	if !errors.Is(err, creds.ErrFenced) {
		t.Fatalf("save on a lost lease: %v, want ErrFenced", err)
	}
	ha.Release() // must not delete b's lock
	if v := raw(t, a, "GET", a.keys.lock); v == nil {
		t.Fatal("a's release deleted b's lock")
	}
	hb.Release()
	c, _ := a.Load()
	if c.RefreshToken != "rt-b" {
		t.Fatalf("stored refresh token %q, want b's", c.RefreshToken)
	}
}

// A holder whose credential changed under it (its lease ran out, another host refreshed and
// released, and it took the lock again in between is impossible — but an unlocked Save is
// not) refuses to overwrite the newer credential.
func TestFencedSaveRefusesANewerVersion(t *testing.T) {
	addr := startRedis(t, redistest.Options{})
	a := openTest(t, addr, "host-a")
	a.Save(&creds.Credential{AccessToken: "at0", RefreshToken: "rt0"})
	h, err := a.Lock(context.Background(), creds.LockRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	h.Load()
	a.Save(&creds.Credential{AccessToken: "at1", RefreshToken: "rt1"}) // bumps the version
	if err := h.Save(&creds.Credential{AccessToken: "at2", RefreshToken: "rt2"}); !errors.Is(err, creds.ErrFenced) {
		t.Fatalf("save over a newer version: %v", err)
	}
	if c, _ := a.Load(); c.RefreshToken != "rt1" {
		t.Fatalf("stored %q", c.RefreshToken)
	}
}

// The lease is renewed while the holder works: holding for three leases keeps others out.
func TestLeaseIsRenewedWhileHeld(t *testing.T) {
	addr := startRedis(t, redistest.Options{})
	a, b := openTest(t, addr, "host-a"), openTest(t, addr, "host-b")
	h, err := a.Lock(context.Background(), creds.LockRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*a.target.Lease)
	defer cancel()
	if _, err := b.Lock(ctx, creds.LockRequest{}); err == nil {
		t.Fatal("b took a lock whose holder is alive and renewing")
	}
	if d := h.Deadline(); time.Until(d) < a.target.Lease/2 {
		t.Errorf("deadline only %s away after a renewal", time.Until(d))
	}
	h.Release()
}

// A holder that stops renewing (killed) loses the lock when its lease ends, and a waiter
// takes it over within milliseconds of that.
func TestDeadHoldersLeaseRunsOut(t *testing.T) {
	addr := startRedis(t, redistest.Options{})
	a, b := openTest(t, addr, "host-a"), openTest(t, addr, "host-b")
	h, err := a.Lock(context.Background(), creds.LockRequest{})
	if err != nil {
		t.Fatal(err)
	}
	h.(*held).stopRenewalForTest() // the process died: no renewal, no release
	start := time.Now()
	h2, err := b.Lock(context.Background(), creds.LockRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Release()
	waited := time.Since(start)
	lease := a.target.Lease
	t.Logf("took over after %s (lease %s)", waited, lease)
	if waited < lease*3/4 || waited > lease+300*time.Millisecond {
		t.Fatalf("took over after %s; want about the lease, %s", waited, lease)
	}
}

// A waiter that wakes because the holder released looks at the credential before trying the
// lock again: when the holder's result settles it, the waiter takes that and never queues
// for the lock behind the other waiters.
func TestWokenWaiterWatchesBeforeTakingTheLock(t *testing.T) {
	addr := startRedis(t, redistest.Options{})
	a, b := openTest(t, addr, "host-a"), openTest(t, addr, "host-b")
	h, err := a.Lock(context.Background(), creds.LockRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var settled atomic.Bool
	waiting := make(chan struct{})
	var once sync.Once
	result := make(chan error, 1)
	go func() {
		hb, err := b.Lock(context.Background(), creds.LockRequest{Watch: func() bool {
			once.Do(func() { close(waiting) })
			return settled.Load()
		}})
		if err == nil {
			hb.Release()
		}
		result <- err
	}()
	<-waiting
	settled.Store(true) // the holder's refresh landed ...
	h.Release()         // ... and it released, waking b
	if err := <-result; !errors.Is(err, lockfile.ErrNotNeeded) {
		t.Fatalf("woken waiter: %v, want ErrNotNeeded (it took the lock instead of the result)", err)
	}
}

// A waiter rides out a restart of the server (shorter than a lease) and takes the lock after
// it, instead of failing the moment its connection breaks; a store whose server never
// answered fails at once (TestUnreachable).
func TestWaiterRidesOutARestart(t *testing.T) {
	redistest.Require(t)
	srv := redistest.NewServer(t, redistest.Options{})
	a, b := openTest(t, srv.Addr(), "host-a"), openTest(t, srv.Addr(), "host-b")
	if _, err := a.Lock(context.Background(), creds.LockRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Load(); !errors.Is(err, creds.ErrNotFound) {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	result := make(chan error, 1)
	go func() {
		hb, err := b.Lock(ctx, creds.LockRequest{})
		if err == nil {
			hb.Release()
		}
		result <- err
	}()
	time.Sleep(100 * time.Millisecond) // b waits on a's lock
	start := time.Now()
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	// Down long enough for b's reconnect to be refused; no persistence: the lock is gone with it.
	time.Sleep(500 * time.Millisecond)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("server down and up again in %s", time.Since(start).Round(time.Millisecond))
	if err := <-result; err != nil {
		t.Fatalf("waiter across a restart: %v", err)
	}
}

// Redis unreachable: Load and Lock fail with StoreUnavailableError, promptly.
func TestUnreachable(t *testing.T) {
	s, err := Open(Options{URL: "redis://127.0.0.1:1/0", Profile: "work"})
	if err != nil {
		t.Fatal(err)
	}
	var unavailable *creds.StoreUnavailableError
	if _, err := s.Load(); !errors.As(err, &unavailable) {
		t.Fatalf("Load: %v", err)
	}
	if _, err := s.Lock(context.Background(), creds.LockRequest{}); !errors.As(err, &unavailable) {
		t.Fatalf("Lock: %v", err)
	}
}

func TestPassword(t *testing.T) {
	addr := startRedis(t, redistest.Options{Password: "s3cret-pw"})
	for _, pw := range []string{"", "wrong"} {
		s, _ := Open(Options{URL: "redis://" + addr + "/0", Profile: "work", Password: pw})
		_, err := s.Load()
		var auth *AuthError
		if !errors.As(err, &auth) {
			t.Fatalf("password %q: %v", pw, err)
		}
		if pw != "" && strings.Contains(err.Error(), pw) {
			t.Fatalf("error quotes the password: %v", err)
		}
	}
	s, _ := Open(Options{URL: "redis://" + addr + "/3", Profile: "work", Password: "s3cret-pw"})
	if _, err := s.Load(); !errors.Is(err, creds.ErrNotFound) {
		t.Fatalf("right password: %v", err)
	}
}

// rotatingProvider refreshes like a strict server: one valid refresh token, rotated on use.
type rotatingProvider struct {
	mu      sync.Mutex
	calls   atomic.Int32
	current string
	n       int
	delay   time.Duration
	reused  atomic.Int32
}

func (p *rotatingProvider) Refresh(ctx context.Context, c *creds.Credential) (*creds.Credential, error) {
	p.calls.Add(1)
	time.Sleep(p.delay)
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.RefreshToken != p.current {
		p.reused.Add(1)
		return nil, &creds.GrantError{Code: "invalid_grant"}
	}
	p.n++
	p.current = fmt.Sprintf("rt%d", p.n)
	return &creds.Credential{AccessToken: fmt.Sprintf("at%d", p.n), RefreshToken: p.current, Expiry: time.Now().Add(time.Hour)}, nil
}

// Sources on separate Stores (as on separate hosts) refresh an expired credential once.
func TestSourcesOnManyHostsRefreshOnce(t *testing.T) {
	addr := startRedis(t, redistest.Options{})
	p := &rotatingProvider{current: "rt0", delay: 100 * time.Millisecond}
	openTest(t, addr, "seed").Save(&creds.Credential{AccessToken: "at0", RefreshToken: "rt0", Expiry: time.Now().Add(-time.Minute)})
	var wg sync.WaitGroup
	tokens := make(chan string, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := &creds.Source{Store: openTest(t, addr, fmt.Sprintf("host-%d", i%8)), Refresher: p}
			c, err := src.Get(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			tokens <- c.AccessToken
		}()
	}
	wg.Wait()
	close(tokens)
	for tok := range tokens {
		if tok != "at1" {
			t.Errorf("got %q", tok)
		}
	}
	if p.calls.Load() != 1 || p.reused.Load() != 0 {
		t.Fatalf("%d refreshes, %d reuses; want 1, 0", p.calls.Load(), p.reused.Load())
	}
}
