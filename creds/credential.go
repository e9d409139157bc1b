package creds

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Credential is one OAuth2 grant as tokctl stores it. Fields a provider or a foreign program
// wrote that tokctl does not own survive a refresh untouched (see Extra).
type Credential struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	IDToken      string
	Scope        string
	// Expiry is when the access token stops working; zero means the lifetime is unknown.
	Expiry time.Time
	// Extra holds every other top-level JSON field, kept verbatim.
	Extra map[string]json.RawMessage

	shape shape // how the file spelled its fields, so a rewrite keeps the owner's format
}

// FreshFor reports whether the access token stays valid for at least ttl after now.
// A token without a known expiry counts as fresh: tokctl cannot know better than the provider.
func (c *Credential) FreshFor(ttl time.Duration, now time.Time) bool {
	if c == nil || c.AccessToken == "" {
		return false
	}
	return c.Expiry.IsZero() || c.Expiry.Sub(now) >= ttl
}

// Expired reports whether the access token no longer works at all (ignoring any min-ttl margin).
func (c *Credential) Expired(now time.Time) bool {
	return !c.FreshFor(0, now) || (!c.Expiry.IsZero() && !now.Before(c.Expiry))
}

// Type returns the token type, "Bearer" when the provider did not say.
func (c *Credential) Type() string {
	if c.TokenType == "" {
		return "Bearer"
	}
	return c.TokenType
}

// merge applies a token response to the stored credential: what the provider sent replaces the
// old value, what it omitted is kept (Google omits refresh_token; most omit id_token and scope
// on refresh), and unknown fields of both survive.
func merge(old, resp *Credential) *Credential {
	out := *old
	out.AccessToken = resp.AccessToken
	out.Expiry = resp.Expiry
	if resp.TokenType != "" {
		out.TokenType = resp.TokenType
	}
	if resp.RefreshToken != "" {
		out.RefreshToken = resp.RefreshToken
	}
	if resp.IDToken != "" {
		out.IDToken = resp.IDToken
	}
	if resp.Scope != "" {
		out.Scope = resp.Scope
	}
	if len(old.Extra)+len(resp.Extra) > 0 {
		out.Extra = make(map[string]json.RawMessage, len(old.Extra)+len(resp.Extra))
		for k, v := range old.Extra {
			out.Extra[k] = v
		}
		for k, v := range resp.Extra {
			out.Extra[k] = v
		}
	}
	return &out
}

// Fingerprint returns a short, non-reversible label for a secret, safe to log and to store
// beside the credential ("sha256:" and 16 hex digits). The empty secret has the empty label.
func Fingerprint(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:8])
}
