package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/creds"
)

// A slow-loris token endpoint — headers at once, then one byte now and then, forever — is cut
// off at the caller's deadline (tokctl token --timeout) and reported as transient, so Source
// retries within the deadline and then gives up.
func TestSlowLorisIsBoundedByTheDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, `{"access_token":"`)
		for {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	r := &Refresher{TokenURL: srv.URL, ClientID: "c", AuthStyle: oauth2.AuthStyleInParams}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Refresh(ctx, &creds.Credential{RefreshToken: "rt"})
	var te *creds.TransientError
	if !errors.As(err, &te) {
		t.Fatalf("Refresh = %v, want a transient error", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the trickle held the refresh for %s past a 300ms deadline", took)
	}
}

// The server's clock does not matter: expiry is expires_in counted from when the request was
// sent, on the local clock. A Date header a year off either way changes nothing.
func TestServerClockSkewDoesNotMoveExpiry(t *testing.T) {
	for _, skew := range []time.Duration{-365 * 24 * time.Hour, 365 * 24 * time.Hour, 0} {
		t.Run(skew.String(), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", time.Now().Add(skew).UTC().Format(http.TimeFormat))
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt2"}`)
			}))
			defer srv.Close()
			r := &Refresher{TokenURL: srv.URL, ClientID: "c", AuthStyle: oauth2.AuthStyleInParams}
			c, err := r.Refresh(context.Background(), &creds.Credential{RefreshToken: "rt"})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Until(c.Expiry); d < 59*time.Minute || d > time.Hour {
				t.Fatalf("expiry in %s with the server's clock %s off, want just under 1h", d, skew)
			}
		})
	}
}
