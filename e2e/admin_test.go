package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// callbackPath is the redirect path registered for every client. Hydra accepts any port for a
// registered http://127.0.0.1 redirect URI (RFC 8252 §7.3), so tests and tokctl pick their own.
const callbackPath = "/callback"

var clientSeq atomic.Int64

// newClient registers a public OAuth2 client for one test, as a CLI's client is registered:
// no secret (token_endpoint_auth_method none), authorization code + refresh token, scopes
// openid and offline_access, redirect http://127.0.0.1/callback on any port. Refreshed access
// tokens live refreshedTTL (see hydra_test.go).
func (s *hydraStack) newClient(t *testing.T) string {
	t.Helper()
	id := fmt.Sprintf("e2e-%s-%d", regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"), clientSeq.Add(1))
	body := map[string]any{
		"client_id":                  id,
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"scope":                      "openid offline_access",
		"redirect_uris":              []string{"http://127.0.0.1" + callbackPath},
		"refresh_token_grant_access_token_lifespan": refreshedTTL.String(),
	}
	if err := s.adminJSON(http.MethodPost, "/admin/clients", body, nil); err != nil {
		t.Fatalf("create client: %v", err)
	}
	return id
}

// active asks Hydra's introspection endpoint whether a token (access or refresh) is active.
func (s *hydraStack) active(t *testing.T, token string) bool {
	t.Helper()
	resp, err := http.PostForm(s.admin+"/admin/oauth2/introspect", url.Values{"token": {token}})
	if err != nil {
		t.Fatalf("introspect: %v", err)
	}
	defer resp.Body.Close()
	var r struct {
		Active bool `json:"active"`
	}
	if err := decode(resp, &r); err != nil {
		t.Fatalf("introspect: %v", err)
	}
	return r.Active
}

// revoke revokes a token at Hydra's public RFC 7009 endpoint, as "tokctl logout" or a user's
// "sign out everywhere" would. Revoking a refresh token also revokes its access tokens.
func (s *hydraStack) revoke(t *testing.T, clientID, token string) {
	t.Helper()
	resp, err := http.PostForm(s.public+"/oauth2/revoke", url.Values{"token": {token}, "client_id": {clientID}})
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	defer resp.Body.Close()
	if err := decode(resp, nil); err != nil {
		t.Fatalf("revoke: %v", err)
	}
}

// adminJSON sends a JSON request to Hydra's admin API and decodes the answer into out.
func (s *hydraStack) adminJSON(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.admin+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decode(resp, out)
}

// decode checks for a 2xx status and decodes the JSON body into out (when not nil). Hydra's
// error bodies name the error, never a token, so they are safe to report.
func decode(resp *http.Response, out any) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", resp.Request.Method, resp.Request.URL.Path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}
