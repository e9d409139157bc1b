package oauthtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
)

// reply is an HTTP answer from the server under test.
type reply struct {
	Status int
	Header http.Header
	Body   []byte // at most the first MiB
	Size   int64  // the full body length
	Err    error  // transport error: no answer at all
}

// token decodes a successful token response.
func (r reply) token(t *testing.T) oauthtest.TokenResponse {
	t.Helper()
	var tok oauthtest.TokenResponse
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.Status, r.Body)
	}
	if err := json.Unmarshal(r.Body, &tok); err != nil {
		t.Fatalf("decode token response %q: %v", r.Body, err)
	}
	return tok
}

// fields decodes the body as a JSON object.
func (r reply) fields(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	return m
}

// wantError checks an OAuth error answer.
func (r reply) wantError(t *testing.T, status int, code string) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("transport error %v, want %d %s", r.Err, status, code)
	}
	var e struct{ Error, ErrorDescription string }
	json.Unmarshal(r.Body, &e)
	if r.Status != status || e.Error != code {
		t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, code)
	}
}

// newServer starts a server that the test closes when it ends.
func newServer(t *testing.T, opt oauthtest.Options) *oauthtest.Server {
	t.Helper()
	s := oauthtest.NewServer(opt)
	t.Cleanup(s.Close)
	return s
}

// postForm POSTs form to u, letting edit adjust the request first.
func postForm(client *http.Client, u string, form url.Values, edit ...func(*http.Request)) reply {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return reply{Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, e := range edit {
		e(req)
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return reply{Err: err}
	}
	defer resp.Body.Close()
	// Keep the first MiB and count the rest: buffering a HugeBody is slow under -race.
	var body bytes.Buffer
	n, err := io.Copy(&capped{&body, 1 << 20}, resp.Body)
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: body.Bytes(), Size: n, Err: err}
}

// capped writes at most n bytes to w and silently drops the rest.
type capped struct {
	w *bytes.Buffer
	n int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.n - c.w.Len(); room > 0 {
		c.w.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// refreshForm is a refresh_token grant by the public default client.
func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"tokctl-test"}}
}

// refresh redeems rt at s as the default public client.
func refresh(s *oauthtest.Server, rt string) reply {
	return postForm(nil, s.TokenURL(), refreshForm(rt))
}

// wantActive checks Server.Active for each token.
func wantActive(t *testing.T, s *oauthtest.Server, want bool, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		if got := s.Active(tok); got != want {
			t.Errorf("Active(%.6s…) = %t, want %t", tok, got, want)
		}
	}
}
