package providers

import (
	"slices"
	"strings"
	"testing"
)

func TestLookupIsCaseInsensitiveWithAliases(t *testing.T) {
	for in, want := range map[string]string{
		"":        "generic",
		"OKTA":    "okta",
		" GitHub": "github",
		"Entra":   "microsoft",
		"ory":     "hydra",
	} {
		if p, ok := Lookup(in); !ok || p.Name != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", in, p.Name, ok, want)
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error(`Lookup("nope") found a preset`)
	}
}

func TestLookupReturnsACopy(t *testing.T) {
	p := mustLookup(t, "google")
	p.Scopes[0] = "changed"
	p.AuthParams["prompt"] = "none"
	p.GrantErrors[0] = "changed"
	again := mustLookup(t, "google")
	if again.Scopes[0] == "changed" || again.AuthParams["prompt"] != "consent" || again.GrantErrors[0] != "invalid_grant" {
		t.Error("modifying a looked-up preset changed the table")
	}
}

func TestExpandFillsPlaceholders(t *testing.T) {
	p, err := mustLookup(t, "keycloak").Expand(map[string]string{"domain": "sso.example.com:8443", "realm": "dev", "unused": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Issuer != "https://sso.example.com:8443/realms/dev" {
		t.Errorf("Issuer = %q", p.Issuer)
	}
	if p.TokenURL != "https://sso.example.com:8443/realms/dev/protocol/openid-connect/token" {
		t.Errorf("TokenURL = %q", p.TokenURL)
	}
	if len(p.Placeholders()) != 0 {
		t.Errorf("placeholders left after Expand: %q", p.Placeholders())
	}
}

func TestExpandMissingVarNamesIt(t *testing.T) {
	okta := mustLookup(t, "okta")
	for _, vars := range []map[string]string{nil, {"tenant": "x"}, {"domain": ""}} {
		_, err := okta.Expand(vars)
		if err == nil || !strings.Contains(err.Error(), "{domain}") {
			t.Errorf("Expand(%v) error = %v, want one naming {domain}", vars, err)
		}
	}
}

func TestExpandRejectsValuesThatChangeTheURL(t *testing.T) {
	for _, bad := range []string{"evil.com/x", "a?b", "a#b", "user@host", "a b", "..", "%2f"} {
		if _, err := mustLookup(t, "microsoft").Expand(map[string]string{"tenant": bad}); err == nil {
			t.Errorf("Expand accepted tenant %q", bad)
		}
	}
}

func TestExpandWithoutPlaceholdersIsIdentity(t *testing.T) {
	g := mustLookup(t, "github")
	e, err := g.Expand(nil)
	if err != nil || e.TokenURL != g.TokenURL || e.AuthURL != g.AuthURL {
		t.Errorf("Expand(nil) = %+v, %v", e, err)
	}
}

func TestNextPlaceholderSkipsOtherBraces(t *testing.T) {
	before, name, after, ok := nextPlaceholder("a{}b{X}c{tenant}/d")
	if !ok || before != "a{}b{X}c" || name != "tenant" || after != "/d" {
		t.Errorf("got %q %q %q %v", before, name, after, ok)
	}
	if _, _, _, ok := nextPlaceholder("no {placeholder here"); ok {
		t.Error("unterminated brace treated as a placeholder")
	}
}

func TestScopesFor(t *testing.T) {
	okta := mustLookup(t, "okta")
	if got := okta.ScopesFor(nil); !slices.Equal(got, []string{"openid", "profile", "offline_access"}) {
		t.Errorf("defaults: %q", got)
	}
	if got := okta.ScopesFor([]string{"offline_access", "api"}); !slices.Equal(got, []string{"offline_access", "api"}) {
		t.Errorf("explicit with offline_access: %q", got)
	}
	if got := mustLookup(t, "github").ScopesFor([]string{"repo"}); !slices.Equal(got, []string{"repo"}) {
		t.Errorf("github: %q", got)
	}
	user := []string{"a"}
	_ = okta.ScopesFor(user)
	if len(user) != 1 || cap(user) != 1 {
		t.Error("ScopesFor modified its argument")
	}
}

func TestIsGrantError(t *testing.T) {
	dex := mustLookup(t, "dex")
	tests := []struct {
		p           Preset
		code, desc  string
		grantErrors bool
	}{
		{mustLookup(t, "generic"), "invalid_grant", "", true},
		{mustLookup(t, "generic"), " invalid_grant ", "", true},
		{mustLookup(t, "generic"), "invalid_client", "", false},
		{mustLookup(t, "generic"), "", "", false},
		{mustLookup(t, "hydra"), "token_inactive", "", true},
		{mustLookup(t, "microsoft"), "interaction_required", "AADSTS50076", true},
		{dex, "invalid_request", "ALREADY BEEN CLAIMED", true},
		{dex, "invalid_request", "", false},
		{dex, "server_error", "already been claimed", false},
		{dex, "temporarily_unavailable", "already claimed", false},
	}
	for _, tt := range tests {
		if got := tt.p.IsGrantError(tt.code, tt.desc); got != tt.grantErrors {
			t.Errorf("%s.IsGrantError(%q, %q) = %v", tt.p.Name, tt.code, tt.desc, got)
		}
	}
}
