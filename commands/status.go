package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/flows"
	"github.com/tokctl/tokctl/lockfile"
	"github.com/tokctl/tokctl/redisstore"
)

func statusCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show the profile's credential state (never a token)",
		Description: `Shows the profile, provider, store, when the access token expires, its scopes, whether a
refresh token is stored, the last refresh failure and who holds the lock. Tokens are never
printed, not even in part.

Examples:
   tokctl status --profile work
   tokctl status --json | jq .expires_at`,
		Flags:  withGlobals(&cli.BoolFlag{Name: "json", Usage: "print JSON"}),
		Action: func(c *cli.Context) error { return u.status(c) },
	}
}

type statusReport struct {
	Profile       string     `json:"profile"`
	Provider      string     `json:"provider"`
	Store         string     `json:"store"`
	Location      string     `json:"location"`
	LoggedIn      bool       `json:"logged_in"`
	User          string     `json:"user,omitempty"`
	Subject       string     `json:"subject,omitempty"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	Expired       bool       `json:"expired"`
	Scopes        []string   `json:"scopes,omitempty"`
	RefreshToken  bool       `json:"refresh_token"`
	RefreshFailed string     `json:"refresh_failed,omitempty"`
	LockHolder    string     `json:"lock_holder,omitempty"`
}

func (u *ui) status(c *cli.Context) error {
	p, prof, err := loadProfile(c)
	if err != nil {
		return err
	}
	store, err := u.openStore(p, prof, keyringTimeout)
	if err != nil {
		return err
	}
	defer closeStore(store)
	r := statusReport{Profile: prof.Name, Provider: orString(prof.Provider, "generic"), Store: orString(prof.Store, "file"), Location: store.Location()}
	if isRedisStore(prof.Store) {
		r.Store = "redis"
	}
	cred, err := store.Load()
	switch {
	case errors.Is(err, creds.ErrNotFound):
	case err != nil:
		return err
	default:
		now := time.Now()
		r.LoggedIn, r.RefreshToken, r.Expired = true, cred.RefreshToken != "", cred.Expired(now)
		if !cred.Expiry.IsZero() {
			exp := cred.Expiry.UTC()
			r.ExpiresAt = &exp
		}
		r.Scopes = strings.Fields(cred.Scope)
		if claims, err := flows.ParseClaims(cred.IDToken); err == nil {
			r.User, r.Subject = claims.Who(), claims.Subject
		}
		r.RefreshFailed = creds.RecordedFailure(store, p.LockFile(prof.Name), cred.RefreshToken)
	}
	if rs, ok := store.(*redisstore.Store); ok {
		if holder, err := rs.Holder(c.Context); err == nil && holder != nil {
			r.LockHolder = holder.String()
		}
	} else if holder, held, err := lockfile.Inspect(p.LockFile(prof.Name)); err == nil && held && holder != nil {
		r.LockHolder = holder.String()
	}
	if c.Bool("json") {
		enc := json.NewEncoder(u.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	u.printStatus(r)
	return nil
}

func (u *ui) printStatus(r statusReport) {
	w := u.stdout
	fmt.Fprintf(w, "profile:        %s\nprovider:       %s\nstore:          %s (%s)\n", r.Profile, r.Provider, r.Store, r.Location)
	if !r.LoggedIn {
		fmt.Fprintf(w, "credential:     none (run \"tokctl login --profile %s\" or \"tokctl import\")\n", r.Profile)
	} else {
		exp := "unknown"
		if r.ExpiresAt != nil {
			d := time.Until(*r.ExpiresAt).Round(time.Second)
			if r.Expired {
				exp = fmt.Sprintf("%s (expired %s ago)", r.ExpiresAt.Format(time.RFC3339), -d)
			} else {
				exp = fmt.Sprintf("%s (in %s)", r.ExpiresAt.Format(time.RFC3339), d)
			}
		}
		if r.User != "" {
			fmt.Fprintf(w, "user:           %s\n", r.User)
		}
		fmt.Fprintf(w, "access token:   expires %s\nscopes:         %s\nrefresh token:  %s\n", exp, orString(strings.Join(r.Scopes, " "), "(none recorded)"), yesNo(r.RefreshToken))
	}
	if r.RefreshFailed != "" {
		fmt.Fprintf(w, "last refresh:   failed: %s (log in again)\n", r.RefreshFailed)
	}
	fmt.Fprintf(w, "lock:           %s\n", orString(r.LockHolder, "free"))
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "present"
	}
	return "absent"
}
