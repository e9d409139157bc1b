package creds

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder collects a Source's events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) hook(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// kinds lists "kind/outcome" of each event, in order.
func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, string(e.Kind)+"/"+e.Outcome)
	}
	return out
}

func TestHotPathReportsNothing(t *testing.T) {
	rec := &recorder{}
	s := newSource(t, &fakeProvider{}, time.Now().Add(time.Hour))
	s.Events = rec.hook
	if _, err := s.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rec.kinds(); len(got) != 0 {
		t.Fatalf("a fresh token produced events %v", got)
	}
}

func TestRefreshIsReportedWithFingerprintNeverToken(t *testing.T) {
	rec := &recorder{}
	s := newSource(t, &fakeProvider{}, time.Now().Add(-time.Minute))
	s.Events = rec.hook
	if _, err := s.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.kinds(), " "); got != "refresh/success" {
		t.Fatalf("events %q, want one successful refresh", got)
	}
	e := rec.events[0]
	if e.Fingerprint != Fingerprint("r0") || e.Status != 200 || e.Attempt != 1 || e.Duration <= 0 {
		t.Fatalf("refresh event %+v", e)
	}
	if s := fmt.Sprintf("%+v", e); strings.Contains(s, "r0") && !strings.Contains(s, Fingerprint("r0")) {
		t.Fatalf("the event carries the refresh token: %s", s)
	}
}

func TestRejectionAndTriageAreReported(t *testing.T) {
	rec := &recorder{}
	p := &fakeProvider{current: "r0"}
	s := newSource(t, p, time.Now().Add(-time.Minute))
	s.Events = rec.hook
	p.current = "revoked-elsewhere"
	s.Get(context.Background())
	if got := strings.Join(rec.kinds(), " "); got != "refresh/rejected triage/permanent" {
		t.Fatalf("events %q", got)
	}
	if rec.events[0].Code != "invalid_grant" || rec.events[1].Fingerprint != Fingerprint("r0") {
		t.Fatalf("events %+v", rec.events)
	}
}

func TestAdoptionIsReported(t *testing.T) {
	rec := &recorder{}
	p := &fakeProvider{}
	s := newSource(t, p, time.Now().Add(-time.Minute))
	s.Events = rec.hook
	p.before = func() {
		p.before = nil
		p.mu.Lock()
		p.current = "r-sibling"
		p.mu.Unlock()
		s.Store.Save(&Credential{AccessToken: "a-sibling", RefreshToken: "r-sibling", Expiry: time.Now().Add(-time.Second)})
	}
	if _, err := s.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "refresh/rejected triage/adopted refresh/success"
	if got := strings.Join(rec.kinds(), " "); got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	if rec.events[1].Adopted != Fingerprint("r-sibling") {
		t.Fatalf("triage %+v", rec.events[1])
	}
}

func TestTransientAttemptsAreEachReported(t *testing.T) {
	rec := &recorder{}
	p := &fakeProvider{failures: []error{&TransientError{Err: errors.New("502")}}}
	s := newSource(t, p, time.Now().Add(-time.Minute))
	s.Events = rec.hook
	s.Get(context.Background())
	if got := strings.Join(rec.kinds(), " "); got != "refresh/transient refresh/success" {
		t.Fatalf("events %q", got)
	}
}

// Callers queued behind the lock report their wait and whom they waited for; one refreshes.
func TestLockWaitsNameTheHolder(t *testing.T) {
	rec := &recorder{}
	p := &fakeProvider{before: func() { time.Sleep(50 * time.Millisecond) }}
	s := newSource(t, p, time.Now().Add(-time.Minute))
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := s.clone()
			src.Events = rec.hook
			src.Get(context.Background())
		}()
	}
	wg.Wait()
	waits, refreshes := 0, 0
	for _, e := range rec.events {
		switch e.Kind {
		case EventLockWait:
			waits++
			if e.Holder == nil || e.Holder.PID == 0 || e.Outcome == "timeout" {
				t.Errorf("lock wait %+v: want a named holder", e)
			}
		case EventRefresh:
			refreshes++
		}
	}
	if refreshes != 1 || waits == 0 {
		t.Fatalf("events %v: want 1 refresh and some lock waits", rec.kinds())
	}
}
