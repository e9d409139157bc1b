package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// authServer is an httptest server on 127.0.0.1 that serves a metadata
// document at chosen paths and records every path asked for.
type authServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits []string
}

// newAuthServer serves the metadata of issuer URL+issuerPath at each of
// paths; every other path is 404.
func newAuthServer(t *testing.T, issuerPath string, paths ...string) *authServer {
	t.Helper()
	return newAuthServerFunc(t, func(s *authServer, w http.ResponseWriter, r *http.Request) {
		for _, p := range paths {
			if r.URL.Path == p {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				fmt.Fprint(w, metadataJSON(s.URL+issuerPath))
				return
			}
		}
		http.NotFound(w, r)
	})
}

func newAuthServerFunc(t *testing.T, h func(s *authServer, w http.ResponseWriter, r *http.Request)) *authServer {
	t.Helper()
	s := &authServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits = append(s.hits, r.URL.Path)
		s.mu.Unlock()
		h(s, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *authServer) paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.hits...)
}

func metadataJSON(issuer string) string {
	return fmt.Sprintf(`{"issuer":%q,"authorization_endpoint":"%[1]s/auth","token_endpoint":"%[1]s/token",
		"code_challenge_methods_supported":["S256"],"unknown_field":{"ignored":true}}`, issuer)
}

func discover(t *testing.T, issuer string) (*Metadata, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return Discover(ctx, nil, issuer)
}

func TestDiscoverOIDC(t *testing.T) {
	s := newAuthServer(t, "", "/.well-known/openid-configuration")
	m, err := discover(t, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	if m.Issuer != s.URL || m.TokenEndpoint != s.URL+"/token" || m.AuthorizationEndpoint != s.URL+"/auth" {
		t.Errorf("metadata = %+v", m)
	}
	if len(m.CodeChallengeMethods) != 1 || m.CodeChallengeMethods[0] != "S256" {
		t.Errorf("code_challenge_methods_supported = %q", m.CodeChallengeMethods)
	}
	if got := s.paths(); len(got) != 1 {
		t.Errorf("requests = %q, want only the OIDC location", got)
	}
}

func TestDiscoverFallsBackToRFC8414OnlyOn404(t *testing.T) {
	tests := []struct {
		name, issuerPath, served string
		wantHits                 []string
	}{
		{"no path", "", "/.well-known/oauth-authorization-server",
			[]string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"}},
		{"path, inserted form (RFC 8414 §3.1)", "/tenant1", "/.well-known/oauth-authorization-server/tenant1",
			[]string{"/tenant1/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/tenant1"}},
		{"path, appended form", "/tenant1", "/tenant1/.well-known/oauth-authorization-server",
			[]string{"/tenant1/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/tenant1",
				"/tenant1/.well-known/oauth-authorization-server"}},
		{"trailing slash is dropped before appending", "/realms/a/", "/realms/a/.well-known/openid-configuration",
			[]string{"/realms/a/.well-known/openid-configuration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAuthServer(t, tt.issuerPath, tt.served)
			m, err := discover(t, s.URL+tt.issuerPath)
			if err != nil {
				t.Fatal(err)
			}
			if m.Issuer != s.URL+tt.issuerPath {
				t.Errorf("issuer = %q", m.Issuer)
			}
			if got := s.paths(); strings.Join(got, " ") != strings.Join(tt.wantHits, " ") {
				t.Errorf("requests = %q, want %q", got, tt.wantHits)
			}
		})
	}
}

func TestDiscoverAllNotFound(t *testing.T) {
	s := newAuthServer(t, "/x")
	_, err := discover(t, s.URL+"/x")
	if !errors.Is(err, ErrNoMetadata) {
		t.Fatalf("err = %v, want ErrNoMetadata", err)
	}
	if len(s.paths()) != 3 || !strings.Contains(err.Error(), s.URL+"/x/.well-known/oauth-authorization-server") {
		t.Errorf("err = %v after %q", err, s.paths())
	}
}

func TestDiscoverDoesNotFallBackOnOtherErrors(t *testing.T) {
	s := newAuthServerFunc(t, func(_ *authServer, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	_, err := discover(t, s.URL)
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), s.URL+"/.well-known/openid-configuration") {
		t.Fatalf("err = %v, want a 500 naming the URL", err)
	}
	if len(s.paths()) != 1 {
		t.Errorf("requests = %q, want no fallback", s.paths())
	}
}

func TestDiscoverRejectsIssuerMismatch(t *testing.T) {
	for name, docIssuer := range map[string]func(base string) string{
		"other host":     func(string) string { return "https://evil.example" },
		"trailing slash": func(base string) string { return base + "/" },
		"missing":        func(string) string { return "" },
	} {
		t.Run(name, func(t *testing.T) {
			s := newAuthServerFunc(t, func(s *authServer, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":"%s/token"}`, docIssuer(s.URL), s.URL)
			})
			_, err := discover(t, s.URL)
			var mismatch *IssuerMismatchError
			if !errors.As(err, &mismatch) || mismatch.Expected != s.URL || mismatch.Got != docIssuer(s.URL) {
				t.Fatalf("err = %v, want *IssuerMismatchError", err)
			}
			if !strings.Contains(err.Error(), s.URL+"/.well-known/openid-configuration") {
				t.Errorf("error does not name the URL: %v", err)
			}
			if name == "trailing slash" && !strings.Contains(err.Error(), "trailing slash") {
				t.Errorf("error does not point at the trailing slash: %v", err)
			}
		})
	}
}

func TestDiscoverRejectsOversizedBody(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			s := newAuthServerFunc(t, func(s *authServer, w http.ResponseWriter, _ *http.Request) {
				// Valid JSON, only too big: padding after the object.
				doc := metadataJSON(s.URL) + strings.Repeat(" ", MaxMetadataSize)
				w.Header().Set("Content-Type", "application/json")
				if !chunked {
					w.Header().Set("Content-Length", fmt.Sprint(len(doc)))
				}
				for i := 0; i < len(doc); i += 64 << 10 {
					fmt.Fprint(w, doc[i:min(i+64<<10, len(doc))])
					w.(http.Flusher).Flush()
				}
			})
			_, err := discover(t, s.URL)
			if err == nil || !strings.Contains(err.Error(), "limit") {
				t.Fatalf("err = %v, want a size-limit error", err)
			}
		})
	}
}

// An endless document must not be read into memory: Discover stops after
// MaxMetadataSize+1 bytes and closes the connection.
func TestDiscoverStopsReadingAnEndlessBody(t *testing.T) {
	s := newAuthServerFunc(t, func(s *authServer, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, metadataJSON(s.URL))
		pad := []byte(strings.Repeat(" ", 32<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(pad); err != nil {
				return
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := Discover(ctx, nil, s.URL)
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("err = %v, want a size-limit error before the deadline", err)
	}
}

func TestDiscoverRequiresJSON(t *testing.T) {
	for ct, body := range map[string]string{
		"text/html":                       `{"issuer":"%s","token_endpoint":"%[1]s/token"}`,
		"":                                `{"issuer":"%s","token_endpoint":"%[1]s/token"}`,
		"application/json":                `<html>%s</html>`,
		"application/json; charset=utf-8": `{"issuer":"%s","token_endpoint":"%[1]s/token"} trailing`,
	} {
		s := newAuthServerFunc(t, func(s *authServer, w http.ResponseWriter, _ *http.Request) {
			w.Header()["Content-Type"] = []string{ct} // "" stops net/http from sniffing
			fmt.Fprintf(w, body, s.URL)
		})
		if _, err := discover(t, s.URL); err == nil {
			t.Errorf("Content-Type %q, body %q: accepted", ct, body)
		}
	}
}

func TestDiscoverChecksEndpoints(t *testing.T) {
	for _, extra := range []string{
		`"token_endpoint":""`,
		`"token_endpoint":"/token"`,
		`"token_endpoint":"http://idp.example.com/token"`,
		`"token_endpoint":"https://idp.example.com/token#frag"`,
		`"token_endpoint":"https://idp.example.com/token","authorization_endpoint":"http://idp.example.com/auth"`,
	} {
		s := newAuthServerFunc(t, func(s *authServer, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"issuer":%q,%s}`, s.URL, extra)
		})
		if _, err := discover(t, s.URL); err == nil {
			t.Errorf("accepted %s", extra)
		}
	}
}
