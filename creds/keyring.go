package creds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultKeyringTimeout bounds one keychain call when KeyringStore.Timeout is zero. A keychain
// answers in milliseconds; one that takes seconds is waiting for an unlock prompt nobody sees.
const DefaultKeyringTimeout = 5 * time.Second

// ErrKeyringTimeout means the keychain did not answer within the store's timeout.
var ErrKeyringTimeout = errors.New("the keychain did not answer in time")

// KeyringError reports a keychain that cannot be used: no Secret Service on the bus, a locked
// collection, a timeout, an item too big. Errors never hold secrets.
type KeyringError struct {
	Op       string // "read", "write" or "delete"
	Location string
	Err      error
}

func (e *KeyringError) Error() string {
	return fmt.Sprintf("cannot %s %s: %v", e.Op, e.Location, e.Err)
}

func (e *KeyringError) Unwrap() error { return e.Err }

// KeyringStore keeps a credential in the OS keychain (macOS Keychain, Windows Credential
// Manager, a Secret Service such as gnome-keyring on Linux) through go-keyring, as one generic
// password item under Service and Account.
//
// Every keychain call runs under Timeout: go-keyring can block forever on an unlock prompt, and
// tokctl must not. A call that times out keeps running in the background until the process
// exits; the caller gets a *KeyringError wrapping ErrKeyringTimeout.
//
// The whole credential — access, refresh and ID token, expiry, scope, unknown fields — is one
// JSON value. Where it does not fit one item (Windows allows 2560 bytes, macOS about 4 KiB, and
// ID tokens alone can be larger), it is split over items Account, Account#2, … (see chunks.go),
// written so that a reader sees the old credential or the new one, never a mix.
//
// StampPath, when set, names a small non-secret file that Save and Delete rewrite afterwards, so
// that Stamp can tell waiters cheaply that a sibling has refreshed (Stamper), as the file store's
// own metadata does. Locking stays with Source and its lock file.
type KeyringStore struct {
	Service, Account string
	Timeout          time.Duration
	// MaxItem is the most bytes one item may hold; zero means the platform's limit.
	MaxItem   int
	StampPath string

	backend keyringBackend // go-keyring unless a test says otherwise
	chunks  int            // how many items the last Load or Save saw; stale ones are removed
}

// keyringBackend is the part of go-keyring the store uses.
type keyringBackend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}
func (goKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// Location implements Store.
func (s *KeyringStore) Location() string {
	return fmt.Sprintf("keychain item %q (service %q)", s.Account, s.Service)
}

// Load implements Store.
func (s *KeyringStore) Load() (*Credential, error) {
	data, n, err := s.readChunks()
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("%w in %s", ErrNotFound, s.Location())
	}
	if err != nil {
		return nil, err
	}
	s.chunks = n
	c, err := parseCredential(data, time.Time{})
	if err != nil {
		return nil, &CorruptError{s.Location(), err}
	}
	return c, nil
}

// Save implements Store.
func (s *KeyringStore) Save(c *Credential) error {
	data, err := c.encode(time.Now())
	if err != nil {
		return fmt.Errorf("encode credential: %w", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return fmt.Errorf("encode credential: %w", err)
	}
	if s.chunks == 0 {
		s.chunks = s.storedChunks() // not loaded first: learn what an earlier Save left
	}
	n, err := s.writeChunks(compact.Bytes())
	if err != nil {
		return err
	}
	s.removeChunksAfter(n)
	return s.touchStamp()
}

// Delete implements Store; deleting a missing credential is not an error.
func (s *KeyringStore) Delete() error {
	s.chunks = s.storedChunks()
	if err := s.call("delete", s.Account, func(b keyringBackend) (string, error) {
		return "", b.Delete(s.Service, s.Account)
	}); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	s.removeChunksAfter(1)
	return s.touchStamp()
}

// Stamp implements Stamper from StampPath's metadata ("" when there is no stamp file).
func (s *KeyringStore) Stamp() string {
	if s.StampPath == "" {
		return ""
	}
	st, err := os.Stat(s.StampPath)
	if err != nil {
		return ""
	}
	return strconv.FormatUint(inode(st), 10) + "/" + strconv.FormatInt(st.Size(), 10) + "/" + strconv.FormatInt(st.ModTime().UnixNano(), 10)
}

// touchStamp rewrites the stamp file atomically with a new generation (no secret in it).
func (s *KeyringStore) touchStamp() error {
	if s.StampPath == "" {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.StampPath), "."+filepath.Base(s.StampPath)+".tmp*")
	if err != nil {
		return fmt.Errorf("keychain stamp: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(strconv.FormatInt(time.Now().UnixNano(), 10) + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.StampPath)
	}
	if err != nil {
		return fmt.Errorf("keychain stamp: %w", err)
	}
	return nil
}

// call runs one keychain operation under the timeout and wraps its failure.
func (s *KeyringStore) call(op, account string, f func(keyringBackend) (string, error)) error {
	_, err := s.callValue(op, account, f)
	return err
}

func (s *KeyringStore) callValue(op, account string, f func(keyringBackend) (string, error)) (string, error) {
	b := s.backend
	if b == nil {
		b = goKeyring{}
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1) // buffered: a call that outlives the timeout does not leak a blocked send
	go func() {
		v, err := f(b)
		done <- result{v, err}
	}()
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		switch {
		case r.err == nil:
			return r.v, nil
		case errors.Is(r.err, keyring.ErrNotFound):
			return "", r.err
		}
		return "", &KeyringError{Op: op, Location: s.Location(), Err: r.err}
	case <-timer.C:
		return "", &KeyringError{Op: op, Location: s.Location(), Err: fmt.Errorf("%w (%s)", ErrKeyringTimeout, timeout)}
	}
}
