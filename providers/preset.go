// Package providers describes the OAuth 2.0 / OpenID Connect providers tokctl
// knows about, as data, and discovers authorization-server metadata.
//
// A [Preset] carries a provider's endpoints (as templates such as
// "https://{domain}/oauth2/default") and its quirks: how the client
// authenticates, which error codes mean "this refresh token is dead", whether
// refresh responses omit the refresh token, which loopback host the provider
// accepts in redirect URIs, and so on. The refresh transaction, the login
// flows and the command layer read these fields instead of switching on
// provider names.
//
// [Discover] fetches OpenID Connect Discovery 1.0 or RFC 8414 metadata. It is
// meant for `tokctl profile set --issuer`, never for the `tokctl token` hot path.
//
// The package is cheap to import: its only package-level state is the preset
// table literal. Nothing is compiled, fetched or computed at init.
package providers

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Preset is one provider's endpoints and quirks. Presets are values: Lookup
// and Expand return copies that the caller may modify freely.
type Preset struct {
	Name        string // canonical lower-case name, as accepted by --provider
	Description string // one line for `tokctl profile set --help` and the docs

	// Issuer is the OIDC / RFC 8414 issuer template; it may contain
	// placeholders such as {tenant} or {domain} (see Placeholders). It is ""
	// when the user must supply one (--issuer) or the provider has none.
	Issuer string

	// Endpoint templates. "" means: take it from discovery (Issuer) or from
	// the user's flags; for RevokeURL and DeviceURL it may also mean the
	// provider has no standard (RFC 7009 / RFC 8628) endpoint.
	AuthURL, TokenURL, DeviceURL, RevokeURL string

	// AuthStyle is how the client authenticates at the token endpoint. It is
	// never oauth2.AuthStyleAutoDetect: auto-detection re-sends a failed token
	// request in the other style, and re-sending a refresh request can burn a
	// rotating refresh token.
	AuthStyle oauth2.AuthStyle

	Scopes       []string          // default scopes when the user gives none
	OfflineScope bool              // "offline_access" must be requested to get a refresh token
	AuthParams   map[string]string // extra authorization-request parameters

	// NeedsAudience: the provider takes an "audience" parameter (when the
	// user sets one) on authorization and token requests (Auth0).
	NeedsAudience bool

	// Rotates: a refresh may return a new refresh token and make the old one
	// unusable, always or once enabled in the tenant. Such a refresh token is
	// single-use: at most one refresh per token, under tokctl's lock.
	Rotates bool

	// KeepsRefreshTokenOmitted: refresh responses may omit refresh_token, and
	// the old one stays valid. tokctl always merges responses into the stored
	// credential; this field documents the providers where it matters.
	KeepsRefreshTokenOmitted bool

	// DefaultLifetime is the access-token lifetime to assume when a token
	// response carries no expires_in. Zero: no preset default, the caller
	// decides.
	DefaultLifetime time.Duration

	ErrorsAsHTTP200 bool // token-endpoint errors arrive with HTTP 200 (GitHub)
	AcceptJSON      bool // send "Accept: application/json" on token requests

	// GrantErrors are the OAuth error codes meaning the refresh token is
	// dead (revoked, expired, or rotated by someone else). Always includes
	// "invalid_grant". Matched by IsGrantError.
	GrantErrors []string

	// ReuseMarkers are lower-case substrings of error_description that make
	// an otherwise different error code a grant error (Dex answers reuse with
	// invalid_request "... has already been claimed by another client.").
	ReuseMarkers []string

	// RedirectHost is the loopback host for auth-code redirect URIs:
	// "127.0.0.1" (RFC 8252 §7.3; Hydra rejects "localhost") or "localhost"
	// (Microsoft Entra).
	RedirectHost string

	// FixedRedirectPort: the provider matches the registered redirect URI
	// exactly, port included, so the user should pass --redirect-port with
	// the registered port instead of tokctl picking a free one.
	FixedRedirectPort bool

	// RefreshSendsRedirectURI: refresh requests repeat the original
	// redirect_uri (GitLab).
	RefreshSendsRedirectURI bool

	// NeedsClientSecret: the client secret is required to refresh, even for
	// "installed" apps (GitHub Apps, Google desktop clients, Salesforce).
	NeedsClientSecret bool

	GitUsername string // username for git credential replies; "" when any will do
	Notes       string // quirk summary for `tokctl profile show`
}

// Lookup returns the preset called name, case-insensitively. The empty name
// means "generic"; "entra", "azure" and "azuread" mean "microsoft", "ory"
// means "hydra". The result is a deep copy.
func Lookup(name string) (Preset, bool) {
	name = canonicalName(strings.ToLower(strings.TrimSpace(name)))
	for i := range presets {
		if presets[i].Name == name {
			return presets[i].clone(), true
		}
	}
	return Preset{}, false
}

// Names returns the canonical preset names, sorted. Aliases are not listed.
func Names() []string {
	names := make([]string, 0, len(presets))
	for i := range presets {
		names = append(names, presets[i].Name)
	}
	slices.Sort(names)
	return names
}

// Placeholders returns the names of the placeholders in p's URL templates,
// sorted and without braces: ["domain"] for okta, ["domain", "realm"] for
// keycloak, nil when Expand needs no values.
func (p Preset) Placeholders() []string {
	var names []string
	for _, tmpl := range p.templates() {
		rest := *tmpl
		for {
			_, name, after, ok := nextPlaceholder(rest)
			if !ok {
				break
			}
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
			rest = after
		}
	}
	slices.Sort(names)
	return names
}

// Expand returns a copy of p with every {name} placeholder in Issuer and the
// endpoint URLs replaced by vars[name]. It fails, naming the placeholder, when
// a value is missing or would change the URL's structure (a value may contain
// letters, digits and . - _ ~ : [ ] only). Unused vars are ignored.
func (p Preset) Expand(vars map[string]string) (Preset, error) {
	out := p.clone()
	for _, tmpl := range out.templates() {
		var b strings.Builder
		rest := *tmpl
		for {
			before, name, after, ok := nextPlaceholder(rest)
			if !ok {
				b.WriteString(rest)
				break
			}
			value, found := vars[name]
			if !found || value == "" {
				return Preset{}, fmt.Errorf("preset %q: missing value for {%s}", p.Name, name)
			}
			if !validPlaceholderValue(value) {
				return Preset{}, fmt.Errorf("preset %q: value %q for {%s} is not a host name or path segment", p.Name, value, name)
			}
			b.WriteString(before)
			b.WriteString(value)
			rest = after
		}
		*tmpl = b.String()
	}
	return out, nil
}

// ScopesFor returns the scopes to request: requested, or p.Scopes when
// requested is empty, plus "offline_access" when p.OfflineScope is set and it
// is not already there. The result is a new slice.
func (p Preset) ScopesFor(requested []string) []string {
	scopes := slices.Clone(requested)
	if len(scopes) == 0 {
		scopes = slices.Clone(p.Scopes)
	}
	if p.OfflineScope && !slices.Contains(scopes, "offline_access") {
		scopes = append(scopes, "offline_access")
	}
	return scopes
}

// IsGrantError reports whether an OAuth error (the "error" code and
// "error_description" of a token-endpoint response) from this provider means
// the refresh token is permanently invalid or was rotated by someone else.
// Codes are compared exactly after trimming space; ReuseMarkers match the
// description case-insensitively, except for the transient codes server_error
// and temporarily_unavailable, which are never grant errors.
func (p Preset) IsGrantError(code, description string) bool {
	code = strings.TrimSpace(code)
	if slices.Contains(p.GrantErrors, code) {
		return true
	}
	if code == "server_error" || code == "temporarily_unavailable" || description == "" {
		return false
	}
	description = strings.ToLower(description)
	for _, marker := range p.ReuseMarkers {
		if marker != "" && strings.Contains(description, marker) {
			return true
		}
	}
	return false
}

// clone returns a deep copy of p, so callers never share the table's slices
// and maps.
func (p Preset) clone() Preset {
	p.Scopes = slices.Clone(p.Scopes)
	p.AuthParams = maps.Clone(p.AuthParams)
	p.GrantErrors = slices.Clone(p.GrantErrors)
	p.ReuseMarkers = slices.Clone(p.ReuseMarkers)
	return p
}

// templates returns pointers to the fields that may hold placeholders.
func (p *Preset) templates() []*string {
	return []*string{&p.Issuer, &p.AuthURL, &p.TokenURL, &p.DeviceURL, &p.RevokeURL}
}

// nextPlaceholder finds the first {name} in s, name being one or more of
// a-z and _. It returns the text before it, the name and the text after it.
// Braces that do not form a placeholder are ordinary text.
func nextPlaceholder(s string) (before, name, after string, ok bool) {
	for from := 0; ; {
		i := strings.IndexByte(s[from:], '{')
		if i < 0 {
			return "", "", "", false
		}
		i += from
		j := i + 1
		for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] == '_') {
			j++
		}
		if j > i+1 && j < len(s) && s[j] == '}' {
			return s[:i], s[i+1 : j], s[j+1:], true
		}
		from = i + 1
	}
}

// validPlaceholderValue reports whether v can stand in a host name (with an
// optional port or IPv6 brackets) or a single path segment without changing
// the URL's structure.
func validPlaceholderValue(v string) bool {
	for _, c := range []byte(v) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte(".-_~:[]", c) >= 0:
		default:
			return false
		}
	}
	return v != "" && v != "." && v != ".."
}
