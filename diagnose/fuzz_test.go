package diagnose

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the reader and the analysis, as one input: whatever the
// bytes, no panic, every entry was a record, no malformed count exceeds the records, and no
// evidence repeats a refresh token that the input spelled as refresh_token=….
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil && len(data) < 64<<10 {
			f.Add(data)
		}
	}
	f.Add([]byte(`[{"eventType":"app.oauth2.as.token.detect_reuse","published":"2026-10-10T13:55:36Z"},1,"x",{]`))
	f.Add([]byte("\x1f\x8b\x08\x00garbage"))
	f.Add([]byte("2026-10-10T13:55:36Z POST /token refresh_token=SECRETSECRET invalid_grant\n2026-10-10T13:55:36Z token refreshed"))
	// Keycloak events: Keycloak 26 (quoted), Keycloak 23 (unquoted, no session), a JSON console
	// line, an unterminated quote, and a refresh token spelled as a field.
	kc := `2026-12-05 10:00:01,100 DEBUG [org.keycloak.events] (executor-thread-1) type="REFRESH_TOKEN", realmId="r1", realmName="main", clientId="cli", userId="u1", sessionId="S1", ipAddress="10.0.0.7", token_id="at2", updated_refresh_token_id="rt2", refresh_token_type="Refresh", scope="openid email", grant_type="refresh_token", refresh_token_id="rt1", client_auth_method="client-secret"
2026-12-05 10:00:01,130 WARN  [org.keycloak.events] (executor-thread-3) type="REFRESH_TOKEN_ERROR", realmId="r1", realmName="main", clientId="cli", userId="null", sessionId="S1", ipAddress="10.0.0.8", error="invalid_token", reason="Maximum allowed refresh token reuse exceeded", grant_type="refresh_token", refresh_token=SECRETSECRET, refresh_token_id="rt1"
`
	f.Add([]byte(kc))
	f.Add([]byte("2023-07-11 10:14:04,540 WARN  [org.keycloak.events] (executor-thread-3) type=REFRESH_TOKEN_ERROR, realmId=main, clientId=cli, userId=u1, ipAddress=10.0.0.9, error=invalid_token, reason='Stale token', refresh_token_id=rt1\n" +
		"2023-07-11 10:14:04,500 DEBUG [org.keycloak.events] (executor-thread-7) type=REFRESH_TOKEN, realmId=main, clientId=cli, userId=u1, refresh_token_id=rt1"))
	f.Add([]byte(`{"timestamp":"2026-12-05T11:00:01.130+01:00","loggerName":"org.keycloak.events","level":"WARN","message":"type=\"REFRESH_TOKEN_ERROR\", realmId=\"r1\", clientId=\"cli\", sessionId=\"S1\", reason=\"Session not active\", refresh_token=SECRETSECRET"}`))
	f.Add([]byte(`2026-12-05 10:00:01,130 WARN type="REFRESH_TOKEN_ERROR", realmId="r1", reason="unterminated, sessionId="`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Redaction knows secrets by their field name: the property holds when every
		// SECRETSECRET in the input is the value of a refresh_token= field.
		spelledAsField := bytes.Count(data, []byte("SECRETSECRET")) == bytes.Count(data, []byte("refresh_token=SECRETSECRET"))
		a := New(Options{Year: 2026})
		a.Read(Input{Name: "fuzz", R: bytes.NewReader(data)})
		r := a.Report()
		in := r.Inputs[0]
		if in.Entries > in.Records || in.Malformed > in.Records+1 {
			t.Fatalf("stats %+v", in)
		}
		for _, inc := range r.Incidents {
			if inc.Start.After(inc.End) {
				t.Fatalf("incident ends before it starts: %+v", inc)
			}
			for _, e := range inc.Evidence {
				if spelledAsField && strings.Contains(e.Text, "SECRETSECRET") {
					t.Fatalf("evidence repeats a secret: %q", e.Text)
				}
			}
		}
	})
}
