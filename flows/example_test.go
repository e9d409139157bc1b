package flows_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/flows"
	"github.com/tokctl/tokctl/oauthtest"
)

// A Refresher sends one refresh request and classifies the answer; it does no locking and
// keeps nothing. Against a provider that rotates refresh tokens, sending the same refresh
// token twice — what two uncoordinated callers do — revokes the whole login. That is why a
// Refresher is meant to run inside a creds.Source, which makes sure each refresh token is
// sent once.
func ExampleRefresher() {
	srv := oauthtest.NewServer(oauthtest.Options{}) // strict: rotation and reuse detection
	defer srv.Close()
	login := srv.Issue("openid", -time.Minute) // a login whose access token has expired
	old := &creds.Credential{AccessToken: login.AccessToken, RefreshToken: login.RefreshToken}

	r := &flows.Refresher{TokenURL: srv.TokenURL(), ClientID: "tokctl-test", AuthStyle: oauth2.AuthStyleInParams}
	fresh, err := r.Refresh(context.Background(), old)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("refreshed; refresh token rotated:", fresh.RefreshToken != old.RefreshToken)

	// A second caller that read the credential before the first one saved sends the old
	// refresh token again.
	_, err = r.Refresh(context.Background(), old)
	if grant := (*creds.GrantError)(nil); errors.As(err, &grant) {
		fmt.Println("second use of the old refresh token:", grant.Code, "(a *creds.GrantError)")
	} else {
		fmt.Println("second use of the old refresh token:", err)
	}
	fmt.Println("the new tokens still work:", srv.Active(fresh.AccessToken) || srv.Active(fresh.RefreshToken))
	// Output:
	// refreshed; refresh token rotated: true
	// second use of the old refresh token: invalid_grant (a *creds.GrantError)
	// the new tokens still work: false
}
