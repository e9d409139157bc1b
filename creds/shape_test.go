package creds

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var obtained = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// Each shape a foreign program may write is read, and written back in the same shape with
// every field tokctl does not own kept.
func TestForeignShapesRoundTrip(t *testing.T) {
	exp := time.Date(2026, 11, 29, 13, 0, 0, 0, time.UTC)
	cases := []struct {
		name, in string
		wantExp  time.Time
		wantOut  []string // substrings of the rewritten file
	}{
		{"x/oauth2 expiry RFC 3339", `{"access_token":"a","refresh_token":"r","expiry":"2026-11-29T13:00:00Z","keep":1}`, exp,
			[]string{`"expiry": "2026-11-29T14:00:00Z"`, `"keep": 1`, `"access_token": "A2"`}},
		{"expires_at seconds", `{"access_token":"a","refresh_token":"r","expires_at":1795438800,"keep":"x"}`, time.Unix(1795438800, 0),
			[]string{`"expires_at": 1795442400`, `"keep": "x"`}},
		{"expires_at milliseconds", `{"access_token":"a","refresh_token":"r","expires_at":1795438800000}`, time.UnixMilli(1795438800000),
			[]string{`"expires_at": 1795442400000`}},
		{"camelCase expiresAt ms", `{"accessToken":"a","refreshToken":"r","expiresAt":1795438800000,"account":{"id":7}}`, time.UnixMilli(1795438800000),
			[]string{`"accessToken": "A2"`, `"refreshToken": "R2"`, `"expiresAt": 1795442400000`, `"account": {`}},
		{"expires_in with obtained_at", `{"access_token":"a","refresh_token":"r","expires_in":3600,"obtained_at":1795435200}`, time.Unix(1795435200+3600, 0),
			[]string{`"expires_in": 3600`, `"obtained_at": 1795438800`}},
		{"expires_in with created_at RFC 3339", `{"access_token":"a","refresh_token":"r","expires_in":3600,"created_at":"2026-11-29T12:00:00Z"}`, exp,
			[]string{`"expires_in": 3600`, `"created_at": "2026-11-29T13:00:00Z"`}},
		{"expires_in alone counts from the file time", `{"access_token":"a","refresh_token":"r","expires_in":3600}`, exp,
			[]string{`"expires_in": 3600`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseCredential([]byte(tc.in), obtained)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Expiry.Equal(tc.wantExp) {
				t.Fatalf("expiry %s, want %s", c.Expiry, tc.wantExp)
			}
			if c.AccessToken != "a" || c.RefreshToken != "r" {
				t.Fatalf("tokens not read: %+v", c)
			}
			// A refresh an hour later: new tokens, expiry one hour after the old one.
			c2 := merge(c, &Credential{AccessToken: "A2", RefreshToken: "R2", Expiry: tc.wantExp.Add(time.Hour)})
			out, err := c2.encode(tc.wantExp)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(string(out), want) {
					t.Errorf("rewritten file lacks %s:\n%s", want, out)
				}
			}
			back, err := parseCredential(out, tc.wantExp)
			if err != nil || back.AccessToken != "A2" || !back.Expiry.Equal(tc.wantExp.Add(time.Hour)) {
				t.Fatalf("rewritten file reads back as %+v, %v", back, err)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{``, `{`, `[]`, `null`, `"x"`, `{"a":1}{"b":2}`, `{"access_token": 5}`,
		`{"hello":"world"}`, `{"access_token":"a","expires_at":"soon"}`, `{"access_token":"a","expires_in":"x"}`} {
		if _, err := parseCredential([]byte(in), obtained); err == nil {
			t.Errorf("parsed %q without error", in)
		}
	}
}

// Google omits refresh_token on refresh; providers send new fields (instance_url): both survive.
func TestMergeKeepsWhatTheProviderOmitted(t *testing.T) {
	old := &Credential{AccessToken: "a", RefreshToken: "r", IDToken: "id", Scope: "s", TokenType: "Bearer",
		Extra: map[string]json.RawMessage{"mine": json.RawMessage(`1`)}}
	got := merge(old, &Credential{AccessToken: "a2", Extra: map[string]json.RawMessage{"instance_url": json.RawMessage(`"https://x"`)}})
	if got.RefreshToken != "r" || got.IDToken != "id" || got.Scope != "s" || got.TokenType != "Bearer" {
		t.Fatalf("lost an omitted field: %+v", got)
	}
	if string(got.Extra["mine"]) != "1" || string(got.Extra["instance_url"]) != `"https://x"` {
		t.Fatalf("extras: %v", got.Extra)
	}
	if got2 := merge(old, &Credential{AccessToken: "a3", RefreshToken: "r3"}); got2.RefreshToken != "r3" {
		t.Fatal("a rotated refresh token was not taken")
	}
	if old.AccessToken != "a" || len(old.Extra) != 1 {
		t.Fatal("merge changed its input")
	}
}

func TestFingerprintHidesTheSecret(t *testing.T) {
	fp := Fingerprint("rt_secret_value")
	if !strings.HasPrefix(fp, "sha256:") || len(fp) != len("sha256:")+16 || strings.Contains(fp, "secret") {
		t.Fatalf("fingerprint %q", fp)
	}
	if Fingerprint("rt_secret_value") != fp || Fingerprint("other") == fp || Fingerprint("") != "" {
		t.Fatal("fingerprint not a stable function of the secret")
	}
}

// FuzzParseCredential: any input either fails cleanly or round-trips through encode.
func FuzzParseCredential(f *testing.F) {
	for _, seed := range []string{
		`{"access_token":"a","refresh_token":"r","expiry":"2026-11-29T13:00:00Z"}`,
		`{"accessToken":"a","refreshToken":"r","expiresAt":1795438800000,"x":[1,2]}`,
		`{"access_token":"a","expires_in":"3600","issued_at":1795435200}`,
		`{"refresh_token":"r","expires_at":1e300}`, `{"access_token":"a","expiry":null}`, `{}`, `[`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseCredential(data, obtained)
		if err != nil {
			return
		}
		out, err := c.encode(obtained)
		if err != nil {
			t.Fatalf("encode after a successful parse: %v", err)
		}
		back, err := parseCredential(out, obtained)
		if err != nil {
			t.Fatalf("re-parse of our own output %q: %v", out, err)
		}
		if back.AccessToken != c.AccessToken || back.RefreshToken != c.RefreshToken || back.Scope != c.Scope {
			t.Fatalf("round trip changed tokens: %+v vs %+v", back, c)
		}
	})
}

func TestHugeNumbersDoNotOverflow(t *testing.T) {
	for _, in := range []string{`{"access_token":"a","expires_at":99999999999}`, `{"access_token":"a","expires_in":999999999999999}`} {
		c, err := parseCredential([]byte(in), obtained)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Expiry.After(obtained) {
			t.Fatalf("%s: expiry %s is not in the future", in, c.Expiry)
		}
	}
}
