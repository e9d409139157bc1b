package config

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseProfile: any profile file content either fails to parse or yields a profile that
// SaveProfile's encoding reads back unchanged.
func FuzzParseProfile(f *testing.F) {
	for _, seed := range []string{
		`{"client_id":"cli","token_url":"https://idp.example.com/token"}`,
		`{"provider":"okta","issuer":"https://example.okta.com","client_id":"0oa","scopes":["openid","offline_access"],"redirect_port":8765}`,
		`{"client_id":"ci","grant":"client_credentials","client_secret_file":"/etc/s","hosts":["github.com","*.example.com"],"allow_insecure_http":true}`,
		`{"client_id":"x","tokne_url":"typo"}`,
		`{"client_id":"x"} {"client_id":"y"}`,
		`{"client_id":"x","redirect_port":1e400}`,
		`{"client_id":"\u0000","scopes":null}`,
		``, `null`, `[]`, `{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		prof, err := parseProfile("p", "p.json", data)
		if err != nil {
			if prof != nil {
				t.Fatal("a profile together with an error")
			}
			return
		}
		out, err := json.MarshalIndent(prof, "", "  ")
		if err != nil {
			t.Fatalf("cannot encode a parsed profile: %v", err)
		}
		again, err := parseProfile("p", "p.json", out)
		if err != nil {
			t.Fatalf("a saved profile does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(normalize(prof), normalize(again)) {
			t.Fatalf("round trip changed the profile:\n%+v\n%+v", prof, again)
		}
	})
}

// normalize treats an empty list like a missing one, as omitempty does.
func normalize(p *Profile) Profile {
	c := *p
	if len(c.Scopes) == 0 {
		c.Scopes = nil
	}
	if len(c.Hosts) == 0 {
		c.Hosts = nil
	}
	return c
}

// FuzzCheckEndpoint: an accepted endpoint is an absolute http(s) URL, and plain http only on a
// loopback host unless insecure http was allowed — whatever tricks the URL plays (userinfo,
// odd ports, IPv6 zones, percent-encoding).
func FuzzCheckEndpoint(f *testing.F) {
	for _, seed := range []string{
		"https://idp.example.com/token", "http://127.0.0.1:8080/token", "http://localhost/t", "http://[::1]:9/t",
		"http://127.0.0.1@evil.example/token", "http://evil.example#@127.0.0.1/", "http://127.0.0.1.evil.example/",
		"http://LOCALHOST./", "http://[::ffff:127.0.0.1]/", "http://0x7f.1/", "https:///nohost", "ftp://x/",
		"HTTP://10.0.0.1/", "http://[fe80::1%25lo]/", "//idp.example.com/token", "",
	} {
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, raw string, allowHTTP bool) {
		if CheckEndpointInsecure("--token-url", raw, allowHTTP) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			t.Fatalf("accepted %q, which has no host", raw)
		}
		switch strings.ToLower(u.Scheme) {
		case "https":
		case "http":
			if !allowHTTP && !IsLoopback(u.Hostname()) {
				t.Fatalf("accepted plain http to %q (%q)", u.Hostname(), raw)
			}
		default:
			t.Fatalf("accepted scheme %q (%q)", u.Scheme, raw)
		}
	})
}
