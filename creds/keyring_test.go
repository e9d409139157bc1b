package creds

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// memKeyring is an in-memory keychain with a per-item size limit, like Windows' 2560 bytes.
type memKeyring struct {
	mu    sync.Mutex
	items map[string]string
	limit int
	block chan struct{} // when non-nil, every call waits on it: a keychain stuck on a prompt
}

func newMemKeyring(limit int) *memKeyring {
	return &memKeyring{items: map[string]string{}, limit: limit}
}

func (m *memKeyring) wait() {
	if m.block != nil {
		<-m.block
	}
}

func (m *memKeyring) Get(service, user string) (string, error) {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *memKeyring) Set(service, user, password string) error {
	m.wait()
	if m.limit > 0 && len(password) > m.limit {
		return keyring.ErrSetDataTooBig
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[service+"/"+user] = password
	return nil
}

func (m *memKeyring) Delete(service, user string) error {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.items, service+"/"+user)
	return nil
}

func (m *memKeyring) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

func bigCredential(idTokenLen int) *Credential {
	return &Credential{
		AccessToken: "at_" + strings.Repeat("a", 1500), RefreshToken: "rt_" + strings.Repeat("r", 900),
		IDToken: "id_" + strings.Repeat("i", idTokenLen), TokenType: "Bearer",
		Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Scope: "openid offline_access",
	}
}

func TestKeyringStoreRoundTripsSmallCredentialInOneItem(t *testing.T) {
	kr := newMemKeyring(2560)
	s := &KeyringStore{Service: "tokctl", Account: "work", backend: kr}
	want := &Credential{AccessToken: "at_1", RefreshToken: "rt_1", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour).Round(time.Second)}
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	if kr.count() != 1 || !strings.HasPrefix(kr.items["tokctl/work"], "{") {
		t.Fatalf("a small credential should be one plain JSON item: %d items", kr.count())
	}
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != want.AccessToken || got.RefreshToken != want.RefreshToken || !got.Expiry.Equal(want.Expiry) {
		t.Fatalf("got %+v", got)
	}
}

// An 8 KB ID token must not break login on Windows (2560-byte items): the credential is split.
func TestKeyringStoreSplitsWhatDoesNotFitOneItem(t *testing.T) {
	kr := newMemKeyring(2560)
	s := &KeyringStore{Service: "tokctl", Account: "work", MaxItem: 2560, backend: kr}
	want := bigCredential(8000)
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	if kr.count() < 5 {
		t.Fatalf("want the credential split over several items, have %d", kr.count())
	}
	got, err := (&KeyringStore{Service: "tokctl", Account: "work", MaxItem: 2560, backend: kr}).Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.IDToken != want.IDToken || got.AccessToken != want.AccessToken || got.RefreshToken != want.RefreshToken {
		t.Fatal("the split credential did not come back whole")
	}

	// A smaller credential replaces it, and the chunks it no longer needs are deleted.
	if err := s.Save(&Credential{AccessToken: "at_2", RefreshToken: "rt_2"}); err != nil {
		t.Fatal(err)
	}
	if kr.count() != 1 {
		t.Fatalf("stale chunks left behind: %d items", kr.count())
	}
	if err := s.Delete(); err != nil || kr.count() != 0 {
		t.Fatalf("delete: %v, %d items left", err, kr.count())
	}
}

// A reader must never assemble parts of two different writes.
func TestKeyringStoreNeverMixesTwoWrites(t *testing.T) {
	kr := newMemKeyring(0)
	s := &KeyringStore{Service: "tokctl", Account: "work", MaxItem: 1000, backend: kr}
	if err := s.Save(bigCredential(3000)); err != nil {
		t.Fatal(err)
	}
	// A sibling's Save of a new credential has written its later chunks but not yet its
	// first item: those chunks belong to another generation than the first item names.
	old := kr.items["tokctl/work"]
	next := bigCredential(3000)
	next.AccessToken = "at_" + strings.Repeat("b", 1500)
	if err := s.Save(next); err != nil {
		t.Fatal(err)
	}
	kr.items["tokctl/work"] = old
	_, err := (&KeyringStore{Service: "tokctl", Account: "work", MaxItem: 1000, backend: kr}).Load()
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "another write") {
		t.Fatalf("want a corrupt error naming the mixed write, got %v", err)
	}
}

func TestKeyringStoreMissingCredentialIsNotFound(t *testing.T) {
	s := &KeyringStore{Service: "tokctl", Account: "nobody", backend: newMemKeyring(0)}
	if _, err := s.Load(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	if err := s.Delete(); err != nil {
		t.Fatalf("deleting nothing: %v", err)
	}
}

// go-keyring can block forever on an unlock prompt; every call gives up at the timeout.
func TestKeyringStoreCallsGiveUpAtTheTimeout(t *testing.T) {
	kr := newMemKeyring(0)
	kr.block = make(chan struct{})
	defer close(kr.block)
	s := &KeyringStore{Service: "tokctl", Account: "work", Timeout: 100 * time.Millisecond, backend: kr}
	for name, op := range map[string]func() error{
		"load":   func() error { _, err := s.Load(); return err },
		"save":   func() error { return s.Save(&Credential{AccessToken: "at_x"}) },
		"delete": s.Delete,
	} {
		start := time.Now()
		err := op()
		if !errors.Is(err, ErrKeyringTimeout) {
			t.Errorf("%s: want ErrKeyringTimeout, got %v", name, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %s", name, d)
		}
	}
}

func TestKeyringStoreErrorsNameNoSecret(t *testing.T) {
	kr := newMemKeyring(10)
	s := &KeyringStore{Service: "tokctl", Account: "work", MaxItem: 100000, backend: kr}
	err := s.Save(&Credential{AccessToken: "at_secret-value", RefreshToken: "rt_secret-value"})
	var ke *KeyringError
	if !errors.As(err, &ke) || !errors.Is(err, keyring.ErrSetDataTooBig) {
		t.Fatalf("want a KeyringError for a too-big item, got %v", err)
	}
	if strings.Contains(err.Error(), "secret-value") {
		t.Fatalf("error leaks a token: %v", err)
	}
}

func TestKeyringStoreStampChangesOnSave(t *testing.T) {
	s := &KeyringStore{Service: "tokctl", Account: "work", StampPath: t.TempDir() + "/work.keyring", backend: newMemKeyring(0)}
	before := s.Stamp()
	if err := s.Save(&Credential{AccessToken: "at_1"}); err != nil {
		t.Fatal(err)
	}
	after := s.Stamp()
	if after == "" || after == before {
		t.Fatalf("stamp did not change on save: %q → %q", before, after)
	}
}
