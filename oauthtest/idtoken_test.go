package oauthtest_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
)

// The ID token is an RS256 JWT that verifies with the key published at
// jwks_uri, names the issuer, the client as audience and the configured
// user, and carries the authorization request's nonce. Any change to it
// breaks the signature.
func TestIDTokenVerifiesWithJWKS(t *testing.T) {
	user := oauthtest.User{Subject: "u-42", Email: "bob@example.org", Name: "bob"}
	s := newServer(t, oauthtest.Options{User: user, AccessTTL: 10 * time.Minute})
	l := newLogin()
	l.scope = "openid email profile"
	tok := postForm(nil, s.TokenURL(), l.exchangeForm(l.code(t, s))).token(t)

	idt, err := verifyIDToken(t, s, tok.IDToken)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if idt.Header["typ"] != "JWT" || idt.Header["kid"] == "" {
		t.Errorf("header %v", idt.Header)
	}
	now := float64(time.Now().Unix())
	c := idt.Claims
	for k, want := range map[string]any{"iss": s.URL(), "aud": "tokctl-test", "sub": "u-42", "nonce": l.nonce,
		"email": "bob@example.org", "name": "bob", "preferred_username": "bob"} {
		if c[k] != want {
			t.Errorf("claim %s = %v, want %v", k, c[k], want)
		}
	}
	if iat, _ := c["iat"].(float64); iat < now-5 || iat > now+1 {
		t.Errorf("iat %v, want about %v", c["iat"], now)
	}
	if exp, _ := c["exp"].(float64); exp < now+590 || exp > now+601 {
		t.Errorf("exp %v, want about now+600", c["exp"])
	}

	parts := strings.Split(tok.IDToken, ".")
	forged := strings.Replace(string(mustDecode(t, parts[1])), `"u-42"`, `"admin"`, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	if _, err := verifyIDToken(t, s, tampered); err == nil {
		t.Error("a tampered ID token verified")
	}

	// Another server has another key.
	other := newServer(t, oauthtest.Options{})
	if _, err := verifyIDToken(t, other, tok.IDToken); err == nil {
		t.Error("the ID token verified with another server's JWKS")
	}
}

// Only logins get ID tokens: Issue keeps its refresh-only behaviour.
func TestIssueGetsNoIDToken(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	login := s.Issue("openid", time.Hour)
	if got := refresh(s, login.RefreshToken).token(t); login.IDToken != "" || got.IDToken != "" {
		t.Errorf("Issue family got an ID token: %+v", got)
	}
}

func TestJWKS(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	keys, _ := fetchJSON(t, s.JWKSURL())["keys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(keys))
	}
	k := keys[0].(map[string]any)
	if k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" || k["kid"] == "" || k["e"] != "AQAB" {
		t.Errorf("JWK %v", k)
	}
	if again := fetchJSON(t, s.JWKSURL())["keys"].([]any)[0].(map[string]any); again["n"] != k["n"] {
		t.Error("the key changed between requests")
	}
}

func mustDecode(t *testing.T, seg string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
