package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// frontDoor is a reverse proxy in front of Hydra's public API, and Hydra's issuer URL, so every
// discovery, authorize and token request of a test passes through it. It counts the
// refresh-token grants per client (the number the core promise is about: exactly one per
// burst) and delays token requests by a network's latency.
type frontDoor struct {
	proxy   *httputil.ReverseProxy
	latency time.Duration

	mu        sync.Mutex
	refreshes map[string]int // client_id -> refresh_token grant requests
}

func newFrontDoor(target string, latency time.Duration) (*frontDoor, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	return &frontDoor{
		proxy:     &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u); r.Out.Host = r.In.Host }},
		latency:   latency,
		refreshes: map[string]int{},
	}, nil
}

func (f *frontDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/oauth2/token" {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("grant_type") == "refresh_token" {
			f.count(clientID(r, form))
		}
		select {
		case <-time.After(f.latency):
		case <-r.Context().Done():
			return
		}
	}
	f.proxy.ServeHTTP(w, r)
}

// clientID finds the client of a token request: in the form, or as the Basic auth user name
// (form-encoded, RFC 6749 §2.3.1).
func clientID(r *http.Request, form url.Values) string {
	if id := form.Get("client_id"); id != "" {
		return id
	}
	if user, _, ok := r.BasicAuth(); ok {
		if id, err := url.QueryUnescape(user); err == nil {
			return id
		}
	}
	return ""
}

func (f *frontDoor) count(client string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshes[client]++
}

// Refreshes returns how many refresh-token grants the client has sent so far.
func (f *frontDoor) Refreshes(client string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes[client]
}
