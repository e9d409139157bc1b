package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
)

// Keychain timeouts: a keychain answers in milliseconds, so a call that takes seconds is
// waiting on an unlock prompt. Commands that may show one (login, store migrate) wait longer.
const (
	keyringTimeout            = creds.DefaultKeyringTimeout
	interactiveKeyringTimeout = 60 * time.Second
)

// store is what both stores offer: the credential, and a cheap stamp that changes with it.
type store interface {
	creds.Store
	creds.Stamper
}

// openStore returns the store that keeps prof's credential: the 0600 file, or the keychain.
func openStore(p config.Paths, prof *config.Profile, timeout time.Duration) store {
	return storeOfKind(p, prof.Name, prof.Store, timeout)
}

func storeOfKind(p config.Paths, name, kind string, timeout time.Duration) store {
	if kind == "keyring" {
		return &creds.KeyringStore{Service: config.KeyringService, Account: p.KeyringAccount(name),
			Timeout: timeout, StampPath: p.KeyringStamp(name)}
	}
	return creds.NewFileStore(p.CredentialFile(name))
}

// keyringHint tells what to do about a keychain that cannot be used.
func keyringHint(err *creds.KeyringError) string {
	const fallback = "or keep the credential in a 0600 file: \"tokctl store migrate --profile NAME --to file\" (before the first login: \"tokctl profile set NAME --store file\")"
	msg := err.Err.Error()
	switch {
	case errors.Is(err, creds.ErrKeyringTimeout):
		return "the keychain is probably locked and waiting for an unlock prompt: unlock it (Linux: your desktop's keyring, or \"gnome-keyring-daemon --unlock\"), " + fallback
	case strings.Contains(msg, "unlock"):
		return "the keychain is locked: unlock it, " + fallback
	case strings.Contains(msg, "dbus") || strings.Contains(msg, "org.freedesktop.secrets") || strings.Contains(msg, "connect"):
		return "no Secret Service answers on the D-Bus session bus: install and start one (gnome-keyring, KeePassXC), " + fallback
	}
	return fallback
}

// probeKeyring reports whether the keychain answers and is unlocked, by looking up an item
// that does not exist.
func probeKeyring(p config.Paths) error {
	probe := storeOfKind(p, "tokctl-probe", "keyring", keyringTimeout)
	if _, err := probe.Load(); err != nil && !errors.Is(err, creds.ErrNotFound) {
		return err
	}
	return nil
}

// resolveStore checks --store and turns "auto" into the store it picks: the keychain when one
// answers, else the file, with a warning said once, here, and never again behind the user's back.
func (u *ui) resolveStore(p config.Paths, prof *config.Profile) error {
	switch prof.Store {
	case "", "file":
		prof.Store = ""
	case "keyring":
		if err := probeKeyring(p); err != nil {
			u.warnf("the keychain cannot be used now (%v); \"tokctl token\" fails until it can", err)
		}
	case "auto":
		if err := probeKeyring(p); err != nil {
			u.warnf("no usable keychain (%v); keeping the credential in %s (mode 0600)", err, p.CredentialFile(prof.Name))
			prof.Store = ""
		} else {
			prof.Store = "keyring"
		}
	default:
		return usageErrorf("--store must be file, keyring or auto, not %q", prof.Store)
	}
	return nil
}

func storeName(kind string) string {
	if kind == "" {
		return "file"
	}
	return kind
}

func storeCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:  "store",
		Usage: "manage where a profile's credential is kept",
		Subcommands: []*cli.Command{{
			Name:  "migrate",
			Usage: "move a profile's credential to the keychain or to a file",
			Description: `Moves the credential under the profile's lock, so no refresh can interleave: it is
written to the new store, read back and compared, the profile is switched, and only then is
the old copy deleted. Killed at any moment, at least one complete copy remains.

Examples:
   tokctl store migrate --profile work --to keyring
   tokctl store migrate --profile work --to file`,
			Flags: withGlobals(
				&cli.StringFlag{Name: "to", Required: true, Usage: "`STORE`: keyring or file"},
				&cli.DurationFlag{Name: "lock-timeout", Value: creds.DefaultLockTimeout, Usage: "give up waiting for a refresh in progress after `DURATION` (exit 4)"},
			),
			Action: func(c *cli.Context) error { return u.storeMigrate(c) },
		}},
	}
}

func (u *ui) storeMigrate(c *cli.Context) error {
	to := c.String("to")
	if to != "keyring" && to != "file" {
		return usageErrorf("--to must be keyring or file, not %q", to)
	}
	p, prof, err := loadProfile(c)
	if err != nil {
		return err
	}
	if storeName(prof.Store) == to {
		u.infof("profile %q already keeps its credential in the %s store", prof.Name, to)
		return nil
	}
	if err := config.EnsurePrivateDir(p.CredentialDir()); err != nil {
		return err
	}
	from := openStore(p, prof, interactiveKeyringTimeout)
	dst := storeOfKind(p, prof.Name, to, interactiveKeyringTimeout)
	src := &creds.Source{Store: from, LockPath: p.LockFile(prof.Name), LockTimeout: c.Duration("lock-timeout"), Command: "tokctl store migrate"}
	moved := false
	err = src.Locked(c.Context, func(creds.Held) error {
		faultPoint("migrate:locked")
		cred, err := from.Load()
		switch {
		case errors.Is(err, creds.ErrNotFound):
		case err != nil:
			return err
		default:
			if err := copyVerified(cred, dst); err != nil {
				return err
			}
			moved = true
			faultPoint("migrate:copied")
		}
		prof.Store = to
		if to == "file" {
			prof.Store = ""
		}
		if err := p.SaveProfile(prof); err != nil {
			return fmt.Errorf("switch profile %q to the %s store: %w", prof.Name, to, err)
		}
		faultPoint("migrate:switched")
		if moved {
			if err := from.Delete(); err != nil {
				return fmt.Errorf("the credential is now in %s, but the old copy in %s could not be deleted: %w", dst.Location(), from.Location(), err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if moved {
		u.infof("moved the credential of profile %q to %s", prof.Name, dst.Location())
	} else {
		u.infof("profile %q now keeps its credential in the %s store (there was none to move)", prof.Name, to)
	}
	return nil
}

// copyVerified saves cred in dst and reads it back; a copy that differs is an error, and the
// source is then left alone.
func copyVerified(cred *creds.Credential, dst creds.Store) error {
	if err := dst.Save(cred); err != nil {
		return err
	}
	back, err := dst.Load()
	if err != nil {
		return fmt.Errorf("read back the copy in %s: %w", dst.Location(), err)
	}
	same := back.AccessToken == cred.AccessToken && back.RefreshToken == cred.RefreshToken &&
		back.IDToken == cred.IDToken && back.Scope == cred.Scope && back.Expiry.Equal(cred.Expiry) &&
		back.TokenType == cred.TokenType && sameExtra(back.Extra, cred.Extra)
	if !same {
		return fmt.Errorf("the copy in %s does not read back equal; the original is kept", dst.Location())
	}
	return nil
}

// sameExtra compares the fields tokctl does not own by their JSON values, not their spacing.
func sameExtra(a, b map[string]json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		var ca, cb bytes.Buffer
		vb, ok := b[k]
		if !ok || json.Compact(&ca, va) != nil || json.Compact(&cb, vb) != nil || !bytes.Equal(ca.Bytes(), cb.Bytes()) {
			return false
		}
	}
	return true
}

// keepsCredential refuses to switch a profile's store under a credential it holds: that
// credential would be left behind. "tokctl store migrate" moves it.
func keepsCredential(p config.Paths, name, from, to string) error {
	if storeName(from) == storeName(to) {
		return nil
	}
	old := storeOfKind(p, name, from, keyringTimeout)
	if _, err := old.Load(); errors.Is(err, creds.ErrNotFound) {
		return nil
	}
	return withHint(ExitUsage, fmt.Errorf("profile %q keeps a credential in %s", name, old.Location()),
		fmt.Sprintf("move it with \"tokctl store migrate --profile %s --to %s\"", name, storeName(to)))
}
