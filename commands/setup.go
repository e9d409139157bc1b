package commands

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

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

// refresher builds the token-endpoint client for a profile: the refresh grant, or for a service
// account the client-credentials grant. It reads the client secret from the variable or file
// the profile names; nothing here touches the network.
func refresher(prof *config.Profile) (creds.Refresher, error) {
	preset, _ := providers.Lookup(prof.Provider)
	secret, err := clientSecret(prof.ClientSecretEnv, prof.ClientSecretFile)
	if err != nil {
		return nil, err
	}
	if prof.Grant == "client_credentials" {
		return &flows.ClientCredentials{Config: clientcredentials.Config{
			ClientID: prof.ClientID, ClientSecret: secret, TokenURL: prof.TokenURL, Scopes: prof.Scopes,
			AuthStyle: authStyle(preset, secret), EndpointParams: audienceParam(prof),
		}, Lifetime: preset.DefaultLifetime}, nil
	}
	return newRefresher(preset, prof.TokenURL, prof.ClientID, secret, redirectParam(preset, prof))
}

func audienceParam(prof *config.Profile) url.Values {
	if prof.Audience == "" {
		return nil
	}
	return url.Values{"audience": {prof.Audience}}
}

// authStyle is the preset's client authentication; a public client names itself in the body.
func authStyle(preset providers.Preset, secret string) oauth2.AuthStyle {
	if secret == "" || preset.AuthStyle == oauth2.AuthStyleAutoDetect {
		return oauth2.AuthStyleInParams
	}
	return preset.AuthStyle
}

func newRefresher(preset providers.Preset, tokenURL, clientID, secret string, params url.Values) (*flows.Refresher, error) {
	if tokenURL == "" {
		return nil, usageErrorf("no token endpoint: set --token-url (or --issuer) on the profile")
	}
	if clientID == "" {
		return nil, usageErrorf("no client id: set --client-id")
	}
	if secret == "" && preset.NeedsClientSecret {
		return nil, usageErrorf("provider %s needs a client secret to refresh: set --client-secret-env VAR", preset.Name)
	}
	style := authStyle(preset, secret)
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

// source assembles the refresh transaction for a profile's credential. A fleet store (Redis)
// keeps its own lock and rejection record: nothing is then created in the local state directory
// (LockPath is set but never used).
func (u *ui) source(p config.Paths, prof *config.Profile, store creds.Store, minTTL, lockTimeout time.Duration) (*creds.Source, error) {
	r, err := refresher(prof)
	if err != nil {
		return nil, err
	}
	if !isFleet(store) {
		if err := config.EnsurePrivateDir(p.CredentialDir()); err != nil {
			return nil, err
		}
	}
	return &creds.Source{
		Store: store, Refresher: r, LockPath: p.LockFile(prof.Name),
		MinTTL: minTTL, LockTimeout: lockTimeout, Command: "tokctl token",
		Warnf: u.warnf, Debugf: u.debugf, Events: u.eventHook(p, prof),
	}, nil
}
