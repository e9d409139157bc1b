package commands

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
)

func importCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "store a token response (RFC 6749 §5.1 JSON) as the profile's credential",
		ArgsUsage: "[FILE|-]",
		Description: `Reads a token endpoint's JSON answer — access_token, token_type, expires_in, refresh_token,
scope, id_token — from FILE or standard input and stores it for the profile. expires_in counts
from the moment of the import. The write takes the profile's lock, so it never interleaves with
a refresh in flight.

Examples:
   tokctl import --profile work response.json
   curl -s -d grant_type=... https://idp.example.com/token | tokctl import --profile work -`,
		Flags:  withGlobals(),
		Action: func(c *cli.Context) error { return u.importCredential(c) },
	}
}

func (u *ui) importCredential(c *cli.Context) error {
	if c.NArg() > 1 {
		return usageErrorf("import takes one FILE (or - for standard input)")
	}
	p, prof, err := loadProfile(c)
	if err != nil {
		return err
	}
	name := c.Args().First()
	var in io.Reader = u.stdin
	if name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return &userError{code: ExitUsage, err: fmt.Errorf("import: %w", err)}
		}
		defer f.Close()
		in = f
	}
	data, err := io.ReadAll(io.LimitReader(in, 1<<20+1))
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if len(data) > 1<<20 {
		return usageErrorf("import: input larger than 1 MiB; that is not a token response")
	}
	cred, err := creds.ParseTokenResponse(data, time.Now())
	if err != nil {
		return usageErrorf("import: not a token response: %v", err)
	}
	st, err := u.openStore(p, prof, keyringTimeout)
	if err != nil {
		return err
	}
	defer closeStore(st)
	if !isFleet(st) { // a fleet store keeps its own lock: nothing is written here
		if err := config.EnsurePrivateDir(p.CredentialDir()); err != nil {
			return err
		}
	}
	src := &creds.Source{Store: st, LockPath: p.LockFile(prof.Name), Command: "tokctl import"}
	if err := src.Replace(c.Context, cred); err != nil {
		return err
	}
	u.infof("imported a credential for profile %q: %s", prof.Name, describe(cred, time.Now()))
	if isFleet(st) {
		u.infof("every host whose profile %q uses %s now shares it", prof.Name, st.Location())
	}
	return nil
}

// describe says what a credential holds without showing any of it.
func describe(c *creds.Credential, now time.Time) string {
	s := "access token "
	switch {
	case c.AccessToken == "":
		s += "absent"
	case c.Expiry.IsZero():
		s += "with unknown expiry"
	case c.Expiry.After(now):
		s += "valid for " + c.Expiry.Sub(now).Round(time.Second).String()
	default:
		s += "expired " + now.Sub(c.Expiry).Round(time.Second).String() + " ago"
	}
	if c.RefreshToken != "" {
		return s + ", refresh token present"
	}
	return s + ", no refresh token"
}
