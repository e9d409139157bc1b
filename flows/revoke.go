package flows

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// Revoke asks the provider to revoke a token (RFC 7009). Revoking a refresh token revokes its
// grant at most providers. A 200 means done (also for unknown tokens, per the RFC).
func Revoke(ctx context.Context, client *http.Client, revokeURL, clientID, clientSecret string, style oauth2.AuthStyle, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	if style == oauth2.AuthStyleInParams || clientSecret == "" {
		form.Set("client_id", clientID)
		if clientSecret != "" {
			form.Set("client_secret", clientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, revokeURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if style == oauth2.AuthStyleInHeader && clientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	}
	if client == nil {
		client = NewHTTPClient()
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("revoke: %w", unwrapURLError(err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseSize))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revoke: the provider answered HTTP %d", resp.StatusCode)
	}
	return nil
}
