package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokctl/tokctl/creds"
)

// maxLifetime caps an absurd expires_in (which would overflow a time.Duration).
const maxLifetime = 10 * 365 * 24 * time.Hour

// maxResponseSize caps what tokctl reads of a token response; real ones are a few KiB.
const maxResponseSize = 1 << 20

// ProviderError is an OAuth error response that is neither a rejected refresh token nor
// transient: invalid_client, invalid_scope, unauthorized_client, a malformed response …
type ProviderError struct {
	Status      int
	Code        string
	Description string
}

// HTTPStatus and OAuthCode let callers that cannot import flows (creds' events) read the answer.
func (e *ProviderError) HTTPStatus() int   { return e.Status }
func (e *ProviderError) OAuthCode() string { return e.Code }

func (e *ProviderError) Error() string {
	msg := fmt.Sprintf("token endpoint answered HTTP %d", e.Status)
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// tokenResponse is RFC 6749 §5.1 and §5.2 in one: providers such as GitHub send errors with 200.
type tokenResponse struct {
	AccessToken  string      `json:"access_token"`
	TokenType    string      `json:"token_type"`
	RefreshToken string      `json:"refresh_token"`
	IDToken      string      `json:"id_token"`
	Scope        string      `json:"scope"`
	ExpiresIn    json.Number `json:"expires_in"`
	Error        string      `json:"error"`
	Description  string      `json:"error_description"`
}

var standardFields = map[string]bool{"access_token": true, "token_type": true, "refresh_token": true,
	"id_token": true, "scope": true, "expires_in": true, "error": true, "error_description": true, "error_uri": true}

func (r *Refresher) parse(resp *http.Response, sent time.Time) (*creds.Credential, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize+1))
	if err != nil {
		return nil, &creds.TransientError{Err: fmt.Errorf("refresh: reading the response: %w", err)}
	}
	if len(body) > maxResponseSize {
		return nil, &ProviderError{Status: resp.StatusCode, Description: fmt.Sprintf("response larger than %d bytes; refusing it", maxResponseSize)}
	}
	tr, perr := decodeResponse(resp.Header.Get("Content-Type"), body)
	if tr.Error != "" || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, r.classify(resp, tr)
	}
	if perr != nil {
		// A 2xx whose body breaks off: the connection failed mid-answer, worth one more try.
		return nil, &creds.TransientError{Err: fmt.Errorf("refresh: malformed token response: %w", perr)}
	}
	if tr.AccessToken == "" {
		return nil, &ProviderError{Status: resp.StatusCode, Description: "response has no access_token"}
	}
	c := &creds.Credential{AccessToken: tr.AccessToken, TokenType: tr.TokenType, RefreshToken: tr.RefreshToken, IDToken: tr.IDToken, Scope: tr.Scope}
	lifetime := r.Lifetime
	if lifetime <= 0 {
		lifetime = DefaultLifetime
	}
	if secs, err := tr.ExpiresIn.Float64(); err == nil && secs > 0 {
		lifetime = time.Duration(min(secs, maxLifetime.Seconds()) * float64(time.Second))
	}
	// Count the lifetime from when the request was sent: the safe side of the round trip.
	c.Expiry = r.now().Add(lifetime - time.Since(sent))
	c.Extra = extraFields(body)
	return c, nil
}

func decodeResponse(contentType string, body []byte) (tokenResponse, error) {
	var tr tokenResponse
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-www-form-urlencoded" || mt == "text/plain" {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return tr, err
		}
		tr = tokenResponse{AccessToken: v.Get("access_token"), TokenType: v.Get("token_type"), RefreshToken: v.Get("refresh_token"),
			IDToken: v.Get("id_token"), Scope: v.Get("scope"), ExpiresIn: json.Number(v.Get("expires_in")), Error: v.Get("error"), Description: v.Get("error_description")}
		return tr, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	err := dec.Decode(&tr)
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field == "expires_in" {
		err = nil // a quoted or odd expires_in: fall back to the default lifetime
	}
	return tr, err
}

// classify turns a failed response into the error kind creds.Source acts on.
func (r *Refresher) classify(resp *http.Response, tr tokenResponse) error {
	retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"))
	switch {
	case tr.Error != "" && r.isGrantError(tr.Error, tr.Description):
		return &creds.GrantError{Code: tr.Error, Description: tr.Description, Status: resp.StatusCode}
	case tr.Error == "temporarily_unavailable" || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return &creds.TransientError{Err: &ProviderError{resp.StatusCode, tr.Error, tr.Description}, RetryAfter: retryAfter}
	}
	return &ProviderError{resp.StatusCode, tr.Error, tr.Description}
}

// maxRetryAfter caps a provider's Retry-After: a wait beyond any refresh deadline only means
// "give up now", and a huge number of seconds would overflow time.Duration.
const maxRetryAfter = 24 * time.Hour

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(min(secs, int(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), maxRetryAfter)
	}
	return 0
}

// extraFields returns the response's non-standard fields (instance_url, refresh_token_expires_in …).
func extraFields(body []byte) map[string]json.RawMessage {
	var all map[string]json.RawMessage
	if json.Unmarshal(body, &all) != nil {
		return nil
	}
	for k := range all {
		if standardFields[k] {
			delete(all, k)
		}
	}
	if len(all) == 0 {
		return nil
	}
	return all
}
