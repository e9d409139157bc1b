package flows

import (
	"context"
	"errors"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokctl/tokctl/creds"
)

// ClientCredentials fetches a token for a service account (RFC 6749 §4.4). It is a
// creds.Refresher that needs no refresh token: "tokctl token" re-fetches under the same lock
// when the token expires.
type ClientCredentials struct {
	Config     clientcredentials.Config
	HTTPClient *http.Client
	Lifetime   time.Duration
}

// NeedsRefreshToken reports false: a new token needs only the client's own credentials.
func (cc *ClientCredentials) NeedsRefreshToken() bool { return false }

// Refresh implements creds.Refresher by asking for a new token.
func (cc *ClientCredentials) Refresh(ctx context.Context, _ *creds.Credential) (*creds.Credential, error) {
	client := cc.HTTPClient
	if client == nil {
		client = NewHTTPClient()
	}
	tok, err := cc.Config.Token(context.WithValue(ctx, oauth2.HTTPClient, client))
	if err == nil {
		return credentialFrom(tok, cc.Lifetime), nil
	}
	if errors.Is(err, context.Canceled) {
		return nil, err
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return nil, &creds.TransientError{Err: err} // no answer at all: the network
	}
	if re.Response != nil && (re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests) || re.ErrorCode == "temporarily_unavailable" {
		return nil, &creds.TransientError{Err: describeRetrieve(err)}
	}
	return nil, describeRetrieve(err)
}
