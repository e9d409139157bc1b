package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/redisstore"
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

// openStore returns the store that keeps prof's credential: the 0600 file, the keychain, or a
// Redis store shared by a fleet (opened without connecting; close it with closeStore). The
// error is a configuration error: an unreadable password file, a bad CA file.
func (u *ui) openStore(p config.Paths, prof *config.Profile, timeout time.Duration) (store, error) {
	if isRedisStore(prof.Store) {
		return u.openRedis(prof)
	}
	return storeOfKind(p, prof.Name, prof.Store, timeout), nil
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
		return validateStore(prof)
	}
	return nil
}

// storeName names a store setting: file, keyring, or the Redis URL (which never holds a
// password).
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
			Usage: "move a profile's credential to the keychain, a file, or a Redis store shared by a fleet",
			Description: `Moves the credential holding both stores' locks (the lock file, and a Redis store's own
lock), so no refresh can interleave: it is written to the new store, read back and compared,
the profile is switched, and only then is the old copy deleted. Killed at any moment, at least
one complete copy remains.

Into Redis: every host whose profile of the same name points at the same Redis then shares the
credential. A credential already stored there (by another host) is never overwritten: copying
this host's over it would roll the whole fleet back to an older refresh token, which the
provider may have revoked. To use the fleet's credential on this host instead, run "tokctl
profile set NAME --store URL"; to replace the fleet's with this host's anyway, add --force.

Out of Redis: the credential leaves Redis (two copies of one rotating refresh token would each
revoke the other), so the other hosts sharing it must log in again.

Examples:
   tokctl store migrate --profile work --to keyring
   tokctl store migrate --profile work --to file
   TOKCTL_REDIS_PASSWORD=… tokctl store migrate --profile work --to redis://redis.internal:6379/0`,
			Flags: withGlobals(append([]cli.Flag{
				&cli.StringFlag{Name: "to", Required: true, Usage: "`STORE`: keyring, file, or a Redis URL (redis://[USER@]HOST:PORT/DB, rediss://…, redis+sentinel://…)"},
				&cli.BoolFlag{Name: "force", Usage: "into Redis: replace a credential already stored there (by another host) with this host's"},
				&cli.DurationFlag{Name: "lock-timeout", Value: creds.DefaultLockTimeout, Usage: "give up waiting for a refresh in progress after `DURATION` (exit 4)"},
			}, storeFlags()...)...),
			Action: func(c *cli.Context) error { return u.storeMigrate(c) },
		}},
	}
}

func (u *ui) storeMigrate(c *cli.Context) error {
	to := c.String("to")
	if to != "keyring" && to != "file" && !isRedisStore(to) {
		return usageErrorf("--to must be keyring, file or a Redis URL (redis://HOST:PORT/DB), not %q", to)
	}
	p, prof, err := loadProfile(c)
	if err != nil {
		return err
	}
	if storeName(prof.Store) == to {
		u.infof("profile %q already keeps its credential in the %s store", prof.Name, to)
		return nil
	}
	next := *prof // the profile as it will be
	next.Store = to
	if to == "file" {
		next.Store = ""
	}
	if !isRedisStore(to) {
		next.StorePasswordEnv, next.StorePasswordFile, next.StoreCAFile = "", "", ""
	}
	if err := applyStoreFlags(c, &next); err != nil {
		return err
	}
	if err := validateStore(&next); err != nil {
		return err
	}
	from, err := u.openStore(p, prof, interactiveKeyringTimeout)
	if err != nil {
		return err
	}
	defer closeStore(from)
	dst, err := u.openStore(p, &next, interactiveKeyringTimeout)
	if err != nil {
		return err
	}
	defer closeStore(dst)
	if !isFleet(from) || !isFleet(dst) { // the lock file lives there
		if err := config.EnsurePrivateDir(p.CredentialDir()); err != nil {
			return err
		}
	}
	source := func(s creds.Store) *creds.Source {
		return &creds.Source{Store: s, LockPath: p.LockFile(prof.Name), LockTimeout: c.Duration("lock-timeout"), Command: "tokctl store migrate"}
	}
	moved, joined := false, false
	err = bothLocked(c.Context, source(from), source(dst), func(src, dh creds.Held) error {
		faultPoint("migrate:locked")
		cred, err := src.Load()
		switch {
		case errors.Is(err, creds.ErrNotFound):
			if isFleet(dst) {
				_, err := dh.Load()
				joined = err == nil
			}
		case err != nil:
			return err
		default:
			if isFleet(dst) && !c.Bool("force") {
				_, err := dh.Load()
				if err == nil {
					return withHint(ExitError, fmt.Errorf("%s already holds a credential for profile %q (stored by another host); copying this host's over it would roll every host back to an older refresh token, which the provider may have revoked", dst.Location(), prof.Name),
						fmt.Sprintf("this host can use it: \"tokctl profile set %s --store %s\" (this host's own stays in %s, unused); to replace the fleet's with this host's anyway, add --force", prof.Name, to, from.Location()))
				}
				if !errors.Is(err, creds.ErrNotFound) {
					var corrupt *creds.CorruptError
					if !errors.As(err, &corrupt) {
						return err
					}
				}
			}
			if err := copyVerified(cred, dh, dst.Location()); err != nil {
				return err
			}
			moved = true
			faultPoint("migrate:copied")
		}
		if err := p.SaveProfile(&next); err != nil {
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
	switch {
	case moved:
		u.infof("moved the credential of profile %q to %s", prof.Name, dst.Location())
		if isFleet(from) {
			u.warnf("the other hosts that shared profile %q through %s must now log in again (or move a credential back there)", prof.Name, from.Location())
		}
	case joined:
		u.infof("profile %q now uses the credential already in %s (there was none here to move)", prof.Name, dst.Location())
	default:
		u.infof("profile %q now keeps its credential in the %s store (there was none to move)", prof.Name, to)
	}
	return nil
}

// bothLocked runs fn holding the locks of both sources: the one lock file, when neither store
// keeps its own lock, else each store's lock, taken in a fixed order (the lock file first, then
// fleet stores by location) so that two migrations cannot each hold one and wait for the other.
func bothLocked(ctx context.Context, a, b *creds.Source, fn func(ha, hb creds.Held) error) error {
	if !isFleet(a.Store) && !isFleet(b.Store) {
		return a.Locked(ctx, func(h creds.Held) error { return fn(h, plainHeld{b.Store}) })
	}
	order := func(s *creds.Source) string {
		if isFleet(s.Store) {
			return "1" + s.Store.Location()
		}
		return "0"
	}
	first, second, swapped := a, b, false
	if order(b) < order(a) {
		first, second, swapped = b, a, true
	}
	return first.Locked(ctx, func(h1 creds.Held) error {
		return second.Locked(ctx, func(h2 creds.Held) error {
			if swapped {
				return fn(h2, h1)
			}
			return fn(h1, h2)
		})
	})
}

// plainHeld reads and writes a store guarded by a lock already held for another store.
type plainHeld struct{ s creds.Store }

func (h plainHeld) Load() (*creds.Credential, error) { return h.s.Load() }
func (h plainHeld) Save(c *creds.Credential) error   { return h.s.Save(c) }
func (h plainHeld) Deadline() time.Time              { return time.Time{} }
func (h plainHeld) Release()                         {}

// copyVerified saves cred through dst (the destination, held) and reads it back; a copy that
// differs is an error, and the source is then left alone.
func copyVerified(cred *creds.Credential, dst creds.Held, where string) error {
	if err := dst.Save(cred); err != nil {
		return err
	}
	back, err := dst.Load()
	if err != nil {
		return fmt.Errorf("read back the copy in %s: %w", where, err)
	}
	same := back.AccessToken == cred.AccessToken && back.RefreshToken == cred.RefreshToken &&
		back.IDToken == cred.IDToken && back.Scope == cred.Scope && back.Expiry.Equal(cred.Expiry) &&
		back.TokenType == cred.TokenType && sameExtra(back.Extra, cred.Extra)
	if !same {
		return fmt.Errorf("the copy in %s does not read back equal; the original is kept", where)
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
// credential would be left behind. "tokctl store migrate" moves it. prof is the profile with its
// new store; from is the store it had.
//
// Leaving a Redis store is allowed: the credential stays there for the other hosts. Joining one
// that already holds a credential is allowed too (this host then uses the fleet's; its own stays
// where it is, unused), since moving this host's there would overwrite the fleet's.
func (u *ui) keepsCredential(p config.Paths, prof *config.Profile, from string) error {
	name, to := prof.Name, prof.Store
	if storeName(from) == storeName(to) {
		return nil
	}
	if isRedisStore(from) {
		if t, err := redisstore.ParseURL(from); err == nil {
			u.infof("this host no longer uses the credential of profile %q in %s; it stays there for the other hosts", name, t)
		}
		return nil
	}
	old := storeOfKind(p, name, from, keyringTimeout)
	if _, err := old.Load(); errors.Is(err, creds.ErrNotFound) {
		return nil
	}
	if isRedisStore(to) {
		if fleet, err := u.openRedis(prof); err == nil {
			_, err := fleet.Load()
			fleet.Close()
			if err == nil {
				u.warnf("profile %q now uses the credential already in %s; this host's own stays, unused, in %s", name, fleet.Location(), old.Location())
				return nil
			}
		}
	}
	return withHint(ExitUsage, fmt.Errorf("profile %q keeps a credential in %s", name, old.Location()),
		fmt.Sprintf("move it with \"tokctl store migrate --profile %s --to %s\"", name, storeName(to)))
}
