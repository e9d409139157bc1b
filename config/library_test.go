package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokctl/tokctl/creds"
)

func TestDefaultHonoursTokctlHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("TOKCTL_HOME", home)
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if p.Config != home || p.State != home {
		t.Fatalf("Default() = %+v, want both roots %s", p, home)
	}
}

func TestOpenStoreIsWhatTokctlUses(t *testing.T) {
	p := Paths{Config: t.TempDir(), State: filepath.Join(t.TempDir(), "state")}

	store, lock, err := p.OpenStore(&Profile{Name: "work"})
	if err != nil {
		t.Fatal(err)
	}
	fs, ok := store.(*creds.FileStore)
	if !ok || fs.Path != filepath.Join(p.State, "credentials", "work.json") {
		t.Fatalf("file profile: store %#v", store)
	}
	if lock != fs.Path+".lock" || lock != p.LockFile("work") {
		t.Fatalf("file profile: lock %s", lock)
	}
	if fi, err := os.Stat(p.CredentialDir()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("credential directory: %v %v", fi, err)
	}

	store, lock, err = p.OpenStore(&Profile{Name: "work", Store: "keyring"})
	if err != nil {
		t.Fatal(err)
	}
	ks, ok := store.(*creds.KeyringStore)
	if !ok || ks.Service != KeyringService || ks.Account != p.KeyringAccount("work") || ks.StampPath != p.KeyringStamp("work") || ks.Timeout <= 0 {
		t.Fatalf("keyring profile: store %#v", store)
	}
	if lock != p.LockFile("work") {
		t.Fatalf("keyring profile: lock %s", lock)
	}

	if _, _, err := p.OpenStore(&Profile{Name: "fleet", Store: "redis://redis.internal:6379/0"}); err == nil || !strings.Contains(err.Error(), "redisstore") {
		t.Fatalf("Redis profile: err = %v, want a pointer to redisstore", err)
	}
	if _, _, err := p.OpenStore(&Profile{Name: "../x"}); err == nil {
		t.Fatal("an invalid profile name was accepted")
	}
}

func TestOpenStoreRefusesAWritableDirectory(t *testing.T) {
	p := Paths{Config: t.TempDir(), State: t.TempDir()}
	if err := os.MkdirAll(p.CredentialDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p.CredentialDir(), 0o777); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.OpenStore(&Profile{Name: "work"}); err == nil {
		t.Fatal("a credential directory others may write was accepted")
	}
}
