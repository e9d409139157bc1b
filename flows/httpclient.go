package flows

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tokctl/tokctl/creds"
)

// errRedirect marks a token endpoint that answered with a redirect.
var errRedirect = errors.New("token endpoint redirected; refusing to follow")

// NewHTTPClient returns the client tokctl uses for token endpoints: bounded dial and header
// waits, and no redirects — a token endpoint that redirects is refused rather than followed,
// so a refresh token is never sent to a host the profile does not name.
func NewHTTPClient() *http.Client {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 20 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return fmt.Errorf("%w (to %s)", errRedirect, req.URL.Redacted())
		},
	}
}

// transportError classifies a failure to get any response: a refused redirect is final, the
// caller's cancellation is returned as is, everything else (refused connection, reset, timeout)
// is worth a retry.
func transportError(ctx context.Context, tokenURL string, err error) error {
	if errors.Is(err, errRedirect) {
		return fmt.Errorf("refresh: %w", err)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	return &creds.TransientError{Err: fmt.Errorf("refresh: POST %s: %w", tokenURL, unwrapURLError(err))}
}

// unwrapURLError drops net/http's *url.Error wrapper, whose text repeats the method and URL.
func unwrapURLError(err error) error {
	if u, ok := err.(interface{ Unwrap() error }); ok && u.Unwrap() != nil {
		return u.Unwrap()
	}
	return err
}
