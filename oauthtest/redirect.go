package oauthtest

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
)

// checkRedirectURI validates a redirect_uri as a native app's loopback
// redirect (RFC 8252 §7.3, §8.3) the way Hydra matches it against a
// registered http://127.0.0.1/PATH: scheme http; host exactly 127.0.0.1 or
// [::1] (localhost only with Options.AllowLocalhostRedirect); an explicit
// port, any port; a path equal to one of Options.RedirectPaths; no user
// info, query or fragment (RFC 6749 §3.1.2).
func (s *Server) checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("redirect_uri is not a URI")
	}
	switch {
	case u.Scheme != "http":
		return errors.New("redirect_uri must be an http loopback URI (RFC 8252 §7.3), got scheme " +
			strconv.Quote(u.Scheme))
	case u.Opaque != "" || u.User != nil:
		return errors.New("redirect_uri must not carry user info")
	case u.RawQuery != "" || u.ForceQuery:
		return errors.New("redirect_uri must not have a query")
	case u.Fragment != "" || u.RawFragment != "":
		return errors.New("redirect_uri must not have a fragment (RFC 6749 §3.1.2)")
	}
	switch host := u.Hostname(); {
	case host == "127.0.0.1" || host == "::1":
	case host == "localhost" && s.opt.AllowLocalhostRedirect:
	case host == "localhost":
		return errors.New("redirect_uri host localhost is not allowed; use http://127.0.0.1:PORT (RFC 8252 §8.3)")
	default:
		return errors.New("redirect_uri host " + strconv.Quote(host) + " is not a loopback IP literal")
	}
	port := u.Port()
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return errors.New("redirect_uri needs an explicit port, got " + strconv.Quote(port))
	}
	if !slices.Contains(s.opt.RedirectPaths, u.EscapedPath()) {
		return errors.New("redirect_uri path " + strconv.Quote(u.EscapedPath()) +
			" does not match a registered redirect path")
	}
	return nil
}

// authorizationResponse builds the redirect to redirectURI (already
// validated, so it has no query) carrying params.
func authorizationResponse(redirectURI string, params url.Values) string {
	return redirectURI + "?" + params.Encode()
}
