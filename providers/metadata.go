package providers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// Metadata is the subset of OpenID Connect Discovery 1.0 / RFC 8414
// authorization-server metadata that tokctl uses.
type Metadata struct {
	Issuer                      string `json:"issuer"`
	AuthorizationEndpoint       string `json:"authorization_endpoint"`
	TokenEndpoint               string `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	RevocationEndpoint          string `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint       string `json:"introspection_endpoint,omitempty"`
	JWKSURI                     string `json:"jwks_uri,omitempty"`

	CodeChallengeMethods []string `json:"code_challenge_methods_supported,omitempty"`
	// AuthorizationResponseIssParameterSupported: the server sends RFC 9207's
	// "iss" parameter in authorization responses.
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	GrantTypes                                 []string `json:"grant_types_supported,omitempty"`
	TokenEndpointAuthMethods                   []string `json:"token_endpoint_auth_methods_supported,omitempty"`
}

// IssuerMismatchError reports a metadata document whose "issuer" is not
// the issuer it was fetched for. OIDC Discovery §4.3 and RFC 8414 §3.3 both
// require the two to be identical; Discover compares them as exact strings,
// without normalising a trailing slash, case or default ports.
type IssuerMismatchError struct {
	URL      string // where the document came from
	Expected string // the issuer Discover was asked for
	Got      string // the document's "issuer"
}

// Error names the URL and both issuers.
func (e *IssuerMismatchError) Error() string {
	msg := fmt.Sprintf("issuer mismatch in %s: document says %q, expected %q", e.URL, e.Got, e.Expected)
	if strings.TrimSuffix(e.Got, "/") == strings.TrimSuffix(e.Expected, "/") {
		msg += " (they differ only in a trailing slash)"
	}
	return msg
}

// parseMetadata decodes a metadata document fetched from loc for issuer and
// checks it: "issuer" identical to issuer, token_endpoint present, every
// endpoint an absolute https URL (http only on loopback hosts).
func parseMetadata(loc, issuer string, data []byte) (*Metadata, error) {
	var m Metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode metadata from %s: %w", loc, err)
	}
	if m.Issuer != issuer {
		return nil, &IssuerMismatchError{URL: loc, Expected: issuer, Got: m.Issuer}
	}
	if m.TokenEndpoint == "" {
		return nil, fmt.Errorf("metadata from %s: token_endpoint missing", loc)
	}
	endpoints := []struct{ name, value string }{
		{"token_endpoint", m.TokenEndpoint},
		{"authorization_endpoint", m.AuthorizationEndpoint},
		{"device_authorization_endpoint", m.DeviceAuthorizationEndpoint},
		{"revocation_endpoint", m.RevocationEndpoint},
		{"introspection_endpoint", m.IntrospectionEndpoint},
		{"jwks_uri", m.JWKSURI},
	}
	for _, e := range endpoints {
		if e.value == "" {
			continue
		}
		if err := checkEndpoint(e.value); err != nil {
			return nil, fmt.Errorf("metadata from %s: %s %q: %w", loc, e.name, e.value, err)
		}
	}
	return &m, nil
}

// checkEndpoint accepts an absolute https URL, or http on a loopback host,
// without user info or fragment.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme == "" || u.Host == "" || u.Hostname() == "" {
		return errors.New("not an absolute URL")
	}
	if u.User != nil {
		return errors.New("user info not allowed")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("fragment not allowed")
	}
	return checkScheme(u)
}

// checkScheme requires https, except http on a loopback host.
func checkScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return errors.New("https required (http only for loopback hosts)")
	default:
		return fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
}

// isLoopbackHost reports whether host (without port or brackets) is
// "localhost" or an address in 127.0.0.0/8 or ::1.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}
