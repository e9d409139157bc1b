package flows

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sync"
)

// callback is the loopback redirect handler: it accepts exactly one request on the callback
// path, checks it, and answers the browser with a page a person can read.
type callback struct {
	state, issuer string
	requireIss    bool
	once          sync.Once
	result        chan callbackResult
}

type callbackResult struct {
	code string
	err  error
}

func newCallback(state, issuer string, requireIss bool) *callback {
	return &callback{state: state, issuer: issuer, requireIss: requireIss, result: make(chan callbackResult, 1)}
}

func (cb *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != callbackPath || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	handled := false
	cb.once.Do(func() {
		handled = true
		code, err := cb.check(r.URL.Query())
		defer func() { cb.result <- callbackResult{code, err} }() // after the page is written
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, page, "Login failed", html.EscapeString(err.Error())+"<br>Return to the terminal for details.")
			return
		}
		fmt.Fprintf(w, page, "Logged in", "tokctl has what it needs. You can close this tab.")
	})
	if !handled {
		http.Error(w, "this login has already been answered", http.StatusConflict)
	}
}

const page = `<!doctype html><html><head><meta charset="utf-8"><title>tokctl: %[1]s</title></head>
<body style="font-family: system-ui, sans-serif; margin: 4em auto; max-width: 34em">
<h1>%[1]s</h1><p>%[2]s</p></body></html>`

// checkPasted validates a redirect URL the user pasted (--no-browser).
func (cb *callback) checkPasted(pasted string) (string, error) {
	u, err := url.Parse(pasted)
	if err != nil || u.Path != callbackPath {
		return "", fmt.Errorf("login: the pasted text is not the redirect URL (it should end in %s?code=…)", callbackPath)
	}
	return cb.check(u.Query())
}

// ErrLoginRejected wraps every refusal of a redirect.
var ErrLoginRejected = errors.New("login rejected")

// check validates a redirect's parameters: the provider's error first, then state (CSRF),
// iss (mix-up, RFC 9207), and the code.
func (cb *callback) check(q url.Values) (string, error) {
	if e := q.Get("error"); e != "" {
		msg := e
		if d := q.Get("error_description"); d != "" {
			msg += ": " + d
		}
		return "", fmt.Errorf("%w: the provider answered %s", ErrLoginRejected, msg)
	}
	if q.Get("state") != cb.state {
		return "", fmt.Errorf("%w: state mismatch (the redirect does not belong to this login)", ErrLoginRejected)
	}
	switch iss := q.Get("iss"); {
	case iss == "" && cb.requireIss:
		return "", fmt.Errorf("%w: the provider advertises the iss parameter but the redirect has none", ErrLoginRejected)
	case iss != "" && cb.issuer != "" && iss != cb.issuer:
		return "", fmt.Errorf("%w: iss %q is not the issuer %q (authorization server mix-up)", ErrLoginRejected, iss, cb.issuer)
	}
	code := q.Get("code")
	if code == "" {
		return "", fmt.Errorf("%w: the redirect has no code", ErrLoginRejected)
	}
	return code, nil
}
