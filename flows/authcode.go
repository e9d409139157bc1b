package flows

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/creds"
)

// AuthCode is the authorization-code grant with PKCE (RFC 7636, S256) through a loopback
// redirect (RFC 8252): a listener on 127.0.0.1 serves exactly one callback, checks state,
// error, iss (RFC 9207) and code, and the code is exchanged with the verifier, which never
// leaves the process otherwise.
type AuthCode struct {
	// Config names the client and endpoints. Its Endpoint.AuthStyle must be explicit.
	Config oauth2.Config
	// RedirectHost is the host in the redirect URI: "127.0.0.1" (default) or "localhost" for
	// providers that demand it. The listener binds loopback addresses only.
	RedirectHost string
	// RedirectPort is the listener's port; 0 lets the OS choose.
	RedirectPort int
	// AuthParams are extra authorize parameters (access_type, prompt, audience …).
	AuthParams map[string]string
	// Issuer is compared with the redirect's iss parameter when present (RFC 9207); with
	// RequireIss, a redirect without iss is refused (the server advertises it).
	Issuer     string
	RequireIss bool
	// Show tells the user where to go; it is called before Open, always.
	Show func(authURL string)
	// Open opens a browser at the URL; nil or an error leaves it to the user.
	Open func(authURL string) error
	// Pasted, when set, yields a redirect URL the user pasted (for --no-browser over SSH);
	// whichever of it and the listener answers first wins.
	Pasted <-chan string
	// HTTPClient sends the token request (default NewHTTPClient()).
	HTTPClient *http.Client
	// Lifetime applies when the token response has no expires_in (default DefaultLifetime).
	Lifetime time.Duration
}

// callbackPath is where the loopback listener expects the redirect.
const callbackPath = "/callback"

// Result is what a login produced: the credential and the nonce its ID token must carry.
type Result struct {
	Credential *creds.Credential
	Nonce      string
}

// Run performs the login and returns the new credential. It waits until ctx ends.
func (a *AuthCode) Run(ctx context.Context) (*Result, error) {
	if a.Config.Endpoint.AuthStyle == oauth2.AuthStyleAutoDetect {
		return nil, errors.New("login: client authentication style must be explicit")
	}
	host := a.RedirectHost
	if host == "" {
		host = "127.0.0.1"
	}
	listeners, err := listenLoopback(a.RedirectPort, host == "localhost")
	if err != nil {
		return nil, err
	}
	port := listeners[0].Addr().(*net.TCPAddr).Port
	cfg := a.Config
	cfg.RedirectURL = "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + callbackPath
	state, verifier, nonce := randomString(), oauth2.GenerateVerifier(), ""
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if hasScope(cfg.Scopes, "openid") {
		nonce = randomString()
		opts = append(opts, oauth2.SetAuthURLParam("nonce", nonce))
	}
	for k, v := range a.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	authURL := cfg.AuthCodeURL(state, opts...)

	cb := newCallback(state, a.Issuer, a.RequireIss)
	srv := &http.Server{Handler: cb, ReadHeaderTimeout: 10 * time.Second}
	for _, ln := range listeners {
		go srv.Serve(ln)
	}
	defer func() { // let the browser receive its page, then stop listening
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()

	if a.Show != nil {
		a.Show(authURL)
	}
	if a.Open != nil {
		a.Open(authURL) // a failure is fine: the URL is on the screen
	}
	var code string
	select {
	case r := <-cb.result:
		code, err = r.code, r.err
	case pasted := <-a.Pasted:
		code, err = cb.checkPasted(pasted)
	case <-ctx.Done():
		return nil, fmt.Errorf("login: waiting for the browser: %w", ctx.Err())
	}
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.client())
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("login: exchanging the code: %w", describeRetrieve(err))
	}
	return &Result{Credential: credentialFrom(tok, a.Lifetime), Nonce: nonce}, nil
}

func (a *AuthCode) client() *http.Client {
	if a.HTTPClient != nil {
		return a.HTTPClient
	}
	return NewHTTPClient()
}

// listenLoopback binds 127.0.0.1 only, never a wildcard address. For a "localhost" redirect it
// also binds [::1] on the same port where it can, since a browser may resolve localhost to
// either.
func listenLoopback(port int, alsoV6 bool) ([]net.Listener, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("login: listening for the redirect on 127.0.0.1:%d: %w", port, err)
	}
	listeners := []net.Listener{ln}
	if alsoV6 {
		if ln6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))); err == nil {
			listeners = append(listeners, ln6)
		}
	}
	return listeners, nil
}

func randomString() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hasScope(scopes []string, want string) bool {
	for _, s := range scopes {
		for _, f := range strings.Fields(s) {
			if f == want {
				return true
			}
		}
	}
	return false
}

// credentialFrom converts an x/oauth2 token response.
func credentialFrom(tok *oauth2.Token, lifetime time.Duration) *creds.Credential {
	c := &creds.Credential{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
	if id, ok := tok.Extra("id_token").(string); ok {
		c.IDToken = id
	}
	if s, ok := tok.Extra("scope").(string); ok {
		c.Scope = s
	}
	if c.Expiry.IsZero() {
		if lifetime <= 0 {
			lifetime = DefaultLifetime
		}
		c.Expiry = time.Now().Add(lifetime)
	}
	return c
}

// describeRetrieve turns x/oauth2's error (whose text may carry the whole response body) into
// the provider's error code and description.
func describeRetrieve(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return &ProviderError{Status: status, Code: re.ErrorCode, Description: re.ErrorDescription}
	}
	return err
}
