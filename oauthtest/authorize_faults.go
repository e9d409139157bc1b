package oauthtest

import "strconv"

// AuthorizeFaultKind names a misbehaviour of the authorization response:
// what a client's loopback listener must notice and reject.
type AuthorizeFaultKind int

const (
	// AuthorizeWrongState alters the state parameter of the redirect (the
	// code, if one is issued, is valid): a CSRF attempt the client must
	// refuse without redeeming the code.
	AuthorizeWrongState AuthorizeFaultKind = iota + 1
	// AuthorizeWrongIss sets iss=https://evil.example (RFC 9207 mix-up
	// attack), whether or not Options.IssParameter is set.
	AuthorizeWrongIss
	// AuthorizeNoCode redirects with state (and iss) but without a code.
	AuthorizeNoCode
	// AuthorizeError redirects with error=AuthorizeFault.Code (default
	// "server_error") and error_description=AuthorizeFault.Description,
	// whatever the request asked; no code is issued.
	AuthorizeError
)

var authorizeFaultNames = [...]string{"none", "AuthorizeWrongState", "AuthorizeWrongIss",
	"AuthorizeNoCode", "AuthorizeError"}

// String returns the constant's name.
func (k AuthorizeFaultKind) String() string {
	if k >= 0 && int(k) < len(authorizeFaultNames) {
		return authorizeFaultNames[k]
	}
	return "AuthorizeFaultKind(" + strconv.Itoa(int(k)) + ")"
}

// AuthorizeFault is one injected misbehaviour of /authorize; Code and
// Description matter only for AuthorizeError.
type AuthorizeFault struct {
	Kind        AuthorizeFaultKind
	Code        string
	Description string
}

// InjectAuthorize queues authorization response faults: each of the next
// len(faults) requests to /authorize that get a redirect at all (their
// client_id and redirect_uri are valid) takes the next fault, in order of
// arrival. Later calls append to the queue.
func (s *Server) InjectAuthorize(faults ...AuthorizeFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authFaults = append(s.authFaults, faults...)
}

// nextAuthorizeFault takes the next queued authorization fault, if any.
func (s *Server) nextAuthorizeFault() (AuthorizeFault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.authFaults) == 0 {
		return AuthorizeFault{}, false
	}
	f := s.authFaults[0]
	s.authFaults = s.authFaults[1:]
	return f, true
}

// applyAuthorizeFault alters the redirect parameters as f says.
func applyAuthorizeFault(f AuthorizeFault, params map[string][]string) {
	switch f.Kind {
	case AuthorizeWrongState:
		state := "altered"
		if v := params["state"]; len(v) > 0 {
			state = v[0] + "-altered"
		}
		params["state"] = []string{state}
	case AuthorizeWrongIss:
		params["iss"] = []string{"https://evil.example"}
	}
}
