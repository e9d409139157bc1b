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
