package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/creds"
)

// Device is the device authorization grant (RFC 8628) for machines without a browser: the user
// opens a URL elsewhere and types a code. x/oauth2 polls, honouring interval and slow_down.
type Device struct {
	// Config needs Endpoint.DeviceAuthURL, TokenURL and an explicit AuthStyle.
	Config     oauth2.Config
	AuthParams map[string]string
	// Show tells the user where to go and what code to enter.
	Show       func(*oauth2.DeviceAuthResponse)
	HTTPClient *http.Client
	Lifetime   time.Duration
}

// Run performs the device flow until the user approves, denies, or the code expires.
func (d *Device) Run(ctx context.Context) (*creds.Credential, error) {
	if d.Config.Endpoint.DeviceAuthURL == "" {
		return nil, errors.New("login --device: the profile has no device authorization endpoint (set --device-url)")
	}
	client := d.HTTPClient
	if client == nil {
		client = NewHTTPClient()
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	var opts []oauth2.AuthCodeOption
	if d.Config.ClientSecret != "" {
		// x/oauth2 sends only client_id to the device endpoint; a confidential client
		// (Google's, say) must authenticate there too. This is a back-channel POST body.
		opts = append(opts, oauth2.SetAuthURLParam("client_secret", d.Config.ClientSecret))
	}
	for k, v := range d.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	resp, err := d.Config.DeviceAuth(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("login --device: %w", describeRetrieve(err))
	}
	if d.Show != nil {
		d.Show(resp)
	}
	tok, err := d.Config.DeviceAccessToken(ctx, resp)
	if err != nil {
		return nil, deviceError(err)
	}
	return credentialFrom(tok, d.Lifetime), nil
}

// deviceError explains how a device login ended.
func deviceError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("login --device: %w", err)
	}
	switch re.ErrorCode {
	case "access_denied", "authorization_declined": // the latter is Microsoft Entra's
		return fmt.Errorf("%w: the request was denied in the browser (%s)", ErrLoginRejected, re.ErrorCode)
	case "expired_token":
		return fmt.Errorf("%w: the code expired before it was approved; run the login again", ErrLoginRejected)
	}
	return fmt.Errorf("login --device: %w", describeRetrieve(err))
}
