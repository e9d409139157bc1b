package oauthtest_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
)

// hammer sends one refresh per element of rts, all released at once, each
// over its own connection, and returns the replies in the same order.
func hammer(s *oauthtest.Server, rts []string) []reply {
	tr := &http.Transport{MaxIdleConnsPerHost: len(rts)}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	replies := make([]reply, len(rts))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, rt := range rts {
		wg.Go(func() {
			<-start
			replies[i] = postForm(client, s.TokenURL(), refreshForm(rt))
		})
	}
	close(start)
	wg.Wait()
	return replies
}

// The race of the seed guide: 100 callers present the same refresh token at
// once. Exactly one wins; the first loser trips reuse detection, which
// revokes the family, winner's fresh tokens included.
func TestConcurrentSameRefreshToken(t *testing.T) {
	const n = 100
	s := newServer(t, oauthtest.Options{Latency: time.Second})
	login := s.Issue("read", time.Hour)
	rts := make([]string, n)
	for i := range rts {
		rts[i] = login.RefreshToken
	}

	var winners []oauthtest.TokenResponse
	for _, r := range hammer(s, rts) {
		if r.Status == http.StatusOK {
			winners = append(winners, r.token(t))
			continue
		}
		r.wantError(t, http.StatusBadRequest, "invalid_grant")
	}
	if len(winners) != 1 {
		t.Fatalf("%d requests succeeded, want exactly 1", len(winners))
	}
	wantActive(t, s, false, winners[0].RefreshToken, winners[0].AccessToken, login.RefreshToken)

	want := oauthtest.Stats{
		TokenRequests:   n,
		Refreshes:       1,
		InvalidGrants:   n - 1,
		ReuseDetected:   1,
		FamiliesRevoked: 1,
		MaxConcurrent:   n,
		PresentedTwice:  1,
	}
	if st := s.Stats(); st != want {
		t.Errorf("stats\n got %+v\nwant %+v", st, want)
	}
}

// Distinct refresh tokens refreshed concurrently never count as presented
// twice; MaxConcurrent stays within the number of requests.
func TestConcurrentDistinctRefreshTokens(t *testing.T) {
	const n = 50
	s := newServer(t, oauthtest.Options{Jitter: 20 * time.Millisecond})
	rts := make([]string, n)
	for i := range rts {
		rts[i] = s.Issue("read", time.Hour).RefreshToken
	}
	for _, r := range hammer(s, rts) {
		r.token(t)
	}
	st := s.Stats()
	if st.Refreshes != n || st.PresentedTwice != 0 || st.InvalidGrants != 0 ||
		st.MaxConcurrent < 1 || st.MaxConcurrent > n {
		t.Errorf("stats %+v", st)
	}
}

func TestPresentedTwiceCountsDistinctValues(t *testing.T) {
	s := newServer(t, oauthtest.Options{NoRotation: true})
	a := s.Issue("read", time.Hour).RefreshToken
	b := s.Issue("read", time.Hour).RefreshToken
	for _, rt := range []string{a, a, a, b} {
		refresh(s, rt).token(t)
	}
	if st := s.Stats(); st.PresentedTwice != 1 {
		t.Fatalf("PresentedTwice = %d, want 1 (a thrice, b once)", st.PresentedTwice)
	}
	s.ResetStats()
	refresh(s, a).token(t)
	if st := s.Stats(); st != (oauthtest.Stats{TokenRequests: 1, Refreshes: 1, MaxConcurrent: 1}) {
		t.Errorf("after ResetStats: %+v, want presentations forgotten", st)
	}
}

// MaxConcurrent counts requests while they wait: n requests held by Slow
// faults are all in flight once the server has seen all of them.
func TestMaxConcurrentCountsWaitingRequests(t *testing.T) {
	const n = 20
	s := newServer(t, oauthtest.Options{})
	rt := s.Issue("read", time.Hour).RefreshToken
	for range n {
		s.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: time.Minute})
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			postForm(nil, s.TokenURL(), refreshForm(rt), func(r *http.Request) { *r = *r.WithContext(ctx) })
		})
	}
	for s.Stats().TokenRequests < n {
		time.Sleep(time.Millisecond)
	}
	st := s.Stats()
	cancel()
	wg.Wait()
	if st.MaxConcurrent != n || st.PresentedTwice != 1 || st.Faults != n {
		t.Errorf("stats %+v, want MaxConcurrent %d", st, n)
	}
}
