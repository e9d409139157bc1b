package creds

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokctl/tokctl/lockfile"
)

// fakeProvider rotates refresh tokens like a strict server and counts calls. Each call may be
// scripted to fail first.
type fakeProvider struct {
	mu       sync.Mutex
	calls    atomic.Int32
	current  string // the one valid refresh token
	n        int
	failures []error // returned, in order, before succeeding
	lifetime time.Duration
	before   func() // runs at the start of each call
}

func (p *fakeProvider) Refresh(ctx context.Context, c *Credential) (*Credential, error) {
	p.calls.Add(1)
	if p.before != nil {
		p.before()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failures) > 0 {
		err := p.failures[0]
		p.failures = p.failures[1:]
		return nil, err
	}
	if c.RefreshToken != p.current {
		return nil, &GrantError{Code: "invalid_grant", Description: "reused"}
	}
	p.n++
	p.current = fmt.Sprintf("r%d", p.n)
	lifetime := p.lifetime
	if lifetime == 0 {
		lifetime = time.Hour
	}
	return &Credential{AccessToken: fmt.Sprintf("a%d", p.n), RefreshToken: p.current, Expiry: time.Now().Add(lifetime)}, nil
}

func newSource(t *testing.T, p *fakeProvider, expiry time.Time) *Source {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	os.Mkdir(dir, 0o700)
	store := NewFileStore(filepath.Join(dir, "p.json"))
	if p.current == "" {
		p.current = "r0"
	}
	if err := store.Save(&Credential{AccessToken: "a0", RefreshToken: p.current, Expiry: expiry, Extra: nil}); err != nil {
		t.Fatal(err)
	}
	return &Source{Store: store, Refresher: p, LockPath: store.Path + ".lock", RefreshTimeout: 5 * time.Second}
}

func (s *Source) clone() *Source {
	return &Source{Store: s.Store, Refresher: s.Refresher, LockPath: s.LockPath, MinTTL: s.MinTTL, RefreshTimeout: s.RefreshTimeout}
}

func TestFreshTokenNeedsNoRefresh(t *testing.T) {
	p := &fakeProvider{}
	s := newSource(t, p, time.Now().Add(time.Hour))
	c, err := s.Get(context.Background())
	if err != nil || c.AccessToken != "a0" || p.calls.Load() != 0 {
		t.Fatalf("Get = %v, %v after %d calls", c, err, p.calls.Load())
	}
	if _, err := os.Stat(s.LockPath); !os.IsNotExist(err) {
		t.Fatal("the hot path created a lock file")
	}
}

func TestExpiredTokenIsRefreshedAndSavedBeforeReturn(t *testing.T) {
	p := &fakeProvider{}
	s := newSource(t, p, time.Now().Add(-time.Minute))
	c, err := s.Get(context.Background())
	if err != nil || c.AccessToken != "a1" {
		t.Fatalf("Get = %+v, %v", c, err)
	}
	stored, _ := s.Store.Load()
	if stored.RefreshToken != "r1" || stored.AccessToken != "a1" {
		t.Fatalf("stored %+v", stored)
	}
}

// Goroutines sharing one Source, and Sources sharing one store (as processes do): one refresh.
func TestConcurrentCallersRefreshOnce(t *testing.T) {
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			p := &fakeProvider{before: func() { time.Sleep(20 * time.Millisecond) }}
			s := newSource(t, p, time.Now().Add(-time.Minute))
			var wg sync.WaitGroup
			tokens := make([]string, 50)
			for i := range tokens {
				wg.Add(1)
				go func() {
					defer wg.Done()
					src := s
					if !shared {
						src = s.clone()
					}
					c, err := src.Get(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					tokens[i] = c.AccessToken
				}()
			}
			wg.Wait()
			if n := p.calls.Load(); n != 1 {
				t.Fatalf("%d refreshes, want 1", n)
			}
			for _, tok := range tokens {
				if tok != "a1" {
					t.Fatalf("a caller got %q", tok)
				}
			}
		})
	}
}

// saveAfterFirstLoad is a file store on which a sibling's refresh lands right after this
// caller's first read — before its wait for the lock has begun.
type saveAfterFirstLoad struct {
	*FileStore
	once    sync.Once
	sibling *Credential
}

func (s *saveAfterFirstLoad) Load() (*Credential, error) {
	c, err := s.FileStore.Load()
	s.once.Do(func() {
		if err := s.FileStore.Save(s.sibling); err != nil {
			panic(err)
		}
	})
	return c, err
}

// A sibling's save between the first read and the wait is seen at once, not when the lock
// comes free: the holder here never releases, so only the watcher can settle the call.
func TestSaveBeforeTheWaitIsAdopted(t *testing.T) {
	p := &fakeProvider{}
	s := newSource(t, p, time.Now().Add(-time.Minute))
	s.Store = &saveAfterFirstLoad{FileStore: s.Store.(*FileStore), sibling: &Credential{AccessToken: "sibling", RefreshToken: "r9", Expiry: time.Now().Add(time.Hour)}}
	s.LockTimeout = 3 * time.Second
	held, err := lockfile.Acquire(context.Background(), s.LockPath, lockfile.Options{Command: "a sibling"})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	c, err := s.Get(context.Background())
	if err != nil || c.AccessToken != "sibling" || p.calls.Load() != 0 {
		t.Fatalf("Get = %+v, %v after %d refreshes; want the sibling's token without waiting out the lock", c, err, p.calls.Load())
	}
}

// A provider whose tokens live shorter than MinTTL must not make every waiter refresh again.
func TestShortLivedTokensAreNotRefreshedTwice(t *testing.T) {
	p := &fakeProvider{lifetime: 2 * time.Second, before: func() { time.Sleep(20 * time.Millisecond) }}
	s := newSource(t, p, time.Now().Add(-time.Minute))
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); s.clone().Get(context.Background()) }()
	}
	wg.Wait()
	if n := p.calls.Load(); n != 1 {
		t.Fatalf("%d refreshes of a 2s token with a 60s min-ttl, want 1", n)
	}
}

// invalid_grant after someone outside the lock rotated: adopt their refresh token.
func TestGrantErrorAdoptsASiblingsRotation(t *testing.T) {
	p := &fakeProvider{}
	s := newSource(t, p, time.Now().Add(-time.Minute))
	p.before = func() {
		p.before = nil
		// A program that ignores the lock refreshed meanwhile (its access token expired too).
		p.mu.Lock()
		p.current = "r-sibling"
		p.mu.Unlock()
		s.Store.Save(&Credential{AccessToken: "a-sibling", RefreshToken: "r-sibling", Expiry: time.Now().Add(-time.Second)})
	}
	c, err := s.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessToken != "a1" || p.calls.Load() != 2 {
		t.Fatalf("got %q after %d calls; want a refresh with the adopted token", c.AccessToken, p.calls.Load())
	}
}

// A permanently rejected refresh token: login required, the credential kept, the failure
// remembered so the next caller does not send it again.
func TestPermanentGrantErrorKeepsCredentialAndIsRemembered(t *testing.T) {
	p := &fakeProvider{current: "r0"}
	s := newSource(t, p, time.Now().Add(-time.Minute))
	before, _ := os.ReadFile(s.Store.Location())
	p.current = "revoked-elsewhere"
	_, err := s.Get(context.Background())
	var login *LoginRequiredError
	if !errors.As(err, &login) {
		t.Fatalf("Get = %v, want *LoginRequiredError", err)
	}
	if after, _ := os.ReadFile(s.Store.Location()); string(after) != string(before) {
		t.Fatal("the credential file changed")
	}
	data, _ := os.ReadFile(FailurePath(s.LockPath))
	if strings.Contains(string(data), "r0") || !strings.Contains(string(data), Fingerprint("r0")) {
		t.Fatalf("failure record %s", data)
	}
	if _, err := s.clone().Get(context.Background()); !errors.As(err, &login) || p.calls.Load() != 1 {
		t.Fatalf("second Get = %v after %d calls; want login required without a call", err, p.calls.Load())
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	p := &fakeProvider{failures: []error{&TransientError{Err: errors.New("502")}, &TransientError{Err: errors.New("reset")}}}
	s := newSource(t, p, time.Now().Add(-time.Minute))
	c, err := s.Get(context.Background())
	if err != nil || c.AccessToken != "a1" || p.calls.Load() != 3 {
		t.Fatalf("Get = %v, %v after %d calls", c, err, p.calls.Load())
	}
}

func TestUnavailableProvider(t *testing.T) {
	down := func() []error {
		var errs []error
		for range maxAttempts {
			errs = append(errs, &TransientError{Err: errors.New("connection refused")})
		}
		return errs
	}
	t.Run("expired token: error", func(t *testing.T) {
		p := &fakeProvider{failures: down()}
		s := newSource(t, p, time.Now().Add(-time.Minute))
		var unavailable *UnavailableError
		if _, err := s.Get(context.Background()); !errors.As(err, &unavailable) || unavailable.Attempts != maxAttempts {
			t.Fatalf("Get = %v, want *UnavailableError after %d attempts", err, maxAttempts)
		}
	})
	t.Run("still valid token: used with a warning", func(t *testing.T) {
		p := &fakeProvider{failures: down()}
		s := newSource(t, p, time.Now().Add(30*time.Second)) // inside the 60s min-ttl
		var warned string
		s.Warnf = func(f string, a ...any) { warned = fmt.Sprintf(f, a...) }
		c, err := s.Get(context.Background())
		if err != nil || c.AccessToken != "a0" || !strings.Contains(warned, "using the current access token") {
			t.Fatalf("Get = %v, %v, warning %q", c, err, warned)
		}
	})
	t.Run("Retry-After beyond the deadline: no pointless wait", func(t *testing.T) {
		p := &fakeProvider{failures: []error{&TransientError{Err: errors.New("429"), RetryAfter: time.Hour}}}
		s := newSource(t, p, time.Now().Add(-time.Minute))
		start := time.Now()
		if _, err := s.Get(context.Background()); err == nil || time.Since(start) > time.Second {
			t.Fatalf("Get = %v after %s", err, time.Since(start))
		}
	})
}

func TestMissingCredentialIsLoginRequired(t *testing.T) {
	s := &Source{Store: NewFileStore(filepath.Join(t.TempDir(), "none.json")), Refresher: &fakeProvider{}}
	s.LockPath = s.Store.Location() + ".lock"
	var login *LoginRequiredError
	if _, err := s.Get(context.Background()); !errors.As(err, &login) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get = %v", err)
	}
}

// After a permanent rejection every later caller exits with login required too, even while
// the access token has time left (min-ttl asked for more).
func TestRecordedRejectionIsPermanentForEveryCaller(t *testing.T) {
	p := &fakeProvider{current: "r0"}
	s := newSource(t, p, time.Now().Add(30*time.Second)) // inside the 60s min-ttl
	p.current = "revoked"
	var login *LoginRequiredError
	for i := range 3 {
		if _, err := s.clone().Get(context.Background()); !errors.As(err, &login) {
			t.Fatalf("caller %d: %v, want *LoginRequiredError", i, err)
		}
	}
	if n := p.calls.Load(); n != 1 {
		t.Fatalf("%d calls to the provider, want 1", n)
	}
}

func TestNegativeMinTTLMeansOnlyExpiredTokensRefresh(t *testing.T) {
	p := &fakeProvider{}
	s := newSource(t, p, time.Now().Add(5*time.Second))
	s.MinTTL = -1
	if c, err := s.Get(context.Background()); err != nil || c.AccessToken != "a0" || p.calls.Load() != 0 {
		t.Fatalf("Get = %v, %v after %d calls; want the 5s token unrefreshed", c, err, p.calls.Load())
	}
}
