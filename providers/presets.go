package providers

import (
	"time"

	"golang.org/x/oauth2"
)

// canonicalName maps other common names of a provider to its preset name.
func canonicalName(name string) string {
	switch name {
	case "entra", "azure", "azuread":
		return "microsoft"
	case "ory":
		return "hydra"
	case "":
		return "generic"
	}
	return name
}

// presets is the provider table (design §6). Endpoints follow each
// provider's public documentation; where a provider's URLs vary per
// deployment the preset leaves them to discovery through Issuer or the
// user's flags. Keep entries in alphabetical order.
var presets = [...]Preset{{
	Name:         "auth0",
	Description:  "Auth0 tenant; needs --domain (e.g. example.eu.auth0.com), often --audience",
	Issuer:       "https://{domain}/", // Auth0's issuer ends with a slash
	AuthURL:      "https://{domain}/authorize",
	TokenURL:     "https://{domain}/oauth/token",
	DeviceURL:    "https://{domain}/oauth/device/code",
	RevokeURL:    "https://{domain}/oauth/revoke",
	AuthStyle:    oauth2.AuthStyleInParams,
	Scopes:       []string{"openid", "profile"},
	OfflineScope: true, NeedsAudience: true, Rotates: true, KeepsRefreshTokenOmitted: true,
	GrantErrors:       []string{"invalid_grant"},
	RedirectHost:      "127.0.0.1",
	FixedRedirectPort: true,
	Notes: "Rotation is opt-in; reuse of a rotated token revokes the whole family (tenant log: ferrt) " +
		"and is answered 403 invalid_grant. Without rotation the refresh response omits refresh_token. " +
		"Set --audience to get an access token for your API; Allowed Callback URLs match exactly, port included.",
}, {
	Name:        "dex",
	Description: "Dex; needs --issuer",
	AuthStyle:   oauth2.AuthStyleInParams,
	Scopes:      []string{"openid"},
	// Dex issues refresh tokens only when offline_access is requested.
	OfflineScope: true, Rotates: true,
	GrantErrors:  []string{"invalid_grant"},
	ReuseMarkers: []string{"already been claimed", "already claimed", "refresh token expired"},
	RedirectHost: "127.0.0.1",
	Notes: "Rotates refresh tokens; reuse is answered 400 invalid_request \"... has already been claimed " +
		"by another client\" and expiry 400 invalid_request \"Refresh token expired\": both are treated like " +
		"invalid_grant. Endpoints come from discovery; there is no revocation endpoint.",
}, {
	Name:        "generic",
	Description: "any OAuth 2.0 / OIDC server; give --issuer (discovery) or --auth-url and --token-url",
	AuthStyle:   oauth2.AuthStyleInParams,
	// RFC 6749 §6 lets a server omit refresh_token or rotate it: assume both.
	Rotates: true, KeepsRefreshTokenOmitted: true,
	GrantErrors:  []string{"invalid_grant"},
	RedirectHost: "127.0.0.1",
	Notes:        "No provider-specific behaviour; client_id and secret are sent in the request body.",
}, {
	Name:        "github",
	Description: "GitHub App (user-to-server tokens) or OAuth app on github.com",
	AuthURL:     "https://github.com/login/oauth/authorize",
	TokenURL:    "https://github.com/login/oauth/access_token",
	DeviceURL:   "https://github.com/login/device/code",
	AuthStyle:   oauth2.AuthStyleInParams,
	Rotates:     true,
	// User-to-server tokens of GitHub Apps expire after 8 hours.
	DefaultLifetime: 8 * time.Hour,
	ErrorsAsHTTP200: true, AcceptJSON: true,
	GrantErrors:       []string{"invalid_grant", "bad_refresh_token"},
	RedirectHost:      "127.0.0.1",
	NeedsClientSecret: true,
	GitUsername:       "x-access-token",
	Notes: "Refresh tokens are single-use. Token errors come with HTTP 200 and are JSON only with " +
		"Accept: application/json; a dead refresh token is bad_refresh_token. The client secret is " +
		"needed to refresh. Not OIDC; revocation is a REST API call, not RFC 7009.",
}, {
	Name:                    "gitlab",
	Description:             "GitLab.com (self-managed: --issuer https://gitlab.example.com)",
	Issuer:                  "https://gitlab.com",
	AuthURL:                 "https://gitlab.com/oauth/authorize",
	TokenURL:                "https://gitlab.com/oauth/token",
	DeviceURL:               "https://gitlab.com/oauth/authorize_device",
	RevokeURL:               "https://gitlab.com/oauth/revoke",
	AuthStyle:               oauth2.AuthStyleInParams,
	Scopes:                  []string{"read_repository", "write_repository"},
	Rotates:                 true,
	GrantErrors:             []string{"invalid_grant"},
	RedirectHost:            "127.0.0.1",
	RefreshSendsRedirectURI: true,
	GitUsername:             "oauth2",
	Notes: "Always rotates refresh tokens. Refresh requests repeat the original redirect_uri. " +
		"git uses username oauth2 with the access token as password.",
}, {
	Name:                     "google",
	Description:              "Google accounts (desktop OAuth client)",
	Issuer:                   "https://accounts.google.com",
	AuthURL:                  "https://accounts.google.com/o/oauth2/v2/auth",
	TokenURL:                 "https://oauth2.googleapis.com/token",
	DeviceURL:                "https://oauth2.googleapis.com/device/code",
	RevokeURL:                "https://oauth2.googleapis.com/revoke",
	AuthStyle:                oauth2.AuthStyleInParams,
	Scopes:                   []string{"openid", "email"},
	AuthParams:               map[string]string{"access_type": "offline", "prompt": "consent"},
	KeepsRefreshTokenOmitted: true,
	GrantErrors:              []string{"invalid_grant"},
	RedirectHost:             "127.0.0.1",
	NeedsClientSecret:        true,
	Notes: "No rotation; refresh responses omit refresh_token, so the old one is kept. " +
		"access_type=offline and prompt=consent make Google issue a refresh token at every login. " +
		"Desktop clients must send their (non-confidential) client secret.",
}, {
	Name:         "hydra",
	Description:  "Ory Hydra; needs --issuer",
	AuthStyle:    oauth2.AuthStyleInHeader, // Hydra's default token_endpoint_auth_method is client_secret_basic
	Scopes:       []string{"openid"},
	OfflineScope: true, Rotates: true,
	// Some fosite versions answer reuse with token_inactive instead of invalid_grant.
	GrantErrors:  []string{"invalid_grant", "token_inactive"},
	RedirectHost: "127.0.0.1",
	Notes: "Always rotates; reuse of an old refresh token revokes the whole family (an optional grace " +
		"period may apply). Needs offline_access. Redirects must use 127.0.0.1 (localhost is rejected); " +
		"any port. Each refresh also revokes the previous access token. Endpoints come from discovery.",
}, {
	Name:         "keycloak",
	Description:  "Keycloak realm; needs --domain (host[:port]) and --realm",
	Issuer:       "https://{domain}/realms/{realm}",
	AuthURL:      "https://{domain}/realms/{realm}/protocol/openid-connect/auth",
	TokenURL:     "https://{domain}/realms/{realm}/protocol/openid-connect/token",
	DeviceURL:    "https://{domain}/realms/{realm}/protocol/openid-connect/auth/device",
	RevokeURL:    "https://{domain}/realms/{realm}/protocol/openid-connect/revoke",
	AuthStyle:    oauth2.AuthStyleInParams,
	Scopes:       []string{"openid"},
	OfflineScope: true, Rotates: true,
	GrantErrors:  []string{"invalid_grant"},
	RedirectHost: "127.0.0.1",
	Notes: "Issues a new refresh token on each refresh; reuse is rejected when the realm's " +
		"\"Revoke Refresh Token\" is on. offline_access yields an offline token. Keycloak before 17 " +
		"(or http) lives elsewhere: use --issuer. If Valid Redirect URIs pin a port, pass --redirect-port.",
}, {
	Name:         "microsoft",
	Description:  "Microsoft Entra ID (Azure AD) v2.0; needs --tenant (ID, domain, organizations, common)",
	Issuer:       "https://login.microsoftonline.com/{tenant}/v2.0",
	AuthURL:      "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
	TokenURL:     "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
	DeviceURL:    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode",
	AuthStyle:    oauth2.AuthStyleInParams,
	Scopes:       []string{"openid", "profile"},
	OfflineScope: true, Rotates: true,
	// interaction_required: conditional access or MFA demands a new login.
	GrantErrors:  []string{"invalid_grant", "interaction_required"},
	RedirectHost: "localhost",
	Notes: "Returns a new refresh token on every refresh; the old one is not revoked. Scopes of one " +
		"resource per token (e.g. https://graph.microsoft.com/.default). Redirects use localhost, any port. " +
		"For common/organizations tenants the discovered issuer contains {tenantid}: " +
		"use the preset's endpoints, not discovery. No revocation endpoint.",
}, {
	Name:         "okta",
	Description:  "Okta default custom authorization server; needs --domain (e.g. example.okta.com)",
	Issuer:       "https://{domain}/oauth2/default",
	AuthURL:      "https://{domain}/oauth2/default/v1/authorize",
	TokenURL:     "https://{domain}/oauth2/default/v1/token",
	DeviceURL:    "https://{domain}/oauth2/default/v1/device/authorize",
	RevokeURL:    "https://{domain}/oauth2/default/v1/revoke",
	AuthStyle:    oauth2.AuthStyleInParams,
	Scopes:       []string{"openid", "profile"},
	OfflineScope: true, Rotates: true,
	GrantErrors:       []string{"invalid_grant"},
	RedirectHost:      "127.0.0.1",
	FixedRedirectPort: true,
	Notes: "SPA apps (and apps configured so) rotate refresh tokens; reuse outside the 0-60 s grace " +
		"period revokes the newest refresh token and its access tokens. Needs offline_access and the " +
		"exact redirect URI, port included (--redirect-port). Other authorization servers: --issuer.",
}, {
	Name:        "salesforce",
	Description: "Salesforce production login (sandbox or My Domain: --issuer)",
	Issuer:      "https://login.salesforce.com",
	AuthURL:     "https://login.salesforce.com/services/oauth2/authorize",
	TokenURL:    "https://login.salesforce.com/services/oauth2/token",
	RevokeURL:   "https://login.salesforce.com/services/oauth2/revoke",
	AuthStyle:   oauth2.AuthStyleInParams,
	Scopes:      []string{"api", "refresh_token"},
	Rotates:     true, KeepsRefreshTokenOmitted: true,
	// Token responses carry no expires_in. The access token lives as long as
	// the session, whose timeout an admin sets between 15 minutes and 24 hours
	// (default 2 hours). Assume the shortest: an early refresh costs one
	// request, a late one hands callers a dead token.
	DefaultLifetime:   15 * time.Minute,
	GrantErrors:       []string{"invalid_grant"},
	RedirectHost:      "127.0.0.1",
	FixedRedirectPort: true,
	NeedsClientSecret: true,
	Notes: "Rotation is opt-in and reuse then revokes. Responses have no expires_in: tokctl assumes " +
		"15 minutes (the shortest session timeout) unless introspection says otherwise. instance_url " +
		"from the token response is kept. The secret is needed to refresh unless the connected app " +
		"disables \"Require Secret for Refresh Token Flow\". The callback URL must match exactly.",
}}
