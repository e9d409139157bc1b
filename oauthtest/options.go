package oauthtest

import "time"

// Options configures a Server. The zero value is a strict, rotating server
// for the public client "tokctl-test".
type Options struct {
	ClientID     string        // default "tokctl-test"; any other client_id gets 401 invalid_client
	ClientSecret string        // optional; when set it is required (client_secret_basic or client_secret_post)
	AccessTTL    time.Duration // lifetime of access tokens (and ID tokens); default 1h
	Latency      time.Duration // added before answering each token request
	Jitter       time.Duration // extra random latency in [0, Jitter]
	// Grace lets a rotated-away refresh token be presented again for Grace
	// after its rotation (as often as the client likes, like Hydra's and
	// Okta's grace periods): each such use issues a fresh pair in the same
	// family and counts in Stats.GraceReuses. 0 means strict, Hydra's default.
	Grace time.Duration
	// NoRotation is Google's behaviour: a refresh keeps the presented refresh
	// token valid, omits refresh_token from the response and leaves earlier
	// access tokens valid until they expire.
	NoRotation bool
	// Logf, if set, receives one line per request; tokens, codes and
	// verifiers appear only as short fingerprints.
	Logf func(format string, args ...any)

	// User is the resource owner who approves every authorization request
	// and device code; the zero value means
	// {Subject: "user-1", Email: "alice@example.com", Name: "alice"}.
	User User
	// Scopes, when set, is the closed set of scopes clients may ask for
	// (anything else is invalid_scope) and is advertised as scopes_supported.
	// When nil, any scope is granted as asked.
	Scopes []string
	// RequireOfflineAccess issues refresh tokens from the authorization_code
	// and device_code grants only when the granted scope contains
	// "offline_access" (Okta, Hydra, Entra). Issue is not affected.
	RequireOfflineAccess bool

	// RedirectPaths are the paths a loopback redirect_uri may have; default
	// ["/callback"]. The host must be 127.0.0.1 or [::1] (any port, RFC 8252
	// §7.3), or localhost when AllowLocalhostRedirect is set.
	RedirectPaths []string
	// AllowLocalhostRedirect accepts http://localhost:PORT/PATH redirects
	// (Entra); by default they are rejected, as Hydra does.
	AllowLocalhostRedirect bool
	// IssParameter adds iss=URL() to every authorization response (RFC 9207)
	// and advertises authorization_response_iss_parameter_supported.
	IssParameter bool
	// DenyAuthorize makes the user refuse every authorization request:
	// the redirect carries error=access_denied.
	DenyAuthorize bool
	// CodeTTL is the lifetime of an authorization code; default 60s.
	CodeTTL time.Duration

	// DeviceTTL is the lifetime of a device code (expires_in); default 600s.
	DeviceTTL time.Duration
	// DeviceInterval is the minimum time between two polls of one device
	// code; default 5s. The JSON interval is rounded up to whole seconds,
	// but the configured duration is what is enforced.
	DeviceInterval time.Duration
	// SlowDownStep is added to a device code's interval each time it is
	// polled too fast (RFC 8628 §3.5 says 5s); default 5s.
	SlowDownStep time.Duration
	// DeviceErrorCode, when set, is the error every device_code grant with a
	// known, unused device code gets (HTTP 400), e.g. Entra's
	// "authorization_declined".
	DeviceErrorCode string
}

// User is the resource owner of the authorization code and device flows,
// as the ID token names them: sub, email, name and preferred_username
// (which is Name).
type User struct {
	Subject string
	Email   string
	Name    string
}

// defaultUser is the user of a server whose Options.User is zero.
var defaultUser = User{Subject: "user-1", Email: "alice@example.com", Name: "alice"}

// withDefaults fills in the defaults of unset options.
func (opt Options) withDefaults() Options {
	if opt.ClientID == "" {
		opt.ClientID = "tokctl-test"
	}
	if opt.AccessTTL <= 0 {
		opt.AccessTTL = time.Hour
	}
	if opt.User == (User{}) {
		opt.User = defaultUser
	}
	if len(opt.RedirectPaths) == 0 {
		opt.RedirectPaths = []string{"/callback"}
	}
	if opt.CodeTTL <= 0 {
		opt.CodeTTL = 60 * time.Second
	}
	if opt.DeviceTTL <= 0 {
		opt.DeviceTTL = 600 * time.Second
	}
	if opt.DeviceInterval <= 0 {
		opt.DeviceInterval = 5 * time.Second
	}
	if opt.SlowDownStep <= 0 {
		opt.SlowDownStep = 5 * time.Second
	}
	return opt
}
