// Package config finds tokctl's directories and reads and writes profiles: one small,
// human-readable JSON file per profile under the config directory. Credentials live under the
// state directory, one file per profile, with their lock files beside them.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Paths are the two roots of tokctl's files.
type Paths struct {
	Config string // profiles/NAME.json
	State  string // credentials/NAME.json and their .lock files
}

// ResolvePaths returns the roots: both are home when it is set (--home / TOKCTL_HOME), else
// $XDG_CONFIG_HOME/tokctl and $XDG_STATE_HOME/tokctl with the XDG defaults under $HOME.
func ResolvePaths(home string, getenv func(string) string) (Paths, error) {
	if home != "" {
		abs, err := filepath.Abs(home)
		if err != nil {
			return Paths{}, fmt.Errorf("home %q: %w", home, err)
		}
		return Paths{Config: abs, State: abs}, nil
	}
	cfg, state := getenv("XDG_CONFIG_HOME"), getenv("XDG_STATE_HOME")
	if cfg == "" || state == "" {
		h := getenv("HOME")
		if h == "" {
			return Paths{}, errors.New("cannot find a home for tokctl's files: set --home, TOKCTL_HOME or HOME")
		}
		if cfg == "" {
			cfg = filepath.Join(h, ".config")
		}
		if state == "" {
			state = filepath.Join(h, ".local", "state")
		}
	}
	return Paths{Config: filepath.Join(cfg, "tokctl"), State: filepath.Join(state, "tokctl")}, nil
}

// ProfileFile is where profile name is stored.
func (p Paths) ProfileFile(name string) string {
	return filepath.Join(p.Config, "profiles", name+".json")
}

// CredentialFile is where the file store keeps profile name's credential.
func (p Paths) CredentialFile(name string) string {
	return filepath.Join(p.CredentialDir(), name+".json")
}

// KeyringService is the service name of tokctl's keychain items.
const KeyringService = "tokctl"

// KeyringAccount names profile name's keychain item. It carries the state directory, so that
// two tokctl homes (TOKCTL_HOME) never share an item.
func (p Paths) KeyringAccount(name string) string { return name + "@" + p.State }

// KeyringStamp is the small non-secret file the keychain store rewrites after each change, so
// that callers waiting for a sibling's refresh notice it without asking the keychain.
func (p Paths) KeyringStamp(name string) string { return p.CredentialFile(name) + ".keyring" }

// CredentialDir holds the credentials and their lock files; it is kept at mode 0700.
func (p Paths) CredentialDir() string { return filepath.Join(p.State, "credentials") }

// LockFile is the cross-process lock of profile name's credential.
func (p Paths) LockFile(name string) string { return p.CredentialFile(name) + ".lock" }

// EnsurePrivateDir creates dir with mode 0700 (and missing parents 0700), and refuses an
// existing dir that group or others can write, since the lock and credential live there.
func EnsurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return CheckPrivateDir(dir)
}
