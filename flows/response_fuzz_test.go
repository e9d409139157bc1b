package flows

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// FuzzParseTokenResponse: any status, content type and body give a token with an access token
// and a future expiry, or an error — never a panic, never an empty success.
func FuzzParseTokenResponse(f *testing.F) {
	seeds := []struct {
		status int
		ct     string
		body   string
	}{
		{200, "application/json", `{"access_token":"a","token_type":"Bearer","expires_in":3600,"refresh_token":"r"}`},
		{200, "application/json", `{"access_token":"a","expires_in":"3600","instance_url":"https://x"}`},
		{200, "application/json", `{"error":"bad_refresh_token","error_description":"x"}`},
		{400, "application/json", `{"error":"invalid_grant"}`},
		{200, "application/x-www-form-urlencoded", `access_token=a&token_type=bearer&expires_in=28800`},
		{200, "application/json", `{"access_token":"a","expires_in":1e400}`},
		{200, "application/json", `{"access_token":"a","expires_in":1e300}`},
		{502, "text/html", `<html>bad gateway</html>`},
		{200, "application/json", `{"access_token":`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ct, []byte(s.body))
	}
	r := &Refresher{AuthStyle: oauth2.AuthStyleInParams}
	f.Fuzz(func(t *testing.T, status int, ct string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {ct}}, Body: io.NopCloser(bytes.NewReader(body))}
		c, err := r.parse(resp, time.Now())
		if err != nil {
			return
		}
		if c.AccessToken == "" {
			t.Fatal("success without an access token")
		}
		if !c.Expiry.After(time.Now().Add(-time.Second)) {
			t.Fatalf("success with expiry %s in the past", c.Expiry)
		}
	})
}
