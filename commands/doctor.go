package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/flows"
	"github.com/tokctl/tokctl/lockfile"
)

// maxClockSkew is how far the local clock may be from the provider's before doctor warns: ID
// token checks and providers' own validity windows start to fail around there.
const maxClockSkew = time.Minute

func doctorCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check what \"tokctl token\" needs for a profile and say what is wrong",
		Description: `Checks the profile, the state directory, the store (file permissions, or that the
keychain answers and is unlocked), the stored credential, the lock, and the provider (reachable,
clock skew from its Date header). With a Redis store: that the server answers and accepts the
password, its round trip, role and replicas, whether it persists what it is told (appendonly)
and whether it may evict keys, each with the fix. One line per finding on stdout; never prints a token.
Exit 1 when something would make "tokctl token" fail, now or at its next refresh; else 0.

Example:
   tokctl doctor --profile work`,
		Flags:  withGlobals(),
		Action: func(c *cli.Context) error { return u.doctor(c) },
	}
}

// finding is one line of the report.
type finding struct{ level, text, hint string }

type report []finding

func (r *report) ok(format string, a ...any) {
	*r = append(*r, finding{"ok", fmt.Sprintf(format, a...), ""})
}
func (r *report) warn(hint, format string, a ...any) {
	*r = append(*r, finding{"warn", fmt.Sprintf(format, a...), hint})
}
func (r *report) fail(hint, format string, a ...any) {
	*r = append(*r, finding{"FAIL", fmt.Sprintf(format, a...), hint})
}

func (u *ui) doctor(c *cli.Context) error {
	p, prof, err := loadProfile(c)
	if err != nil {
		return err
	}
	var r report
	checkProfile(&r, prof)
	if isRedisStore(prof.Store) {
		u.checkRedis(c.Context, &r, p, prof) // the store, the credential and the lock, in Redis
	} else {
		checkStateDir(&r, p.CredentialDir())
		if checkKeyring(&r, p, prof) {
			checkCredential(&r, p, prof, storeOfKind(p, prof.Name, prof.Store, keyringTimeout))
		}
		checkLock(&r, p.LockFile(prof.Name))
	}
	checkProvider(c.Context, &r, prof.TokenURL)

	failed := false
	for _, f := range r {
		fmt.Fprintf(u.stdout, "%-4s  %s\n", f.level, f.text)
		if f.hint != "" {
			fmt.Fprintf(u.stdout, "      → %s\n", f.hint)
		}
		failed = failed || f.level == "FAIL"
	}
	if failed {
		return &userError{code: ExitError, err: fmt.Errorf("profile %q: \"tokctl token\" would fail (see above)", prof.Name)}
	}
	return nil
}

func checkProfile(r *report, prof *config.Profile) {
	if err := validateProfile(prof); err != nil {
		r.fail("fix it with \"tokctl profile set "+prof.Name+" ...\"", "profile %q: %v", prof.Name, err)
		return
	}
	if _, err := refresher(prof); err != nil {
		r.fail("", "profile %q: %v", prof.Name, err)
		return
	}
	r.ok("profile %q: provider %s, client %s, %s store", prof.Name, orString(prof.Provider, "generic"), prof.ClientID, storeName(prof.Store))
}

func checkStateDir(r *report, dir string) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		r.ok("state directory %s does not exist yet (created 0700 on first use)", dir)
		return
	}
	if err := config.CheckPrivateDir(dir); err != nil {
		r.fail("", "%v", err)
		return
	}
	probe, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		r.fail("the lock and the credential are written there", "state directory %s is not writable: %v", dir, err)
		return
	}
	probe.Close()
	os.Remove(probe.Name())
	r.ok("state directory %s: private and writable", dir)
}

// checkKeyring reports whether the keychain answers and is unlocked, when the profile uses it.
func checkKeyring(r *report, p config.Paths, prof *config.Profile) bool {
	if prof.Store != "keyring" {
		return true
	}
	if err := probeKeyring(p); err != nil {
		var ke *creds.KeyringError
		errors.As(err, &ke)
		r.fail(keyringHint(ke), "keychain: %v", err)
		return false
	}
	r.ok("keychain: the Secret Service answers and is unlocked")
	return true
}

func checkCredential(r *report, p config.Paths, prof *config.Profile, store creds.Store) {
	cred, err := store.Load()
	switch {
	case errors.Is(err, creds.ErrNotFound):
		r.fail("run \"tokctl login --profile "+prof.Name+"\"", "credential: none stored in %s", store.Location())
		return
	case err != nil:
		_, hint := classify(err)
		r.fail(hint, "credential: %v", err)
		return
	}
	now := time.Now()
	if failure := creds.RecordedFailure(store, p.LockFile(prof.Name), cred.RefreshToken); failure != "" {
		r.fail("run \"tokctl login --profile "+prof.Name+"\"", "credential: the provider rejected its refresh token (%s)", failure)
		return
	}
	if cred.Expired(now) && cred.RefreshToken == "" && prof.Grant != "client_credentials" {
		r.fail("run \"tokctl login --profile "+prof.Name+"\"", "credential: the access token has expired and there is no refresh token")
		return
	}
	r.ok("credential in %s: %s", store.Location(), describe(cred, now))
}

func checkLock(r *report, path string) {
	holder, held, err := lockfile.Inspect(path)
	switch {
	case err != nil:
		r.warn("", "lock %s: %v", path, err)
	case holder == nil:
		r.ok("lock %s: free", filepath.Base(path))
	case held:
		r.warn("a refresh or login is in progress; if it hangs, stop that process", "lock %s: held by %s", filepath.Base(path), holder)
	default:
		r.ok("lock %s: left by %s, which is gone; the next caller breaks it", filepath.Base(path), holder)
	}
}

// checkProvider asks the token endpoint for anything (a GET gets 400 or 405 from most) to learn
// whether it answers, and reads its clock from the Date header.
func checkProvider(ctx context.Context, r *report, tokenURL string) {
	if tokenURL == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tokenURL, nil)
	if err != nil {
		r.fail("", "provider: %v", err)
		return
	}
	sent := time.Now()
	resp, err := flows.NewHTTPClient().Do(req)
	if err != nil {
		r.fail("check the network, a proxy (HTTPS_PROXY), or the profile's token endpoint", "provider: %s does not answer: %v", tokenURL, err)
		return
	}
	resp.Body.Close()
	took := time.Since(sent)
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		r.ok("provider: %s answered in %s (no Date header to check the clock against)", tokenURL, took.Round(time.Millisecond))
		return
	}
	// The server stamped Date somewhere between sending and receiving; Date has 1 s resolution.
	skew := sent.Add(took / 2).Sub(date.Add(500 * time.Millisecond))
	if skew.Abs() > maxClockSkew {
		r.warn("sync the clock (timedatectl set-ntp true); tokctl computes expiry from expires_in, but ID token checks and providers do not forgive skew",
			"clock: %s off the provider's (%s)", skew.Round(time.Second), tokenURL)
		return
	}
	r.ok("provider: %s answered in %s; clocks agree within %s", tokenURL, took.Round(time.Millisecond), maxClockSkew)
}
