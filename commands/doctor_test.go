package commands

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The provider's Date header reveals a local clock that is off; a small offset is fine.
func TestDoctorMeasuresClockSkewFromTheProvidersDate(t *testing.T) {
	for _, tc := range []struct {
		offset time.Duration
		level  string
	}{{0, "ok"}, {20 * time.Second, "ok"}, {-10 * time.Minute, "warn"}, {3 * time.Hour, "warn"}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", time.Now().Add(tc.offset).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusMethodNotAllowed)
		}))
		var r report
		checkProvider(context.Background(), &r, srv.URL+"/token")
		srv.Close()
		if len(r) != 1 || r[0].level != tc.level {
			t.Fatalf("provider clock off by %s: got %+v, want one %s finding", tc.offset, r, tc.level)
		}
		if tc.level == "warn" && !strings.Contains(r[0].text, "off the provider's") {
			t.Fatalf("the warning does not say the clock is off: %q", r[0].text)
		}
	}
}
