package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/flows"
	"github.com/tokctl/tokctl/lockfile"
	"github.com/tokctl/tokctl/providers"
)

func loginCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:  "login",
		Usage: "log in through the browser (authorization code + PKCE), a device code, or as a service account",
		Description: `Opens the provider's login page and waits for its redirect to a listener on 127.0.0.1
(PKCE S256, state, nonce, RFC 9207 iss checked; the ID token verified). The URL is always printed
on stderr first. Without a display or over SSH, or with --no-browser, open the URL anywhere and
paste the address the browser ends on. --device shows a code to enter on another device.
A profile set up with --grant client_credentials logs in with its client secret.

While one login waits for the user, other tokctl processes for the profile wait for it and use
its result: one browser tab, never two.

Examples:
   tokctl login --profile work
   tokctl login --profile work --no-browser     # over SSH
   tokctl login --profile work --device`,
		Flags: withGlobals(
			&cli.BoolFlag{Name: "device", Usage: "use the device flow (RFC 8628): enter a code on another device"},
			&cli.BoolFlag{Name: "no-browser", Usage: "print the URL and read the final redirect URL from stdin"},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Minute, Usage: "give up waiting for the user after `DURATION`"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("login takes no arguments")
			}
			p, prof, err := loadProfile(c)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
			defer cancel()
			_, err = u.login(ctx, p, prof, loginMode{device: c.Bool("device"), noBrowser: c.Bool("no-browser")})
			return err
		},
	}
}

type loginMode struct{ device, noBrowser bool }

// login runs one login for the profile under its login lock and stores the result. If another
// process's login finishes while this one waits for the lock, its credential is used instead.
func (u *ui) login(ctx context.Context, p config.Paths, prof *config.Profile, mode loginMode) (*creds.Credential, error) {
	store, err := u.openStore(p, prof, interactiveKeyringTimeout)
	if err != nil {
		return nil, err
	}
	defer closeStore(store)
	if isFleet(store) {
		// A fleet store must answer before the user logs in: a login it cannot store is lost.
		// It keeps its own lock; nothing is written in the local home.
		if _, err := store.Load(); err != nil && !errors.Is(err, creds.ErrNotFound) {
			var corrupt *creds.CorruptError
			if !errors.As(err, &corrupt) {
				return nil, err
			}
		}
	} else if err := config.EnsurePrivateDir(p.CredentialDir()); err != nil {
		return nil, err
	}
	before := store.Stamp()
	other := func() *creds.Credential { // a login that finished while we waited
		if store.Stamp() == before {
			return nil
		}
		if c, err := store.Load(); err == nil && !c.Expired(time.Now()) {
			return c
		}
		return nil
	}
	if !isFleet(store) { // one login at a time on this host (a fleet store: no lock file here)
		path := p.CredentialFile(prof.Name) + ".login.lock"
		if holder, held, _ := lockfile.Inspect(path); held && holder != nil {
			u.infof("tokctl: waiting for the login in progress (%s) …", holder)
		}
		lock, err := lockfile.Acquire(ctx, path, lockfile.Options{Command: "tokctl login", Watch: func() bool { return other() != nil }})
		if errors.Is(err, lockfile.ErrNotNeeded) {
			if c := other(); c != nil {
				u.infof("tokctl: logged in by the other login; using its credential")
				return c, nil
			}
			return nil, errors.New("login: the credential changed while waiting for the other login; run the login again")
		}
		if err != nil {
			return nil, err
		}
		defer lock.Release()
	}
	if c := other(); c != nil {
		u.infof("tokctl: logged in by the other login; using its credential")
		return c, nil
	}
	cred, err := u.runLogin(ctx, prof, mode)
	if err != nil {
		return nil, err
	}
	src := &creds.Source{Store: store, LockPath: p.LockFile(prof.Name), Command: "tokctl login"}
	if err := src.Replace(ctx, cred); err != nil {
		return nil, err
	}
	u.loginEvent(p, prof, cred)
	who := ""
	if claims, err := flows.ParseClaims(cred.IDToken); err == nil && claims.Who() != "" {
		who = " as " + claims.Who()
	}
	u.infof("tokctl: logged in to profile %q%s (%s)", prof.Name, who, describe(cred, time.Now()))
	if isFleet(store) {
		u.infof("tokctl: every host whose profile %q uses %s now shares this credential", prof.Name, store.Location())
	}
	return cred, nil
}

// runLogin performs the grant the profile and flags call for.
func (u *ui) runLogin(ctx context.Context, prof *config.Profile, mode loginMode) (*creds.Credential, error) {
	preset, _ := providers.Lookup(prof.Provider)
	secret, err := clientSecret(prof.ClientSecretEnv, prof.ClientSecretFile)
	if err != nil {
		return nil, err
	}
	if prof.Grant == "client_credentials" {
		r, err := refresher(prof)
		if err != nil {
			return nil, err
		}
		return r.Refresh(ctx, nil)
	}
	cfg := oauth2.Config{
		ClientID: prof.ClientID, ClientSecret: secret, Scopes: preset.ScopesFor(prof.Scopes),
		Endpoint: oauth2.Endpoint{AuthURL: prof.AuthURL, TokenURL: prof.TokenURL, DeviceAuthURL: prof.DeviceURL, AuthStyle: authStyle(preset, secret)},
	}
	params := map[string]string{}
	for k, v := range preset.AuthParams {
		params[k] = v
	}
	if prof.Audience != "" {
		params["audience"] = prof.Audience
	}
	if mode.device {
		var stop func()
		show := func(r *oauth2.DeviceAuthResponse) { u.showDeviceCode(r); stop = u.progress("waiting for the approval") }
		c, err := (&flows.Device{Config: cfg, AuthParams: params, Lifetime: preset.DefaultLifetime, Show: show}).Run(ctx)
		if stop != nil {
			stop()
		}
		return c, loginError(err)
	}
	if prof.AuthURL == "" {
		return nil, usageErrorf("profile %q has no authorization endpoint: set --auth-url or --issuer (or use --device)", prof.Name)
	}
	open, why := browserChoice(mode.noBrowser)
	port := prof.RedirectPort
	flow := &flows.AuthCode{
		Config: cfg, RedirectHost: preset.RedirectHost, RedirectPort: port, AuthParams: params,
		Issuer: prof.Issuer, RequireIss: prof.IssParameter, Lifetime: preset.DefaultLifetime,
	}
	if open {
		flow.Show = func(url string) {
			u.infof("tokctl: opening your browser to log in; if it does not open, visit:\n\n    %s\n", url)
		}
		flow.Open = u.openBrowser
	} else {
		flow.Show = func(url string) {
			u.infof("tokctl: not opening a browser (%s). Open this URL in a browser on any machine:\n\n    %s\n", why, url)
			u.infof("After logging in, the browser goes to http://127.0.0.1:…/callback, which may not load there.\nPaste that address here and press Enter:")
		}
		flow.Pasted = u.pastedRedirects()
	}
	stop := u.progress("waiting for the browser")
	res, err := flow.Run(ctx)
	stop()
	if err != nil {
		return nil, loginError(err)
	}
	if res.Credential.IDToken != "" {
		if prof.JWKSURL == "" {
			u.warnf("the ID token was not verified: the profile has no issuer discovery (set --issuer)")
		} else if _, err := flows.VerifyIDToken(ctx, flows.NewHTTPClient(), prof.Issuer, prof.JWKSURL, prof.ClientID, res.Nonce, res.Credential.IDToken); err != nil {
			return nil, withHint(ExitError, fmt.Errorf("login: %w", err), "nothing was stored; check the profile's issuer and client id")
		}
	}
	return res.Credential, nil
}

func loginError(err error) error {
	if errors.Is(err, flows.ErrLoginRejected) {
		return withHint(ExitError, err, "nothing was stored; run the login again")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return withHint(ExitError, err, "the login timed out; run it again (or raise --timeout)")
	}
	return err
}

func (u *ui) showDeviceCode(r *oauth2.DeviceAuthResponse) {
	if r.VerificationURIComplete != "" {
		u.infof("tokctl: to log in, visit\n\n    %s\n\nand check that it shows the code %s.", r.VerificationURIComplete, r.UserCode)
		return
	}
	u.infof("tokctl: to log in, visit %s and enter the code\n\n    %s\n", r.VerificationURI, r.UserCode)
}
