package creds_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/flows"
	"github.com/tokctl/tokctl/oauthtest"
)

// Two Source values on one credential file race on an expired access token, as two processes
// would (a Go service and "tokctl token", say): each has its own store value and mutex, so only
// the lock file beside the credential stands between them and a double refresh. The server is
// the repository's strict test server: it rotates the refresh token on every refresh, holds each
// token request for 300 ms (so both callers find the token expired while the first refresh is
// in flight), and revokes the whole login if a rotated-away refresh token is presented again.
func ExampleSource() {
	srv := oauthtest.NewServer(oauthtest.Options{Latency: 300 * time.Millisecond})
	defer srv.Close()

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "work.json")

	// A logged-in user whose access token expired a minute ago.
	login := srv.Issue("openid", -time.Minute)
	old := &creds.Credential{AccessToken: login.AccessToken, RefreshToken: login.RefreshToken,
		Expiry: time.Now().Add(-time.Minute)}
	if err := creds.NewFileStore(path).Save(old); err != nil {
		fmt.Println(err)
		return
	}

	newSource := func() oauth2.TokenSource {
		return &creds.Source{
			Store:     creds.NewFileStore(path),
			LockPath:  path + ".lock", // the same lock for every party: that is the whole point
			Refresher: &flows.Refresher{TokenURL: srv.TokenURL(), ClientID: "tokctl-test", AuthStyle: oauth2.AuthStyleInParams},
		}
	}
	sources := []oauth2.TokenSource{newSource(), newSource()}
	tokens := make([]string, len(sources))
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tok, err := src.Token(); err != nil {
				fmt.Printf("caller %d: %v\n", i, err)
			} else {
				tokens[i] = tok.AccessToken
			}
		}()
	}
	wg.Wait()

	stats := srv.Stats()
	stored, _ := creds.NewFileStore(path).Load()
	fmt.Println("token endpoint calls:", stats.TokenRequests)
	fmt.Println("same new access token:", tokens[0] != "" && tokens[0] == tokens[1] && tokens[0] != old.AccessToken)
	fmt.Println("refresh token rotated and stored:", stored.RefreshToken != old.RefreshToken && srv.Active(stored.RefreshToken))
	fmt.Println("invalid_grant answers:", stats.InvalidGrants)
	// Output:
	// token endpoint calls: 1
	// same new access token: true
	// refresh token rotated and stored: true
	// invalid_grant answers: 0
}

// A Source is an oauth2.TokenSource, so oauth2.NewClient turns it into an *http.Client that
// sets the Authorization header on every request, refreshing the token at most once however
// many goroutines use the client.
func ExampleSource_client() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	store := creds.NewFileStore(filepath.Join(dir, "work.json"))
	store.Save(&creds.Credential{AccessToken: "at_example", RefreshToken: "rt_example"}) // no expiry: fresh

	src := &creds.Source{
		Store:    store,
		LockPath: store.Path + ".lock",
		Refresher: &flows.Refresher{
			TokenURL:  "https://idp.example.com/oauth2/token",
			ClientID:  "my-cli",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		Command: "my-service", // recorded in the lock's owner record while it refreshes
	}
	client := oauth2.NewClient(context.Background(), src)
	_ = client // client.Get("https://api.example.com/me") …

	c, err := src.Get(context.Background()) // the credential itself, for its expiry or ID token
	fmt.Println(c.AccessToken, err)
	// Output: at_example <nil>
}
