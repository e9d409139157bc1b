package commands

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/flows"
	"github.com/tokctl/tokctl/oauthtest"
)

// naiveBurst is what a tool without a lock does: n callers read the same expired credential
// and each sends its refresh token to the provider at the same moment.
func naiveBurst(ctx context.Context, srv *oauthtest.Server, n int) burstResult {
	issued := srv.Issue("demo", -time.Minute)
	srv.ResetStats()
	r := &flows.Refresher{TokenURL: srv.TokenURL(), ClientID: "tokctl-test", AuthStyle: oauth2.AuthStyleInParams}
	res := burstResult{callers: n, distinct: -1}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		winners []string
		go_     = make(chan struct{})
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-go_
			got, err := r.Refresh(ctx, &creds.Credential{RefreshToken: issued.RefreshToken})
			mu.Lock()
			defer mu.Unlock()
			var grant *creds.GrantError
			switch {
			case err == nil:
				winners = append(winners, got.RefreshToken)
			case errors.As(err, &grant):
				res.failed++
				if res.firstError == "" {
					res.firstError = grant.Error()
				}
			default:
				res.failed++
			}
		}()
	}
	start := time.Now()
	close(go_)
	wg.Wait()
	res.wall = time.Since(start)
	st := srv.Stats()
	res.calls, res.reuse = st.TokenRequests, st.ReuseDetected > 0
	for _, rt := range winners {
		res.familyAlive = res.familyAlive || srv.Active(rt)
	}
	return res
}
