package commands

import (
	"context"
	"errors"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/flows"
	"github.com/tokctl/tokctl/providers"
)

func logoutCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:  "logout",
		Usage: "revoke the profile's tokens at the provider and delete them locally",
		Description: `Revokes the refresh token (and the access token) at the provider's revocation endpoint
(RFC 7009), then deletes the stored credential — with a Redis store, the one every host of the
fleet shares. Without a network, or without a revocation
endpoint, the local credential is still deleted, with a warning: the provider may keep the grant
alive until it expires.

Example:
   tokctl logout --profile work`,
		Flags:  withGlobals(),
		Action: func(c *cli.Context) error { return u.logout(c) },
	}
}

func (u *ui) logout(c *cli.Context) error {
	p, prof, err := loadProfile(c)
	if err != nil {
		return err
	}
	store, err := u.openStore(p, prof, keyringTimeout)
	if err != nil {
		return err
	}
	defer closeStore(store)
	cred, err := store.Load()
	if errors.Is(err, creds.ErrNotFound) {
		u.infof("tokctl: profile %q is not logged in", prof.Name)
		return nil
	}
	if err != nil {
		return err
	}
	u.revokeAll(c.Context, prof, cred)
	src := &creds.Source{Store: store, LockPath: p.LockFile(prof.Name), Command: "tokctl logout"}
	if err := src.Delete(c.Context); err != nil {
		return err
	}
	u.infof("tokctl: logged out of profile %q", prof.Name)
	if isFleet(store) {
		u.infof("tokctl: the credential is gone from %s: every host sharing it must log in again", store.Location())
	}
	return nil
}

// revokeAll revokes what the credential holds; failures are warnings, not errors.
func (u *ui) revokeAll(ctx context.Context, prof *config.Profile, cred *creds.Credential) {
	if prof.RevokeURL == "" {
		u.warnf("the provider has no revocation endpoint in this profile: the grant stays valid at the provider until it expires")
		return
	}
	preset, _ := providers.Lookup(prof.Provider)
	secret, _ := clientSecret(prof.ClientSecretEnv, prof.ClientSecretFile)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	client := flows.NewHTTPClient()
	for _, t := range []struct{ value, hint string }{{cred.RefreshToken, "refresh_token"}, {cred.AccessToken, "access_token"}} {
		if t.value == "" {
			continue
		}
		if err := flows.Revoke(ctx, client, prof.RevokeURL, prof.ClientID, secret, authStyle(preset, secret), t.value, t.hint); err != nil {
			u.warnf("%v; deleting the local credential anyway", err)
			return
		}
	}
}
