package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolvePaths(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	p, _ := ResolvePaths("/h", env(nil))
	if p.Config != "/h" || p.State != "/h" {
		t.Fatalf("--home: %+v", p)
	}
	p, _ = ResolvePaths("", env(map[string]string{"HOME": "/u"}))
	if p.Config != "/u/.config/tokctl" || p.State != "/u/.local/state/tokctl" {
		t.Fatalf("XDG defaults: %+v", p)
	}
	p, _ = ResolvePaths("", env(map[string]string{"XDG_CONFIG_HOME": "/c", "XDG_STATE_HOME": "/s"}))
	if p.Config != "/c/tokctl" || p.State != "/s/tokctl" || p.LockFile("w") != "/s/tokctl/credentials/w.json.lock" {
		t.Fatalf("XDG dirs: %+v", p)
	}
	if _, err := ResolvePaths("", env(nil)); err == nil {
		t.Fatal("no HOME and no XDG dirs: want an error")
	}
}

func TestProfileNames(t *testing.T) {
	for _, ok := range []string{"default", "work-2", "a.b_c"} {
		if ValidName(ok) != nil {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", ".hidden", "-flag", "a/b", "../x", "a b", strings.Repeat("x", 65)} {
		if ValidName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestProfileRoundTripAndTypos(t *testing.T) {
	p := Paths{Config: t.TempDir()}
	in := &Profile{Name: "w", TokenURL: "https://idp/token", ClientID: "c", Scopes: []string{"openid"}}
	if err := p.SaveProfile(in); err != nil {
		t.Fatal(err)
	}
	out, err := p.LoadProfile("w")
	if err != nil || out.TokenURL != in.TokenURL || out.Scopes[0] != "openid" {
		t.Fatalf("LoadProfile = %+v, %v", out, err)
	}
	names, _ := p.ListProfiles()
	if len(names) != 1 || names[0] != "w" {
		t.Fatalf("ListProfiles = %v", names)
	}
	// A hand-edited profile with a misspelt key is an error, not a silently ignored setting.
	os.WriteFile(p.ProfileFile("typo"), []byte(`{"client_id":"c","tokenurl":"x"}`), 0o600)
	if _, err := p.LoadProfile("typo"); err == nil || !strings.Contains(err.Error(), "tokenurl") {
		t.Fatalf("LoadProfile of a typo: %v", err)
	}
	if _, err := p.LoadProfile("none"); !errors.Is(err, ErrNoProfile) {
		t.Fatalf("missing profile: %v", err)
	}
	if err := p.RemoveProfile("w"); err != nil {
		t.Fatal(err)
	}
	if err := p.RemoveProfile("w"); !errors.Is(err, ErrNoProfile) {
		t.Fatalf("second remove: %v", err)
	}
}

func TestCheckEndpoint(t *testing.T) {
	for _, ok := range []string{"https://idp.example.com/token", "http://127.0.0.1:8080/t", "http://localhost/t", "http://[::1]:9/t"} {
		if err := CheckEndpoint("--token-url", ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://idp.example.com/token", "idp.example.com/token", "ftp://x/y", "https://", "http://127.0.0.1.evil.com/t"} {
		if err := CheckEndpoint("--token-url", bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestPrivateDirs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := EnsurePrivateDir(dir); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v", st.Mode())
	}
	os.Chmod(dir, 0o777)
	if err := CheckPrivateDir(dir); err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("world-writable dir: %v", err)
	}
}
