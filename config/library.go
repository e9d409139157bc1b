package config

import (
	"fmt"
	"os"
	"strings"

	"github.com/tokctl/tokctl/creds"
)

// This file is for Go programs that share a credential with tokctl: a creds.Source built on
// what OpenStore returns takes part in the same single refresh as "tokctl token --profile NAME".

// Default returns the directories tokctl uses when it is given no --home: $TOKCTL_HOME when set,
// else the XDG directories ($XDG_CONFIG_HOME/tokctl and $XDG_STATE_HOME/tokctl, by default under
// $HOME).
func Default() (Paths, error) {
	return ResolvePaths(os.Getenv("TOKCTL_HOME"), os.Getenv)
}

// OpenStore returns the store that keeps prof's credential and the lock file that serialises
// its refreshes, exactly as "tokctl token" opens them: for the file store CredentialFile and
// LockFile, for the keychain store the item KeyringService/KeyringAccount (with its stamp file)
// and LockFile. Use both in a creds.Source:
//
//	store, lockPath, err := p.OpenStore(prof)
//	src := &creds.Source{Store: store, LockPath: lockPath, Refresher: …}
//
// It creates the credential directory (mode 0700) when missing, as tokctl does, and refuses one
// that group or others may write. Nothing is read yet: a missing credential is reported by the
// Source (a *creds.LoginRequiredError).
//
// A profile whose store is Redis (a credential shared by a fleet) is refused: its password and
// CA come from the places the profile names; open it with redisstore.Open, whose Store keeps its
// own lock (creds.LockingStore), so that no lock path is needed.
func (p Paths) OpenStore(prof *Profile) (store creds.Store, lockPath string, err error) {
	if err := ValidName(prof.Name); err != nil {
		return nil, "", err
	}
	if strings.Contains(prof.Store, "://") { // redis://, rediss://, redis+sentinel:// …
		return nil, "", fmt.Errorf("profile %q keeps its credential in the Redis store %s, not in a file or the keychain: open it with redisstore.Open", prof.Name, prof.Store)
	}
	if err := EnsurePrivateDir(p.CredentialDir()); err != nil {
		return nil, "", err
	}
	if prof.Store == "keyring" {
		store = &creds.KeyringStore{Service: KeyringService, Account: p.KeyringAccount(prof.Name),
			Timeout: creds.DefaultKeyringTimeout, StampPath: p.KeyringStamp(prof.Name)}
	} else {
		store = creds.NewFileStore(p.CredentialFile(prof.Name))
	}
	return store, p.LockFile(prof.Name), nil
}
