package oauthtest

import "net/http"

// metadata is the authorization server metadata of RFC 8414, served also as
// the OpenID Connect discovery document. The fields marked "later" stay
// empty (and are omitted) until the endpoint exists: authorization code +
// PKCE (authorize.go) and device authorization (device.go) set them here.
type metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint,omitempty"` // later: authorize.go
	TokenEndpoint         string `json:"token_endpoint"`
	DeviceEndpoint        string `json:"device_authorization_endpoint,omitempty"` // later: device.go
	RevocationEndpoint    string `json:"revocation_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`

	GrantTypesSupported    []string `json:"grant_types_supported"`
	ResponseTypesSupported []string `json:"response_types_supported,omitempty"`         // later: authorize.go
	CodeChallengeMethods   []string `json:"code_challenge_methods_supported,omitempty"` // later: authorize.go

	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	RevocationAuthMethods []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectAuthMethods []string `json:"introspection_endpoint_auth_methods_supported"`
}

// handleDiscovery serves GET /.well-known/openid-configuration and
// GET /.well-known/oauth-authorization-server with the same document.
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	writeJSON(w, http.StatusOK, s.metadata())
}

// metadata builds the discovery document from the server's configuration.
func (s *Server) metadata() metadata {
	auth := []string{"client_secret_basic", "client_secret_post"}
	if s.opt.ClientSecret == "" {
		auth = append(auth, "none")
	}
	return metadata{
		Issuer:                s.URL(),
		TokenEndpoint:         s.TokenURL(),
		RevocationEndpoint:    s.RevokeURL(),
		IntrospectionEndpoint: s.IntrospectURL(),
		GrantTypesSupported:   grantTypes,
		TokenAuthMethods:      auth,
		RevocationAuthMethods: auth,
		IntrospectAuthMethods: auth,
	}
}
