package oauthtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
)

// TestFaults checks every fault kind: what the client sees, and whether the
// refresh was performed (then the presented token is no longer current).
func TestFaults(t *testing.T) {
	tests := []struct {
		fault     oauthtest.Fault
		processed bool // the refresh happened and rotated
		check     func(t *testing.T, r reply)
	}{
		{oauthtest.Fault{Kind: oauthtest.ServerError}, false, func(t *testing.T, r reply) {
			r.wantError(t, http.StatusInternalServerError, "server_error")
		}},
		{oauthtest.Fault{Kind: oauthtest.ServerErrorAfterProcessing}, true, func(t *testing.T, r reply) {
			r.wantError(t, http.StatusBadGateway, "server_error")
		}},
		{oauthtest.Fault{Kind: oauthtest.RateLimited, RetryAfter: 1500 * time.Millisecond}, false, func(t *testing.T, r reply) {
			r.wantError(t, http.StatusTooManyRequests, "temporarily_unavailable")
			if ra := r.Header.Get("Retry-After"); ra != "2" {
				t.Errorf("Retry-After %q, want 2", ra)
			}
		}},
		{oauthtest.Fault{Kind: oauthtest.Unavailable}, false, func(t *testing.T, r reply) {
			r.wantError(t, http.StatusServiceUnavailable, "temporarily_unavailable")
		}},
		{oauthtest.Fault{Kind: oauthtest.Truncated}, false, func(t *testing.T, r reply) {
			var v any
			if r.Status != http.StatusOK || json.Unmarshal(r.Body, &v) == nil || len(r.Body) == 0 {
				t.Errorf("got %d %q, want 200 with invalid JSON", r.Status, r.Body)
			}
		}},
		{oauthtest.Fault{Kind: oauthtest.HugeBody}, false, func(t *testing.T, r reply) {
			if r.Status != http.StatusOK || r.Size < 10<<20 {
				t.Errorf("got %d with %d bytes, want 200 with >= 10 MiB", r.Status, r.Size)
			}
		}},
		{oauthtest.Fault{Kind: oauthtest.HTTP200Error, Code: "bad_refresh_token"}, false, func(t *testing.T, r reply) {
			r.wantError(t, http.StatusOK, "bad_refresh_token")
		}},
		{oauthtest.Fault{Kind: oauthtest.ErrorStatus, Status: 418, Code: "teapot"}, false, func(t *testing.T, r reply) {
			r.wantError(t, 418, "teapot")
		}},
		{oauthtest.Fault{Kind: oauthtest.HangUp}, false, func(t *testing.T, r reply) {
			if r.Err == nil {
				t.Errorf("got %d %q, want no answer", r.Status, r.Body)
			}
		}},
		{oauthtest.Fault{Kind: oauthtest.NoExpiresIn}, true, func(t *testing.T, r reply) {
			tok := r.token(t)
			if _, ok := r.fields(t)["expires_in"]; ok || tok.RefreshToken == "" {
				t.Errorf("got %s, want a rotated pair without expires_in", r.Body)
			}
		}},
		{oauthtest.Fault{Kind: oauthtest.Slow, Delay: 150 * time.Millisecond}, true, func(t *testing.T, r reply) {
			r.token(t)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fault.Kind.String(), func(t *testing.T) {
			s := newServer(t, oauthtest.Options{})
			login := s.Issue("read", time.Hour)
			s.Inject(tt.fault)
			start := time.Now()
			r := refresh(s, login.RefreshToken)
			tt.check(t, r)
			if tt.fault.Kind == oauthtest.Slow && time.Since(start) < tt.fault.Delay {
				t.Errorf("answered after %v, want >= %v", time.Since(start), tt.fault.Delay)
			}
			if got := s.Active(login.RefreshToken); got == tt.processed {
				t.Errorf("presented refresh token active = %t; want the refresh processed = %t", got, tt.processed)
			}
			st := s.Stats()
			if st.Faults != 1 || st.TokenRequests != 1 || (st.Refreshes == 1) != tt.processed {
				t.Errorf("stats %+v", st)
			}
			// The queue is empty again: the next request is answered normally,
			// and an unprocessed refresh token still works.
			next := refresh(s, login.RefreshToken)
			if tt.processed {
				next.wantError(t, http.StatusBadRequest, "invalid_grant")
			} else {
				next.token(t)
			}
		})
	}
}

func TestFaultNoRefreshTokenKeepsOldRefreshTokenValid(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	login := s.Issue("read", time.Hour)
	s.Inject(oauthtest.Fault{Kind: oauthtest.NoRefreshToken})
	r := refresh(s, login.RefreshToken)
	got := r.token(t)
	if _, ok := r.fields(t)["refresh_token"]; ok {
		t.Fatalf("response has refresh_token: %s", r.Body)
	}
	wantActive(t, s, true, login.RefreshToken, got.AccessToken)
	wantActive(t, s, false, login.AccessToken)
	// Next time the old refresh token rotates normally, revoking got's AT.
	again := refresh(s, login.RefreshToken).token(t)
	wantActive(t, s, false, login.RefreshToken, got.AccessToken)
	wantActive(t, s, true, again.RefreshToken)
}

func TestFaultsApplyInOrder(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	login := s.Issue("read", time.Hour)
	s.Inject(oauthtest.Fault{Kind: oauthtest.Unavailable}, oauthtest.Fault{Kind: oauthtest.ServerError})
	refresh(s, login.RefreshToken).wantError(t, http.StatusServiceUnavailable, "temporarily_unavailable")
	refresh(s, login.RefreshToken).wantError(t, http.StatusInternalServerError, "server_error")
	refresh(s, login.RefreshToken).token(t)
	// Retrying with the same token after faults is visible in PresentedTwice.
	if st := s.Stats(); st.Faults != 2 || st.Refreshes != 1 || st.PresentedTwice != 1 {
		t.Errorf("stats %+v", st)
	}
}

// A slow request whose client gives up is never processed: had it been, it
// would have presented a rotated-away token and revoked the family.
func TestSlowFaultHonoursCancellation(t *testing.T) {
	t.Parallel()
	const delay = 400 * time.Millisecond
	s := newServer(t, oauthtest.Options{})
	login := s.Issue("read", time.Hour)
	s.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: delay})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r := postForm(nil, s.TokenURL(), refreshForm(login.RefreshToken), func(req *http.Request) {
		*req = *req.WithContext(ctx)
	})
	if r.Err == nil {
		t.Fatalf("got %d %s, want the client to time out", r.Status, r.Body)
	}
	fresh := refresh(s, login.RefreshToken).token(t)
	time.Sleep(delay + 200*time.Millisecond)
	wantActive(t, s, true, fresh.RefreshToken, fresh.AccessToken)
	// The retry after the timeout presented the same token a second time.
	if st := s.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 || st.PresentedTwice != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestLatencyHonoursCancellation(t *testing.T) {
	t.Parallel()
	const latency = 2 * time.Second
	s := newServer(t, oauthtest.Options{Latency: latency})
	login := s.Issue("read", time.Hour)
	client := &http.Client{Timeout: 100 * time.Millisecond}
	if r := postForm(client, s.TokenURL(), refreshForm(login.RefreshToken)); r.Err == nil {
		t.Fatalf("got %d, want a timeout", r.Status)
	}
	start := time.Now()
	s.Close() // waits for the handler, which must not sleep out its latency
	if took := time.Since(start); took > latency/2 {
		t.Errorf("Close took %v: the abandoned request slept on", took)
	}
	wantActive(t, s, true, login.RefreshToken)
	if st := s.Stats(); st.TokenRequests != 1 || st.Refreshes != 0 {
		t.Errorf("stats %+v", st)
	}
}
