package e2e

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// subject is the user every login signs in as.
const subject = "alice"

// loginApp is Hydra's login and consent UI reduced to its decisions: every login is accepted as
// "alice" and every consent grants all requested scopes (openid, offline_access) and audiences,
// through Hydra's admin API. Nothing is remembered (remember=false), so each login runs the
// whole flow.
//
// A program (no Accept: text/html) is redirected with 302s throughout. A browser is shown one
// real page after consent, "Signed in as alice", which moves on by itself after a second (meta
// refresh), as a provider's pages do: headless-open must keep following past loaded pages until
// it reaches the client's 127.0.0.1 redirect, and one that stopped at the first loaded page
// would fail the browser test.
type loginApp struct {
	stack *hydraStack // its admin API

	// pagesShown counts the interstitial pages served to browsers.
	pagesShown atomic.Int64
}

func (a *loginApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var next string
	var err error
	switch r.URL.Path {
	case "/login":
		next, err = a.acceptLogin(r.URL.Query().Get("login_challenge"))
	case "/consent":
		next, err = a.acceptConsent(r.URL.Query().Get("consent_challenge"))
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "login app: "+err.Error(), http.StatusBadGateway)
		return
	}
	if r.URL.Path == "/consent" && strings.Contains(r.Header.Get("Accept"), "text/html") {
		a.pagesShown.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		interstitial.Execute(w, next)
		return
	}
	http.Redirect(w, r, next, http.StatusFound)
}

var interstitial = template.Must(template.New("").Parse(`<!doctype html>
<html><head><meta http-equiv="refresh" content="1;url={{.}}"><title>Signed in</title></head>
<body><p>Signed in as alice; returning to the application…</p></body></html>
`))

// acceptLogin accepts the login request and returns where Hydra wants the browser next.
func (a *loginApp) acceptLogin(challenge string) (string, error) {
	var accepted struct {
		RedirectTo string `json:"redirect_to"`
	}
	err := a.adminPut("/admin/oauth2/auth/requests/login/accept", "login_challenge", challenge,
		map[string]any{"subject": subject, "remember": false}, &accepted)
	return accepted.RedirectTo, err
}

// acceptConsent grants everything the client asked for and returns Hydra's next URL.
func (a *loginApp) acceptConsent(challenge string) (string, error) {
	var req struct {
		Scopes    []string `json:"requested_scope"`
		Audiences []string `json:"requested_access_token_audience"`
	}
	if err := a.stack.adminJSON(http.MethodGet, "/admin/oauth2/auth/requests/consent?consent_challenge="+url.QueryEscape(challenge), nil, &req); err != nil {
		return "", err
	}
	var accepted struct {
		RedirectTo string `json:"redirect_to"`
	}
	err := a.adminPut("/admin/oauth2/auth/requests/consent/accept", "consent_challenge", challenge, map[string]any{
		"grant_scope":                 req.Scopes,
		"grant_access_token_audience": req.Audiences,
		"remember":                    false,
		"session":                     map[string]any{"id_token": map[string]string{"name": "Alice"}},
	}, &accepted)
	return accepted.RedirectTo, err
}

func (a *loginApp) adminPut(path, param, challenge string, body, out any) error {
	return a.stack.adminJSON(http.MethodPut, path+"?"+param+"="+url.QueryEscape(challenge), body, out)
}
