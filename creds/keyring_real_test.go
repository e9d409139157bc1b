package creds

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// realKeyring skips the test unless a Secret Service answers on the session bus; with
// TOKCTL_TEST_KEYRING=1 (set by test.sh, which starts gnome-keyring) it fails instead.
func realKeyring(t *testing.T) {
	t.Helper()
	probe := &KeyringStore{Service: "tokctl-test", Account: "probe", Timeout: 3 * time.Second}
	_, err := probe.get("probe")
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return
	}
	if os.Getenv("TOKCTL_TEST_KEYRING") == "1" {
		t.Fatalf("TOKCTL_TEST_KEYRING=1 but the Secret Service does not answer: %v", err)
	}
	t.Skipf("no usable Secret Service (%v); test.sh runs these tests inside dbus-run-session with gnome-keyring", err)
}

// secretToolLookup asks the keyring through libsecret's own client, not through go-keyring.
func secretToolLookup(t *testing.T, service, account string) string {
	t.Helper()
	out, err := exec.Command("secret-tool", "lookup", "service", service, "username", account).Output()
	if err != nil {
		t.Fatalf("secret-tool lookup service %s username %s: %v", service, account, err)
	}
	return string(out)
}

func TestRealKeyringKeepsTheCredentialInTheSecretService(t *testing.T) {
	realKeyring(t)
	account := "real-" + newGeneration()
	s := &KeyringStore{Service: "tokctl-test", Account: account}
	t.Cleanup(func() { s.Delete() })
	want := &Credential{AccessToken: "at_real", RefreshToken: "rt_real", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour).Round(time.Second)}
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	if v := secretToolLookup(t, "tokctl-test", account); !strings.Contains(v, `"refresh_token":"rt_real"`) {
		t.Fatalf("secret-tool does not see the credential in the keyring (%d bytes)", len(v))
	}
	got, err := (&KeyringStore{Service: "tokctl-test", Account: account}).Load()
	if err != nil || got.RefreshToken != "rt_real" || !got.Expiry.Equal(want.Expiry) {
		t.Fatalf("load: %v %+v", err, got)
	}
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

// The splitting used on Windows and macOS, exercised against a real keyring.
func TestRealKeyringSplitsABigCredential(t *testing.T) {
	realKeyring(t)
	account := "split-" + newGeneration()
	s := &KeyringStore{Service: "tokctl-test", Account: account, MaxItem: 2560}
	t.Cleanup(func() { s.Delete() })
	want := bigCredential(6000)
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	if v := secretToolLookup(t, "tokctl-test", account+"#2"); v == "" {
		t.Fatal("no second chunk in the keyring")
	}
	got, err := (&KeyringStore{Service: "tokctl-test", Account: account, MaxItem: 2560}).Load()
	if err != nil || got.IDToken != want.IDToken {
		t.Fatalf("load: %v", err)
	}
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command("secret-tool", "lookup", "service", "tokctl-test", "username", account+"#2").Output(); len(out) != 0 {
		t.Fatal("delete left a chunk in the keyring")
	}
}
