package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/providers"
)

func tokenCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "print a valid access token, refreshing it once if needed",
		UsageText: `tokctl token [--profile NAME] [--min-ttl 60s] [--lock-timeout 30s] [--output token|header|json]
   tokctl token --creds-file PATH --token-url URL --client-id ID [--client-secret-env VAR] [--provider P]`,
		Description: `Prints the profile's access token when it is valid for at least --min-ttl: no lock, no network.
Otherwise takes the lock beside the credential, re-reads it, refreshes once if a sibling has not
already, saves atomically, and prints. Any number of concurrent callers cause one refresh.

With --creds-file, works on a credential file that another program owns: its shape and unknown
fields are kept, and the lock is PATH.lock, compatible with "set -o noclobber" shell locks.

Examples:
   curl -H @<(tokctl token --output header) https://api.example.com/me
   TOKEN=$(tokctl token --profile work) || exit
   tokctl token --creds-file ~/.config/app/creds.json --token-url https://idp.example.com/token --client-id app`,
		Flags: withGlobals(
			&cli.DurationFlag{Name: "min-ttl", Value: creds.DefaultMinTTL, Usage: "refresh when the token is valid for less than `DURATION`"},
			&cli.DurationFlag{Name: "lock-timeout", Value: creds.DefaultLockTimeout, Usage: "give up waiting for another refresh after `DURATION` (exit 4)"},
			&cli.DurationFlag{Name: "timeout", Value: creds.DefaultRefreshTimeout, Usage: "give up on the provider after `DURATION`, retries included (exit 5, or the old token while it works)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "token", Usage: "`FORMAT`: token, header (Authorization: Bearer …) or json"},
			&cli.StringFlag{Name: "creds-file", Usage: "refresh the credential file at `PATH` owned by another program instead of a profile"},
			&cli.StringFlag{Name: "token-url", Usage: "with --creds-file: the token endpoint `URL`"},
			&cli.StringFlag{Name: "client-id", Usage: "with --creds-file: the OAuth2 client `ID`"},
			&cli.StringFlag{Name: "client-secret-env", Usage: "with --creds-file: read the client secret from environment variable `VAR`"},
			&cli.StringFlag{Name: "provider", Usage: "with --creds-file: provider preset `P` for its quirks (default generic)"},
			&cli.BoolFlag{Name: "allow-insecure-http", Usage: "with --creds-file: allow a plain http:// --token-url on a non-loopback host"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "when a login is required, run it (browser) instead of exiting 3"},
		),
		Action: func(c *cli.Context) error { return u.token(c) },
	}
}

func (u *ui) token(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("token takes no arguments, got %q", c.Args().First())
	}
	format := c.String("output")
	if format != "token" && format != "header" && format != "json" {
		return usageErrorf("--output must be token, header or json, not %q", format)
	}
	minTTL := c.Duration("min-ttl")
	if minTTL == 0 {
		minTTL = -1 // creds.Source: zero means the default, negative means none
	}
	var (
		src  *creds.Source
		hint string
		err  error
		p    config.Paths
		prof *config.Profile
	)
	if path := c.String("creds-file"); path != "" {
		src, err = u.foreignSource(c, path, minTTL)
		hint = fmt.Sprintf("the program that owns %s must log in again", path)
	} else {
		if p, prof, err = loadProfile(c); err != nil {
			return err
		}
		var st store
		if st, err = u.openStore(p, prof, keyringTimeout); err != nil {
			return err
		}
		defer closeStore(st)
		src, err = u.source(p, prof, st, minTTL, c.Duration("lock-timeout"))
		hint = fmt.Sprintf("run \"tokctl login --profile %s\" (or \"tokctl import --profile %s FILE\")", prof.Name, prof.Name)
	}
	if err != nil {
		return err
	}
	src.RefreshTimeout = c.Duration("timeout")
	cred, err := src.Get(c.Context)
	var login *creds.LoginRequiredError
	if errors.As(err, &login) && c.Bool("interactive") && prof != nil {
		u.infof("tokctl: %v; logging in", err)
		cred, err = u.login(c.Context, p, prof, loginMode{})
	}
	if errors.As(err, &login) {
		return withHint(ExitLogin, err, hint)
	}
	if err != nil {
		return err
	}
	return u.printToken(cred, format)
}

// foreignSource is the transaction on a credential file another program owns (--creds-file).
func (u *ui) foreignSource(c *cli.Context, path string, minTTL time.Duration) (*creds.Source, error) {
	preset, ok := providers.Lookup(c.String("provider"))
	if !ok {
		return nil, usageErrorf("unknown provider %q (known: %s)", c.String("provider"), strings.Join(providers.Names(), ", "))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, usageErrorf("--creds-file %q: %v", path, err)
	}
	// A symbolic link is followed deliberately, once, here: the file another program owns may
	// be linked from elsewhere (dotfiles). The lock (TARGET.lock), the temporary file and the
	// rename then all happen beside the real file, which is rewritten in place of being
	// replaced by a regular file where the link was.
	if target, err := filepath.EvalSymlinks(abs); err == nil {
		abs = target
	}
	if err := config.CheckEndpointInsecure("--token-url", c.String("token-url"), c.Bool("allow-insecure-http")); err != nil && c.String("token-url") != "" {
		return nil, &userError{code: ExitUsage, err: err}
	}
	secret, err := clientSecret(c.String("client-secret-env"), "")
	if err != nil {
		return nil, err
	}
	r, err := newRefresher(preset, c.String("token-url"), c.String("client-id"), secret, nil)
	if err != nil {
		return nil, err
	}
	if err := config.CheckPrivateDir(filepath.Dir(abs)); err != nil {
		return nil, fmt.Errorf("--creds-file: %w", err)
	}
	return &creds.Source{
		Store: creds.NewFileStore(abs), Refresher: r, LockPath: abs + ".lock",
		MinTTL: minTTL, LockTimeout: c.Duration("lock-timeout"), Command: "tokctl token --creds-file", Warnf: u.warnf, Debugf: u.debugf,
	}, nil
}

func (u *ui) printToken(c *creds.Credential, format string) error {
	switch format {
	case "header":
		typ := c.Type()
		if strings.EqualFold(typ, "bearer") {
			typ = "Bearer"
		}
		_, err := fmt.Fprintf(u.stdout, "Authorization: %s %s\n", typ, c.AccessToken)
		return err
	case "json":
		out := struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			ExpiresAt   string `json:"expires_at,omitempty"`
		}{c.AccessToken, c.Type(), ""}
		if !c.Expiry.IsZero() {
			out.ExpiresAt = c.Expiry.UTC().Format(time.RFC3339)
		}
		return json.NewEncoder(u.stdout).Encode(out)
	}
	_, err := fmt.Fprintln(u.stdout, c.AccessToken)
	return err
}
