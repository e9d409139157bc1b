package providers

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func mustLookup(t *testing.T, name string) Preset {
	t.Helper()
	p, ok := Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q): not found", name)
	}
	return p
}

func TestEveryPresetIsComplete(t *testing.T) {
	for _, name := range Names() {
		p := mustLookup(t, name)
		t.Run(name, func(t *testing.T) {
			if p.Name != name {
				t.Errorf("Name = %q", p.Name)
			}
			if p.AuthStyle != oauth2.AuthStyleInParams && p.AuthStyle != oauth2.AuthStyleInHeader {
				t.Errorf("AuthStyle = %v, want InParams or InHeader: AutoDetect re-sends failed refreshes", p.AuthStyle)
			}
			if !slices.Contains(p.GrantErrors, "invalid_grant") {
				t.Errorf("GrantErrors %q lack invalid_grant", p.GrantErrors)
			}
			if p.RedirectHost != "127.0.0.1" && p.RedirectHost != "localhost" {
				t.Errorf("RedirectHost = %q", p.RedirectHost)
			}
			if p.Description == "" || p.Notes == "" || strings.Contains(p.Description, "\n") {
				t.Errorf("Description %q / Notes %q: want one line and a summary", p.Description, p.Notes)
			}
			for _, m := range p.ReuseMarkers {
				if m != strings.ToLower(m) {
					t.Errorf("ReuseMarker %q is not lower case", m)
				}
			}
			vars := map[string]string{}
			for _, v := range p.Placeholders() {
				vars[v] = "x.example"
			}
			e, err := p.Expand(vars)
			if err != nil {
				t.Fatalf("Expand: %v", err)
			}
			for _, raw := range []string{e.Issuer, e.AuthURL, e.TokenURL, e.DeviceURL, e.RevokeURL} {
				if raw == "" {
					continue
				}
				if u, err := url.Parse(raw); err != nil || u.Scheme != "https" || u.Host == "" {
					t.Errorf("endpoint %q is not an absolute https URL", raw)
				}
			}
			if e.Issuer == "" && e.TokenURL != "" && e.AuthURL == "" {
				t.Errorf("token URL without authorize URL and no issuer")
			}
		})
	}
}

// TestQuirks pins design §6: each row is a fact about a provider.
func TestQuirks(t *testing.T) {
	tests := []struct {
		name  string
		check func(p Preset) bool
	}{
		{"google", func(p Preset) bool { return p.KeepsRefreshTokenOmitted && !p.Rotates }},
		{"google", func(p Preset) bool {
			return p.AuthParams["access_type"] == "offline" && p.AuthParams["prompt"] == "consent"
		}},
		{"google", func(p Preset) bool { return p.TokenURL == "https://oauth2.googleapis.com/token" }},
		{"github", func(p Preset) bool { return p.ErrorsAsHTTP200 && p.AcceptJSON && p.NeedsClientSecret }},
		{"github", func(p Preset) bool { return p.IsGrantError("bad_refresh_token", "") }},
		{"github", func(p Preset) bool { return p.GitUsername == "x-access-token" && p.DefaultLifetime == 8*time.Hour }},
		{"dex", func(p Preset) bool {
			return p.IsGrantError("invalid_request", "Refresh token is invalid or has already been claimed by another client.")
		}},
		{"dex", func(p Preset) bool { return p.IsGrantError("invalid_request", "Refresh token expired.") }},
		{"dex", func(p Preset) bool {
			return !p.IsGrantError("invalid_request", "No refresh token is found in request.")
		}},
		{"dex", func(p Preset) bool { return p.OfflineScope && p.Rotates }},
		{"microsoft", func(p Preset) bool { return p.RedirectHost == "localhost" && p.OfflineScope }},
		{"microsoft", func(p Preset) bool { return slices.Equal(p.Placeholders(), []string{"tenant"}) }},
		{"hydra", func(p Preset) bool { return p.RedirectHost == "127.0.0.1" && p.Rotates && p.OfflineScope }},
		{"hydra", func(p Preset) bool { return p.Issuer == "" && p.TokenURL == "" }},
		{"gitlab", func(p Preset) bool { return p.GitUsername == "oauth2" && p.RefreshSendsRedirectURI && p.Rotates }},
		{"auth0", func(p Preset) bool { return p.NeedsAudience && p.OfflineScope && strings.HasSuffix(p.Issuer, "/") }},
		{"okta", func(p Preset) bool { return p.FixedRedirectPort && p.OfflineScope }},
		{"keycloak", func(p Preset) bool {
			return p.OfflineScope && slices.Equal(p.Placeholders(), []string{"domain", "realm"})
		}},
		{"salesforce", func(p Preset) bool {
			return p.DefaultLifetime > 0 && p.DefaultLifetime <= 15*time.Minute && p.KeepsRefreshTokenOmitted
		}},
		{"generic", func(p Preset) bool { return p.Issuer == "" && p.TokenURL == "" && len(p.Scopes) == 0 }},
	}
	for _, tt := range tests {
		if !tt.check(mustLookup(t, tt.name)) {
			t.Errorf("%s: quirk not encoded (see the check at presets_test.go)", tt.name)
		}
	}
}

// Only the providers that document it get the unusual behaviour.
func TestQuirksAreNotGeneral(t *testing.T) {
	only := map[string]func(Preset) bool{
		"github":    func(p Preset) bool { return p.ErrorsAsHTTP200 || p.AcceptJSON },
		"gitlab":    func(p Preset) bool { return p.RefreshSendsRedirectURI },
		"auth0":     func(p Preset) bool { return p.NeedsAudience },
		"microsoft": func(p Preset) bool { return p.RedirectHost == "localhost" },
		"google":    func(p Preset) bool { return len(p.AuthParams) > 0 },
	}
	for owner, has := range only {
		for _, name := range Names() {
			if name != owner && has(mustLookup(t, name)) {
				t.Errorf("%s has a quirk that belongs to %s only", name, owner)
			}
		}
	}
	if mustLookup(t, "okta").IsGrantError("bad_refresh_token", "") {
		t.Error("bad_refresh_token is a GitHub code; okta must not match it")
	}
	if mustLookup(t, "okta").IsGrantError("invalid_request", "already been claimed") {
		t.Error("Dex's reuse marker must not apply to okta")
	}
}

func TestNamesSortedAndComplete(t *testing.T) {
	want := []string{"auth0", "dex", "generic", "github", "gitlab", "google", "hydra", "keycloak", "microsoft", "okta", "salesforce"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}
