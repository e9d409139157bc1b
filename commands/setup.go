package commands

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/flows"
	"github.com/tokctl/tokctl/providers"
)

// global returns a global flag's value whether it was given before the command or after it.
func global(c *cli.Context, name string) string {
	for _, cc := range c.Lineage() {
		if slices.Contains(cc.LocalFlagNames(), name) {
			return cc.String(name)
		}
	}
	return c.String(name)
}

// paths resolves --home / TOKCTL_HOME or the XDG directories.
func paths(c *cli.Context) (config.Paths, error) {
	p, err := config.ResolvePaths(global(c, "home"), os.Getenv)
	if err != nil {
		return p, &userError{code: ExitUsage, err: err}
	}
	return p, nil
}

// loadProfile reads the profile named by --profile / TOKCTL_PROFILE.
func loadProfile(c *cli.Context) (config.Paths, *config.Profile, error) {
	p, err := paths(c)
	if err != nil {
		return p, nil, err
	}
	prof, err := p.LoadProfile(global(c, "profile"))
	if err != nil {
		return p, nil, &userError{code: ExitUsage, err: err, hint: hintFor(err)}
	}
	return p, prof, nil
}

func hintFor(err error) string {
	_, hint := classify(err)
	return hint
}

// refresher builds the token-endpoint client for a profile. It reads the client secret from
// the environment variable the profile names; nothing here touches the network.
func refresher(prof *config.Profile) (*flows.Refresher, error) {
	preset, _ := providers.Lookup(prof.Provider)
	return newRefresher(preset, prof.TokenURL, prof.ClientID, prof.ClientSecretEnv, redirectParam(preset, prof))
}

func newRefresher(preset providers.Preset, tokenURL, clientID, secretEnv string, params url.Values) (*flows.Refresher, error) {
	if tokenURL == "" {
		return nil, usageErrorf("no token endpoint: set --token-url (or --issuer) on the profile")
	}
	if clientID == "" {
		return nil, usageErrorf("no client id: set --client-id")
	}
	secret := ""
	if secretEnv != "" {
		if secret = os.Getenv(secretEnv); secret == "" {
			return nil, usageErrorf("the client secret variable %s is empty or unset", secretEnv)
		}
	} else if preset.NeedsClientSecret {
		return nil, usageErrorf("provider %s needs a client secret to refresh: set --client-secret-env VAR", preset.Name)
	}
	style := preset.AuthStyle
	if secret == "" || style == oauth2.AuthStyleAutoDetect {
		style = oauth2.AuthStyleInParams // a public client identifies itself in the body
	}
	return &flows.Refresher{
		TokenURL: tokenURL, ClientID: clientID, ClientSecret: secret, AuthStyle: style, Params: params,
		IsGrantError: preset.IsGrantError, Lifetime: preset.DefaultLifetime,
	}, nil
}

// redirectParam repeats the login's redirect_uri on refresh for providers that demand it (GitLab).
func redirectParam(preset providers.Preset, prof *config.Profile) url.Values {
	if !preset.RefreshSendsRedirectURI || prof.RedirectPort == 0 {
		return nil
	}
	host := preset.RedirectHost
	if host == "" {
		host = "127.0.0.1"
	}
	return url.Values{"redirect_uri": {fmt.Sprintf("http://%s:%d/callback", host, prof.RedirectPort)}}
}

// source assembles the refresh transaction for a profile's file-stored credential.
func (u *ui) source(p config.Paths, prof *config.Profile, store creds.Store, minTTL, lockTimeout time.Duration) (*creds.Source, error) {
	r, err := refresher(prof)
	if err != nil {
		return nil, err
	}
	if err := config.EnsurePrivateDir(p.CredentialDir()); err != nil {
		return nil, err
	}
	return &creds.Source{
		Store: store, Refresher: r, LockPath: p.LockFile(prof.Name),
		MinTTL: minTTL, LockTimeout: lockTimeout, Command: "tokctl token",
		Warnf: u.warnf, Debugf: u.debugf,
	}, nil
}
