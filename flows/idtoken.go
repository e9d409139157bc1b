package flows

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Claims are the ID token claims tokctl shows (tokctl status): who is logged in.
type Claims struct {
	Subject           string `json:"sub"`
	Email             string `json:"email,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Name              string `json:"name,omitempty"`
}

// Who names the user: email, else preferred_username, else name, else the subject.
func (c Claims) Who() string {
	for _, s := range []string{c.Email, c.PreferredUsername, c.Name} {
		if s != "" {
			return s
		}
	}
	return c.Subject
}

// VerifyIDToken checks an ID token with go-oidc: RS256/ES256 signature against the issuer's
// JWKS, iss, aud (the client id), expiry, and the nonce of the login that requested it.
func VerifyIDToken(ctx context.Context, client *http.Client, issuer, jwksURL, clientID, nonce, raw string) (Claims, error) {
	var claims Claims
	if issuer == "" || jwksURL == "" {
		return claims, errors.New("id token: no issuer or JWKS URL known to verify it with")
	}
	ctx = oidc.ClientContext(ctx, client)
	verifier := oidc.NewVerifier(issuer, oidc.NewRemoteKeySet(ctx, jwksURL), &oidc.Config{ClientID: clientID})
	tok, err := verifier.Verify(ctx, raw)
	if err != nil {
		return claims, fmt.Errorf("id token: %w", err)
	}
	if nonce != "" && tok.Nonce != nonce {
		return claims, errors.New("id token: nonce does not match this login (replayed token?)")
	}
	if err := tok.Claims(&claims); err != nil {
		return claims, fmt.Errorf("id token: %w", err)
	}
	return claims, nil
}

// ParseClaims reads an ID token's claims WITHOUT verifying it: for display of a token that was
// verified when it was stored.
func ParseClaims(raw string) (Claims, error) {
	var claims Claims
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return claims, errors.New("id token: not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return claims, fmt.Errorf("id token: %w", err)
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return claims, fmt.Errorf("id token: %w", err)
	}
	return claims, nil
}
