package oauthtest_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/oauthtest"
)

// noRedirect is an HTTP client that hands back redirects instead of
// following them, as a test of /authorize needs.
var noRedirect = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// login is the client side of one authorization request.
type login struct {
	verifier, state, nonce, redirect, scope string
}

// newLogin prepares a correct authorization request with fresh PKCE,
// state and nonce values and a loopback redirect on some port.
func newLogin() login {
	return login{
		verifier: oauth2.GenerateVerifier(),
		state:    "st-" + oauth2.GenerateVerifier()[:12],
		nonce:    "n-" + oauth2.GenerateVerifier()[:12],
		redirect: "http://127.0.0.1:49152/callback",
		scope:    "openid offline_access",
	}
}

// query is the authorization request as a correct client sends it.
func (l login) query() url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {"tokctl-test"},
		"redirect_uri":          {l.redirect},
		"scope":                 {l.scope},
		"state":                 {l.state},
		"nonce":                 {l.nonce},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(l.verifier)},
		"code_challenge_method": {"S256"},
	}
}

// authzReply is what /authorize answered.
type authzReply struct {
	Status   int
	Header   http.Header
	Body     string
	Location *url.URL   // nil unless a redirect
	Params   url.Values // the redirect's query
}

// authorize sends q to s's /authorize without following the redirect.
func authorize(t *testing.T, s *oauthtest.Server, q url.Values) authzReply {
	t.Helper()
	resp, err := noRedirect.Get(s.AuthorizeURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := authzReply{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
	if loc := resp.Header.Get("Location"); loc != "" {
		if r.Location, err = url.Parse(loc); err != nil {
			t.Fatalf("Location %q: %v", loc, err)
		}
		r.Params = r.Location.Query()
	}
	return r
}

// wantRedirect checks that r redirects to l's redirect_uri and returns its
// parameters.
func (r authzReply) wantRedirect(t *testing.T, l login) url.Values {
	t.Helper()
	if r.Status != http.StatusFound || r.Location == nil {
		t.Fatalf("got %d %q, want a 302 redirect", r.Status, r.Body)
	}
	if got := r.Location.Scheme + "://" + r.Location.Host + r.Location.Path; got != l.redirect {
		t.Fatalf("redirected to %s, want %s", got, l.redirect)
	}
	return r.Params
}

// code runs l's authorization request at s and returns the code.
func (l login) code(t *testing.T, s *oauthtest.Server) string {
	t.Helper()
	p := authorize(t, s, l.query()).wantRedirect(t, l)
	if p.Get("code") == "" || p.Get("state") != l.state {
		t.Fatalf("authorization response %v: want a code and state %q", p, l.state)
	}
	return p.Get("code")
}

// exchangeForm is the authorization_code grant redeeming code for l.
func (l login) exchangeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"tokctl-test"},
		"redirect_uri": {l.redirect}, "code_verifier": {l.verifier}}
}

// idToken is a decoded, signature-checked ID token.
type idToken struct {
	Header map[string]any
	Claims map[string]any
}

// verifyIDToken checks raw's RS256 signature against the server's JWKS
// (found through discovery) and decodes it.
func verifyIDToken(t *testing.T, s *oauthtest.Server, raw string) (idToken, error) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return idToken{}, errors.New("not a compact JWS")
	}
	var tok idToken
	if err := decodeSegment(parts[0], &tok.Header); err != nil {
		return idToken{}, err
	}
	if err := decodeSegment(parts[1], &tok.Claims); err != nil {
		return idToken{}, err
	}
	if tok.Header["alg"] != "RS256" {
		return idToken{}, errors.New("alg is not RS256")
	}
	jwksURI, _ := fetchJSON(t, s.URL()+"/.well-known/openid-configuration")["jwks_uri"].(string)
	var set struct {
		Keys []struct{ Kty, Kid, N, E string }
	}
	resp, err := http.Get(jwksURI)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("decode JWKS: %v", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return idToken{}, err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid != tok.Header["kid"] {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil {
			t.Fatalf("JWK n/e not base64url: %v %v", err1, err2)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() != 2048 {
			t.Errorf("key has %d bits, want 2048", pub.N.BitLen())
		}
		return tok, rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	}
	return idToken{}, errors.New("no JWK with the token's kid")
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
