package oauthtest

import "net/http"

// metadata is the authorization server metadata of RFC 8414, served also as
// the OpenID Connect discovery document (OIDC Discovery §3).
type metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	DeviceEndpoint        string `json:"device_authorization_endpoint"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	JWKSURI               string `json:"jwks_uri"`

	GrantTypesSupported    []string `json:"grant_types_supported"`
	ResponseTypesSupported []string `json:"response_types_supported"`
	CodeChallengeMethods   []string `json:"code_challenge_methods_supported"`
	ScopesSupported        []string `json:"scopes_supported"`
	SubjectTypesSupported  []string `json:"subject_types_supported"`
	IDTokenSigningAlgs     []string `json:"id_token_signing_alg_values_supported"`
	// IssParameterSupported is RFC 9207's flag, present only when
	// Options.IssParameter is set.
	IssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`

	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	RevocationAuthMethods []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectAuthMethods []string `json:"introspection_endpoint_auth_methods_supported"`
}

// defaultScopes is scopes_supported when Options.Scopes is nil: the
// OpenID Connect scopes the server knows about (any other is granted too;
// RFC 8414 §2 lets a server leave scopes unadvertised).
var defaultScopes = []string{"openid", "profile", "email", "offline_access"}

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
	scopes := s.opt.Scopes
	if scopes == nil {
		scopes = defaultScopes
	}
	return metadata{
		Issuer:                 s.URL(),
		AuthorizationEndpoint:  s.AuthorizeURL(),
		TokenEndpoint:          s.TokenURL(),
		DeviceEndpoint:         s.DeviceURL(),
		RevocationEndpoint:     s.RevokeURL(),
		IntrospectionEndpoint:  s.IntrospectURL(),
		JWKSURI:                s.JWKSURL(),
		GrantTypesSupported:    grantTypes,
		ResponseTypesSupported: []string{"code"},
		CodeChallengeMethods:   []string{"S256"},
		ScopesSupported:        scopes,
		SubjectTypesSupported:  []string{"public"},
		IDTokenSigningAlgs:     []string{"RS256"},
		IssParameterSupported:  s.opt.IssParameter,
		TokenAuthMethods:       auth,
		RevocationAuthMethods:  auth,
		IntrospectAuthMethods:  auth,
	}
}
