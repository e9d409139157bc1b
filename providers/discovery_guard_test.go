package providers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// failTransport fails the test if Discover makes any request.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request to %s", r.URL)
	return nil, errors.New("no network in this test")
}

func TestDiscoverRejectsBadIssuersWithoutNetwork(t *testing.T) {
	client := &http.Client{Transport: failTransport{t}}
	for _, issuer := range []string{
		"http://idp.example.com",         // plain http off loopback
		"http://127.0.0.1.example.com",   // looks loopback, is not
		"ftp://127.0.0.1",                // not http(s)
		"https://idp.example.com?tenant", // query
		"https://idp.example.com#x",      // fragment
		"https://user@idp.example.com",   // user info
		"idp.example.com",                // not absolute
		"",
	} {
		_, err := Discover(context.Background(), client, issuer)
		if err == nil {
			t.Errorf("Discover(%q) succeeded", issuer)
		} else if !strings.Contains(err.Error(), issuer) {
			t.Errorf("Discover(%q) error does not name the issuer: %v", issuer, err)
		}
	}
}

func TestLoopbackHosts(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true,
		"::ffff:127.0.0.1": true, "10.0.0.1": false, "localhost.example": false, "0.0.0.0": false, "": false,
	} {
		if got := isLoopbackHost(host); got != want {
			t.Errorf("isLoopbackHost(%q) = %v", host, got)
		}
	}
	for _, issuer := range []string{"http://localhost:8080", "http://[::1]:9000/x", "http://127.0.0.1"} {
		if _, err := parseIssuer(issuer); err != nil {
			t.Errorf("parseIssuer(%q): %v", issuer, err)
		}
	}
}

func TestDiscoverHonoursContextDeadline(t *testing.T) {
	release := make(chan struct{})
	s := newAuthServerFunc(t, func(_ *authServer, w http.ResponseWriter, r *http.Request) {
		select { // a server that never answers in time
		case <-r.Context().Done():
		case <-release:
		case <-time.After(3 * time.Second): // so a regression fails instead of hanging
		}
	})
	defer close(release) // runs before s.Close (t.Cleanup), so Close does not wait

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Discover(ctx, nil, s.URL)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Discover returned after %v, want about 100ms", elapsed)
	}
	if !strings.Contains(err.Error(), s.URL+"/.well-known/openid-configuration") {
		t.Errorf("error does not name the URL: %v", err)
	}
}

func TestDiscoverRefusesRedirectToPlainHTTP(t *testing.T) {
	s := newAuthServerFunc(t, func(_ *authServer, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://idp.example.com/.well-known/openid-configuration", http.StatusFound)
	})
	_, err := Discover(context.Background(), nil, s.URL)
	if err == nil || !strings.Contains(err.Error(), "https required") {
		t.Fatalf("err = %v, want the redirect refused", err)
	}
}

func TestDiscoverFollowsLoopbackRedirect(t *testing.T) {
	s := newAuthServerFunc(t, func(s *authServer, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			http.Redirect(w, r, "/moved", http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(metadataJSON(s.URL)))
	})
	if _, err := Discover(context.Background(), nil, s.URL); err != nil {
		t.Fatal(err)
	}
}

func TestDiscoverKeepsCallerRedirectPolicy(t *testing.T) {
	s := newAuthServerFunc(t, func(_ *authServer, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/moved", http.StatusFound)
	})
	errNoRedirects := errors.New("caller forbids redirects")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return errNoRedirects }}
	if _, err := Discover(context.Background(), client, s.URL); !errors.Is(err, errNoRedirects) {
		t.Fatalf("err = %v, want the caller's CheckRedirect error", err)
	}
	if client.CheckRedirect == nil {
		t.Error("Discover modified the caller's client")
	}
}
