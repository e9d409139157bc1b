package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/gitcred"
	"github.com/tokctl/tokctl/providers"
)

func profileCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:  "profile",
		Usage: "create, list, show and remove profiles",
		Subcommands: []*cli.Command{
			profileSetCommand(u),
			{
				Name: "list", Usage: "list profiles", Flags: withGlobals(),
				Description: "Example:\n   tokctl profile list",
				Action:      func(c *cli.Context) error { return u.profileList(c) },
			},
			{
				Name: "show", Usage: "show a profile's settings (no secrets)", ArgsUsage: "[NAME]", Flags: withGlobals(),
				Description: "Example:\n   tokctl profile show work",
				Action:      func(c *cli.Context) error { return u.profileShow(c) },
			},
			{
				Name: "remove", Usage: "remove a profile and its stored credential", ArgsUsage: "NAME", Flags: withGlobals(),
				Description: "The refresh token is deleted locally, not revoked at the provider.\n\nExample:\n   tokctl profile remove old",
				Action:      func(c *cli.Context) error { return u.profileRemove(c) },
			},
		},
	}
}

func profileSetCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:      "set",
		Usage:     "create or update a profile",
		ArgsUsage: "NAME",
		Description: `Creates the profile, or changes only the settings given. --provider picks a preset with the
provider's endpoints and quirks; --issuer discovers the endpoints (OIDC discovery or RFC 8414)
once, now, so that "tokctl token" never fetches them. Secrets never go in argv or the profile:
--client-secret-env names the environment variable that holds the client secret.

Providers: ` + strings.Join(providers.Names(), ", ") + `

Examples:
   tokctl profile set work --provider okta --issuer https://example.okta.com/oauth2/default --client-id 0oa1b2c3
   tokctl profile set ci --token-url https://idp.example.com/oauth2/token --client-id ci --client-secret-env CI_SECRET
   tokctl profile set ms --provider microsoft --tenant contoso.onmicrosoft.com --client-id 1111-2222
   tokctl profile set ci --store redis://redis.internal:6379/0 --store-password-file /etc/tokctl/redis-password

With a Redis --store, every host whose profile of the same name points at the same Redis shares
one credential (and one lock: still exactly one refresh). The Redis password is read from
` + defaultRedisPasswordEnv + `, the variable named by --store-password-env, or --store-password-file.`,
		Flags: withGlobals(append([]cli.Flag{
			&cli.StringFlag{Name: "provider", Usage: "provider preset `P` (see above)"},
			&cli.StringFlag{Name: "issuer", Usage: "issuer `URL`; endpoints come from its discovery document"},
			&cli.StringFlag{Name: "auth-url", Usage: "authorization endpoint `URL`"},
			&cli.StringFlag{Name: "token-url", Usage: "token endpoint `URL`"},
			&cli.StringFlag{Name: "device-url", Usage: "device authorization endpoint `URL`"},
			&cli.StringFlag{Name: "revoke-url", Usage: "revocation endpoint `URL`"},
			&cli.StringFlag{Name: "client-id", Usage: "OAuth2 client `ID`"},
			&cli.StringFlag{Name: "client-secret-env", Usage: "environment variable `VAR` holding the client secret"},
			&cli.StringFlag{Name: "client-secret-file", Usage: "`FILE` (mode 0600) holding the client secret"},
			&cli.StringFlag{Name: "grant", Usage: "`GRANT`: authorization_code (default) or client_credentials for a service account"},
			&cli.StringSliceFlag{Name: "scope", Usage: "`SCOPE` to request (repeat the flag for more)"},
			&cli.StringFlag{Name: "audience", Usage: "`AUDIENCE` parameter (Auth0)"},
			&cli.StringFlag{Name: "store", Usage: "where the credential is kept: `STORE` file (0600, default), keyring (the OS keychain), auto (the keychain when one answers, else the file), or a Redis URL shared by a fleet (redis://[USER@]HOST:PORT/DB, rediss://…, redis+sentinel://H:P[,H:P…]/MASTER/DB; ?prefix=P, ?lease=10s)"},
			&cli.StringSliceFlag{Name: "host", Usage: "`HOST` or URL prefix this profile serves to git (repeat the flag for more)"},
			&cli.StringFlag{Name: "git-username", Usage: "`NAME` tokctl gives git as the username (default: the preset's)"},
			&cli.IntFlag{Name: "redirect-port", Usage: "fixed loopback redirect `PORT` for login (providers that need an exact redirect URI)"},
			&cli.StringFlag{Name: "tenant", Usage: "`TENANT` for presets with a tenant in their URLs (microsoft)"},
			&cli.StringFlag{Name: "domain", Usage: "`HOST` for presets on a per-customer domain (okta, auth0, keycloak)"},
			&cli.StringFlag{Name: "realm", Usage: "`REALM` for keycloak"},
			&cli.BoolFlag{Name: "allow-insecure-http", Usage: "accept plain http:// endpoints on non-loopback hosts (tokens cross the network in the clear)"},
		}, storeFlags()...)...),
		Action: func(c *cli.Context) error { return u.profileSet(c) },
	}
}

func (u *ui) profileSet(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErrorf("profile set takes exactly one NAME")
	}
	name := c.Args().First()
	if err := config.ValidName(name); err != nil {
		return &userError{code: ExitUsage, err: err}
	}
	p, err := paths(c)
	if err != nil {
		return err
	}
	prof, err := p.LoadProfile(name)
	if errors.Is(err, config.ErrNoProfile) {
		prof, err = &config.Profile{Name: name}, nil
	}
	if err != nil {
		return &userError{code: ExitUsage, err: err}
	}
	oldStore := prof.Store
	if err := applyProfileFlags(c, prof); err != nil {
		return err
	}
	if c.IsSet("store") {
		if err := u.resolveStore(p, prof); err != nil {
			return err
		}
		if err := u.keepsCredential(p, prof, oldStore); err != nil {
			return err
		}
	}
	if err := checkStorePasswordFile(u, prof); err != nil {
		return err
	}
	if err := p.SaveProfile(prof); err != nil {
		return err
	}
	u.infof("saved profile %q (provider %s, token endpoint %s)", name, orString(prof.Provider, "generic"), prof.TokenURL)
	if prof.AllowInsecureHTTP {
		u.warnf("profile %q allows plain http endpoints: its tokens may cross the network unencrypted", name)
	}
	return nil
}

// applyProfileFlags changes the settings given on the command line, fills endpoints from the
// preset and discovery, and validates the result.
func applyProfileFlags(c *cli.Context, prof *config.Profile) error {
	newProvider := c.IsSet("provider") && !strings.EqualFold(c.String("provider"), prof.Provider)
	if newProvider { // the old provider's endpoints no longer apply
		prof.Issuer, prof.AuthURL, prof.TokenURL, prof.DeviceURL, prof.RevokeURL = "", "", "", "", ""
	}
	for flag, dst := range map[string]*string{"provider": &prof.Provider, "issuer": &prof.Issuer, "auth-url": &prof.AuthURL,
		"token-url": &prof.TokenURL, "device-url": &prof.DeviceURL, "revoke-url": &prof.RevokeURL, "client-id": &prof.ClientID,
		"client-secret-env": &prof.ClientSecretEnv, "client-secret-file": &prof.ClientSecretFile, "audience": &prof.Audience,
		"store": &prof.Store, "grant": &prof.Grant, "git-username": &prof.GitUsername} {
		if c.IsSet(flag) {
			*dst = c.String(flag)
		}
	}
	if err := applyStoreFlags(c, prof); err != nil {
		return err
	}
	if c.IsSet("scope") {
		prof.Scopes = c.StringSlice("scope")
	}
	if c.IsSet("host") {
		prof.Hosts = c.StringSlice("host")
	}
	if c.IsSet("redirect-port") {
		prof.RedirectPort = c.Int("redirect-port")
	}
	if c.IsSet("allow-insecure-http") {
		prof.AllowInsecureHTTP = c.Bool("allow-insecure-http")
	}
	preset, ok := providers.Lookup(prof.Provider)
	if !ok {
		return usageErrorf("unknown provider %q (known: %s)", prof.Provider, strings.Join(providers.Names(), ", "))
	}
	vars := map[string]string{}
	for _, v := range []string{"tenant", "domain", "realm"} {
		if c.IsSet(v) {
			vars[v] = c.String(v)
		}
	}
	if newProvider || len(vars) > 0 || prof.TokenURL == "" {
		if err := fillFromPreset(prof, preset, vars); err != nil {
			return err
		}
	}
	if prof.Issuer != "" && (c.IsSet("issuer") || prof.TokenURL == "") {
		if err := discover(c.Context, prof); err != nil {
			return err
		}
	}
	return validateProfile(prof)
}

func validateProfile(prof *config.Profile) error {
	if prof.ClientID == "" {
		return usageErrorf("profile %q needs --client-id", prof.Name)
	}
	if prof.TokenURL == "" {
		return usageErrorf("profile %q needs a token endpoint: give --token-url, --issuer or a --provider with fixed endpoints", prof.Name)
	}
	for flag, v := range map[string]string{"--token-url": prof.TokenURL, "--auth-url": prof.AuthURL, "--device-url": prof.DeviceURL, "--revoke-url": prof.RevokeURL, "--issuer": prof.Issuer} {
		if v == "" {
			continue
		}
		if err := config.CheckEndpointInsecure(flag, v, prof.AllowInsecureHTTP); err != nil {
			return &userError{code: ExitUsage, err: err}
		}
	}
	switch prof.Grant {
	case "", "authorization_code":
		prof.Grant = ""
	case "client_credentials":
		if prof.ClientSecretEnv == "" && prof.ClientSecretFile == "" {
			return usageErrorf("--grant client_credentials needs --client-secret-env or --client-secret-file")
		}
	default:
		return usageErrorf("--grant must be authorization_code or client_credentials, not %q", prof.Grant)
	}
	if err := validateStore(prof); err != nil {
		return err
	}
	for _, h := range prof.Hosts {
		if _, err := gitcred.ParsePattern(h); err != nil {
			return usageErrorf("--host %q: %v", h, err)
		}
	}
	if prof.RedirectPort < 0 || prof.RedirectPort > 65535 {
		return usageErrorf("--redirect-port must be 1-65535")
	}
	return nil
}

func (u *ui) profileList(c *cli.Context) error {
	p, err := paths(c)
	if err != nil {
		return err
	}
	names, err := p.ListProfiles()
	if err != nil {
		return err
	}
	if len(names) == 0 {
		u.hintf("no profiles yet; create one with \"tokctl profile set NAME --client-id ID ...\"")
	}
	for _, n := range names {
		fmt.Fprintln(u.stdout, n)
	}
	return nil
}

func (u *ui) profileShow(c *cli.Context) error {
	name := c.Args().First()
	if name == "" {
		name = global(c, "profile")
	}
	p, err := paths(c)
	if err != nil {
		return err
	}
	prof, err := p.LoadProfile(name)
	if err != nil {
		return &userError{code: ExitUsage, err: err, hint: hintFor(err)}
	}
	out := struct {
		Name string `json:"name"`
		*config.Profile
		Credential string `json:"credential"`
	}{prof.Name, prof, storeLocation(p, prof)}
	enc := json.NewEncoder(u.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func (u *ui) profileRemove(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErrorf("profile remove takes exactly one NAME")
	}
	name := c.Args().First()
	p, err := paths(c)
	if err != nil {
		return err
	}
	prof, err := p.LoadProfile(name)
	if err != nil {
		return &userError{code: ExitUsage, err: err, hint: hintFor(err)}
	}
	if isRedisStore(prof.Store) { // the fleet's credential: the other hosts still use it
		if err := p.RemoveProfile(name); err != nil {
			return err
		}
		u.infof("removed profile %q from this host; its credential stays in %s for the other hosts (\"tokctl logout\" removes it for all)", name, storeLocation(p, prof))
		return nil
	}
	if _, err := os.Stat(p.CredentialDir()); err == nil {
		src := &creds.Source{Store: storeOfKind(p, name, prof.Store, keyringTimeout), LockPath: p.LockFile(name), Command: "tokctl profile remove"}
		if err := src.Delete(c.Context); err != nil {
			return err
		}
	}
	if err := p.RemoveProfile(name); err != nil {
		return err
	}
	u.infof("removed profile %q and its stored credential (not revoked at the provider)", name)
	return nil
}
