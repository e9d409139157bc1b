package providers

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

const fuzzIssuer = "https://idp.example.com/tenant"

// FuzzParseMetadata checks that parseMetadata never panics and that whatever
// it accepts satisfies Discover's promises: the exact issuer, a token
// endpoint that is an absolute https URL, and a stable JSON round trip.
func FuzzParseMetadata(f *testing.F) {
	for _, seed := range []string{
		`{"issuer":"https://idp.example.com/tenant","token_endpoint":"https://idp.example.com/tenant/token"}`,
		`{"issuer":"https://idp.example.com/tenant","authorization_endpoint":"https://idp.example.com/a",
		  "token_endpoint":"http://127.0.0.1:8080/t","device_authorization_endpoint":"https://idp.example.com/d",
		  "revocation_endpoint":"https://idp.example.com/r","jwks_uri":"https://idp.example.com/k",
		  "code_challenge_methods_supported":["S256","plain"],"grant_types_supported":["refresh_token"],
		  "authorization_response_iss_parameter_supported":true,
		  "token_endpoint_auth_methods_supported":["none","client_secret_basic"]}`,
		`{"issuer":"https://idp.example.com/tenant/","token_endpoint":"https://idp.example.com/t"}`,
		`{"issuer":"https://idp.example.com/tenant","token_endpoint":"http://idp.example.com/t"}`,
		`{"issuer":"https://idp.example.com/tenant","token_endpoint":"/t"}`,
		`{"issuer":"https://idp.example.com/tenant","token_endpoint":"https://[::1/t"}`,
		`{"issuer":"https://idp.example.com/tenant","token_endpoint":12}`,
		`{"issuer":"https://idp.example.com/tenant","issuer":"x","token_endpoint":"https://a/t"}`,
		`null`, `[]`, `"x"`, ``, `{`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMetadata("https://idp.example.com/.well-known/openid-configuration/tenant", fuzzIssuer, data)
		if err != nil {
			if m != nil {
				t.Fatal("metadata returned with an error")
			}
			if msg := err.Error(); msg == "" || strings.ToLower(msg[:1]) != msg[:1] {
				t.Fatalf("error %q is not lower case", msg)
			}
			return
		}
		if m.Issuer != fuzzIssuer {
			t.Fatalf("accepted issuer %q", m.Issuer)
		}
		if err := checkEndpoint(m.TokenEndpoint); err != nil {
			t.Fatalf("accepted token_endpoint %q: %v", m.TokenEndpoint, err)
		}
		first, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseMetadata("re-encoded", fuzzIssuer, first)
		if err != nil {
			t.Fatalf("re-encoded metadata rejected: %v\n%s", err, first)
		}
		second, _ := json.Marshal(again)
		if !bytes.Equal(first, second) {
			t.Fatalf("round trip changed the metadata:\n%s\n%s", first, second)
		}
	})
}
