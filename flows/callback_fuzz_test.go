package flows

import (
	"net/url"
	"testing"
)

// FuzzCheckPasted: a pasted redirect URL (login --no-browser) or a loopback callback's query
// yields a code only when it is this login's answer: the callback path, the exact state, the
// issuer when one is given, no error, a non-empty code. Nothing panics.
func FuzzCheckPasted(f *testing.F) {
	for _, seed := range []string{
		"http://127.0.0.1:8765/callback?code=abc&state=st-123",
		"http://127.0.0.1:8765/callback?code=abc&state=st-123&iss=https%3A%2F%2Fidp.example.com",
		"http://127.0.0.1:8765/callback?code=abc&state=st-123&iss=https%3A%2F%2Fevil.example",
		"http://127.0.0.1:8765/callback?error=access_denied&error_description=no&state=st-123",
		"http://127.0.0.1:8765/callback?state=st-123&state=other&code=a&code=b",
		"http://127.0.0.1:8765/callback?code=&state=st-123",
		"http://127.0.0.1/callback?code=abc;state=st-123",
		"/callback?code=%zz&state=st-123",
		"http://[::1]:1/callback#code=abc&state=st-123",
		"  http://127.0.0.1/callback?code=x&state=st-123\n", "", "%", "http://127.0.0.1/other?code=x&state=st-123",
	} {
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, pasted string, requireIss bool) {
		cb := newCallback("st-123", "https://idp.example.com", requireIss)
		code, err := cb.checkPasted(pasted)
		if err != nil {
			if code != "" {
				t.Fatal("a code together with an error")
			}
			return
		}
		u, perr := url.Parse(pasted)
		if perr != nil || u.Path != callbackPath {
			t.Fatalf("accepted %q, which is not the callback URL", pasted)
		}
		q := u.Query()
		switch {
		case code == "" || code != q.Get("code"):
			t.Fatalf("code %q from %q", code, pasted)
		case q.Get("state") != "st-123":
			t.Fatalf("accepted state %q", q.Get("state"))
		case q.Get("error") != "":
			t.Fatalf("accepted an error redirect %q", pasted)
		case q.Get("iss") != "" && q.Get("iss") != "https://idp.example.com", requireIss && q.Get("iss") == "":
			t.Fatalf("accepted iss %q (required %v)", q.Get("iss"), requireIss)
		}
	})
}

// FuzzParseRetryAfter: any Retry-After header gives a wait of zero or more, never a negative
// or wrapped-around duration, and never more than maxRetryAfter.
func FuzzParseRetryAfter(f *testing.F) {
	for _, seed := range []string{"", "0", "7", " 120 ", "-1", "9223372036854775807", "99999999999",
		"Fri, 31 Dec 1999 23:59:59 GMT", "Wed, 21 Oct 2099 07:28:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "1e3", "+5"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if d := parseRetryAfter(v); d < 0 || d > maxRetryAfter {
			t.Fatalf("Retry-After %q gives %s", v, d)
		}
	})
}

// FuzzParseClaims: an ID token read back for display (tokctl status) never panics, whatever
// the stored string holds.
func FuzzParseClaims(f *testing.F) {
	for _, seed := range []string{
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyLTEiLCJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIn0.",
		"a.b.c", "..", "not a jwt", "eyJ9.eyJzdWIiOjF9.x", "x.bnVsbA.y", "x.W10.y",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := ParseClaims(raw)
		if err != nil && c != (Claims{}) {
			t.Fatal("claims together with an error")
		}
		_ = c.Who()
	})
}
