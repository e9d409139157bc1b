// Package oauthtest is a strict OAuth 2.0 authorization server that runs
// inside the test process (or behind "tokctl demo").
//
// It is as unforgiving as the real servers tokctl has to survive (Ory Hydra,
// Auth0 and Okta with rotation): every refresh rotates the refresh token,
// redeeming a refresh token revokes the access token issued with it, and
// presenting a rotated-away refresh token again revokes the whole token
// family — every access and refresh token descended from the same login —
// unless Options.Grace allows it. Options.NoRotation switches to Google's
// behaviour instead.
//
// Beyond refresh it runs the login flows tokctl implements, as strictly as
// Hydra and Okta: the authorization code grant with mandatory PKCE (S256
// only) and loopback redirects, the device authorization grant and the
// client credentials grant, with OpenID Connect ID tokens (RS256).
//
// Endpoints, one file each (grants of /token in grant_*.go):
//
//	GET  /authorize    authorization request, RFC 6749 §4.1,
//	                   RFC 7636, RFC 8252, RFC 9207              authorize.go
//	POST /token        token endpoint, dispatching on grant_type: token.go
//	                   refresh_token, RFC 6749 §6                token.go
//	                   authorization_code + PKCE, §4.1.3         grant_code.go
//	                   device_code, RFC 8628 §3.4                grant_device.go
//	                   client_credentials, §4.4                  grant_client.go
//	POST /device/code  device authorization, RFC 8628 §3.1       device.go
//	GET  /device       verification page: approves a user_code   device.go
//	POST /revoke       token revocation, RFC 7009                revoke.go
//	POST /introspect   token introspection, RFC 7662             introspect.go
//	GET  /jwks         ID token signing key (JWK Set, RFC 7517)  jwks.go
//	GET  /.well-known/openid-configuration                       discovery.go
//	GET  /.well-known/oauth-authorization-server (RFC 8414)      discovery.go
//
// Tests drive the server with Issue (a user has just logged in), Inject
// (faults for the next token requests), InjectAuthorize (faults for the
// next authorization responses), ApproveDevice and DenyDevice (the user at
// the verification page), and read what the clients did with Stats
// (PresentedTwice is the "no refresh token presented twice" metric) and
// LastAuthorizeRequest.
//
// All methods are safe for concurrent use. The state lives behind one mutex;
// configured latency and fault delays are slept outside it, before the
// request is processed, and are cut short when the request's context or the
// server is closed — such a request is then not processed at all.
//
// Tokens, codes and device codes are opaque random strings, "at_…" for
// access tokens, "rt_…" for refresh tokens, "ac_…" for authorization codes
// and "dc_…" for device codes. Options.Logf only ever sees short
// fingerprints of them and of PKCE values.
package oauthtest

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Server is a running authorization server. Create it with NewServer or
// Serve and stop it with Close.
type Server struct {
	opt       Options
	url       string
	srv       *http.Server
	handler   http.Handler
	ctx       context.Context // cancelled by Close; ends every sleep
	cancel    context.CancelFunc
	closeOnce sync.Once
	handlers  sync.WaitGroup // running handler calls, awaited by Close

	mu        sync.Mutex // guards everything below
	closed    bool
	tokens    map[string]*token
	families  int
	faults    []Fault
	inflight  int
	stats     Stats
	presented map[string]int // refresh token value -> requests presenting it

	codes      map[string]*authCode    // authorization code value -> its grant
	devices    map[string]*deviceGrant // device_code -> its grant
	userCodes  map[string]*deviceGrant // normalised user_code -> its grant
	authFaults []AuthorizeFault        // queued by InjectAuthorize
	lastAuthz  url.Values              // query of the most recent /authorize

	keyOnce sync.Once // generates key on first use: RSA-2048 takes tens of ms
	key     *signingKey
}

// NewServer starts a server on a random port of 127.0.0.1. It panics if it
// cannot listen, like httptest.NewServer.
func NewServer(opt Options) *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("oauthtest: listen: " + err.Error())
	}
	s, err := Serve(context.Background(), ln, opt)
	if err != nil {
		panic("oauthtest: " + err.Error())
	}
	return s
}

// Serve starts a server on ln, for example in a separate process. The
// server stops (as by Close) when ctx is done. It takes ownership of ln.
func Serve(ctx context.Context, ln net.Listener, opt Options) (*Server, error) {
	if ln == nil {
		return nil, errors.New("serve: nil listener")
	}
	s := &Server{
		opt:       opt.withDefaults(),
		url:       "http://" + listenAddr(ln),
		tokens:    make(map[string]*token),
		presented: make(map[string]int),
		codes:     make(map[string]*authCode),
		devices:   make(map[string]*deviceGrant),
		userCodes: make(map[string]*deviceGrant),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.handler = s.routes()
	s.srv = &http.Server{
		Handler:           s.handler,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go s.srv.Serve(ln) //nolint:errcheck // always ErrServerClosed after Close
	context.AfterFunc(ctx, s.Close)
	return s, nil
}

// listenAddr returns ln's host:port, with an unspecified IP (0.0.0.0, ::)
// replaced by 127.0.0.1 so that the URL can be dialled.
func listenAddr(ln net.Listener) string {
	a, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !a.IP.IsUnspecified() {
		return ln.Addr().String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
}

// URL returns the issuer URL, http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.url }

// TokenURL returns the token endpoint, URL()+"/token".
func (s *Server) TokenURL() string { return s.url + "/token" }

// RevokeURL returns the RFC 7009 revocation endpoint, URL()+"/revoke".
func (s *Server) RevokeURL() string { return s.url + "/revoke" }

// IntrospectURL returns the RFC 7662 introspection endpoint, URL()+"/introspect".
func (s *Server) IntrospectURL() string { return s.url + "/introspect" }

// AuthorizeURL returns the authorization endpoint, URL()+"/authorize".
func (s *Server) AuthorizeURL() string { return s.url + "/authorize" }

// DeviceURL returns the RFC 8628 device authorization endpoint,
// URL()+"/device/code" (x/oauth2's Endpoint.DeviceAuthURL).
func (s *Server) DeviceURL() string { return s.url + "/device/code" }

// VerificationURL returns the device flow's verification_uri,
// URL()+"/device", where a browser approves a user code.
func (s *Server) VerificationURL() string { return s.url + "/device" }

// JWKSURL returns the JSON Web Key Set that verifies ID tokens, URL()+"/jwks".
func (s *Server) JWKSURL() string { return s.url + "/jwks" }

// Handler returns the server's HTTP handler, for mounting it elsewhere. The
// discovery documents keep naming URL() as the issuer.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the server: it closes the listener and all connections, cuts
// every latency or fault sleep short and waits for running handlers to
// return. Requests arriving afterwards get 503. Close is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.srv.Close() // first: no implicit response may reach a client
		s.cancel()
		s.handlers.Wait()
	})
}

// routes builds the endpoint mux; each endpoint lives in its own file.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/token", s.handleToken)
	mux.HandleFunc("/revoke", s.handleRevoke)
	mux.HandleFunc("/introspect", s.handleIntrospect)
	mux.HandleFunc("/authorize", s.handleAuthorize)
	mux.HandleFunc("/device/code", s.handleDeviceCode)
	mux.HandleFunc("/device", s.handleDevicePage)
	mux.HandleFunc("/jwks", s.handleJWKS)
	mux.HandleFunc("/.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc("/.well-known/oauth-authorization-server", s.handleDiscovery)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.enter() {
			writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "server closed")
			return
		}
		defer s.handlers.Done()
		mux.ServeHTTP(w, r)
	})
}

// enter registers a running handler unless the server is closed.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.handlers.Add(1)
	return true
}

// sleep waits for d. It reports false, early, when ctx is done or the server
// is closed: the caller must then abandon the request.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil && s.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.ctx.Done():
		return false
	}
}

// abandon ends a request dropped during a sleep. Its client is gone, or the
// server is closing: then say so, rather than let net/http send an empty 200
// (this matters where Handler is mounted in another server).
func (s *Server) abandon(w http.ResponseWriter) {
	if s.ctx.Err() != nil {
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "server closed")
	}
}

// logf forwards to Options.Logf when set.
func (s *Server) logf(format string, args ...any) {
	if s.opt.Logf != nil {
		s.opt.Logf(format, args...)
	}
}
