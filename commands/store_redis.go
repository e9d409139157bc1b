package commands

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/redisstore"
)

// defaultRedisPasswordEnv holds a Redis store's password unless the profile names another
// variable (--store-password-env) or a file (--store-password-file).
const defaultRedisPasswordEnv = "TOKCTL_REDIS_PASSWORD"

// isRedisStore reports whether a profile's store setting names a Redis store.
func isRedisStore(kind string) bool { return redisstore.IsURL(kind) }

// isFleet reports whether s keeps its own lock (a store shared by several hosts): no lock file
// and no failure record is then ever written in the local home.
func isFleet(s creds.Store) bool {
	_, ok := s.(creds.LockingStore)
	return ok
}

// storeFlags are the flags that configure a Redis store, on "profile set" and "store migrate".
func storeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "store-password-env", Usage: "with a Redis --store: environment variable `VAR` holding its password (default " + defaultRedisPasswordEnv + ")"},
		&cli.StringFlag{Name: "store-password-file", Usage: "with a Redis --store: `FILE` (mode 0600) holding its password"},
		&cli.StringFlag{Name: "store-ca-file", Usage: "with a rediss:// --store: PEM `FILE` of the CAs that sign the server's certificate (default: the system's)"},
	}
}

// applyStoreFlags copies the --store-* flags given into prof. File names are made absolute: the
// profile is used from any directory. A profile whose store is not Redis keeps none of them.
func applyStoreFlags(c *cli.Context, prof *config.Profile) error {
	for flag, dst := range map[string]*string{"store-password-env": &prof.StorePasswordEnv,
		"store-password-file": &prof.StorePasswordFile, "store-ca-file": &prof.StoreCAFile} {
		if !c.IsSet(flag) {
			continue
		}
		if !isRedisStore(prof.Store) && c.String(flag) != "" {
			return usageErrorf("--%s is for a Redis store (--store redis://HOST:PORT/DB), not the %s store", flag, storeName(prof.Store))
		}
		v := c.String(flag)
		if v != "" && flag != "store-password-env" {
			abs, err := filepath.Abs(v)
			if err != nil {
				return usageErrorf("--%s %q: %v", flag, v, err)
			}
			v = abs
		}
		*dst = v
	}
	switch { // the password comes from one place: naming one forgets the other
	case c.IsSet("store-password-env") && !c.IsSet("store-password-file"):
		prof.StorePasswordFile = ""
	case c.IsSet("store-password-file") && !c.IsSet("store-password-env"):
		prof.StorePasswordEnv = ""
	}
	if !isRedisStore(prof.Store) {
		prof.StorePasswordEnv, prof.StorePasswordFile, prof.StoreCAFile = "", "", ""
	}
	return nil
}

// validateStore checks the profile's store: a Redis URL must parse (no password in it, a known
// scheme and parameters), its CA file must hold a certificate; no network is used.
func validateStore(prof *config.Profile) error {
	switch {
	case prof.Store == "" || prof.Store == "file" || prof.Store == "keyring" || prof.Store == "auto":
		if prof.StorePasswordEnv != "" || prof.StorePasswordFile != "" || prof.StoreCAFile != "" {
			return usageErrorf("profile %q has Redis store settings (store_password_env, store_password_file, store_ca_file) but its store is %s", prof.Name, storeName(prof.Store))
		}
		return nil
	case !isRedisStore(prof.Store):
		return usageErrorf("--store must be file, keyring or auto, not %q, or a Redis URL (redis://[USER@]HOST:PORT/DB, rediss://…, redis+sentinel://HOST:PORT[,HOST:PORT…]/MASTER/DB)", prof.Store)
	}
	if prof.StorePasswordEnv != "" && prof.StorePasswordFile != "" {
		return usageErrorf("give the Redis password either in a variable (--store-password-env) or in a file (--store-password-file), not both")
	}
	s, err := redisstore.Open(redisstore.Options{URL: prof.Store, Profile: prof.Name, CAFile: prof.StoreCAFile})
	if err != nil {
		return withHint(ExitUsage, fmt.Errorf("--store: %w", err), "a store URL looks like redis://[USER@]HOST:PORT/DB, rediss://HOST:PORT/DB (TLS) or redis+sentinel://HOST:PORT[,HOST:PORT…]/MASTER/DB, with ?prefix=P and ?lease=10s; the password goes in "+defaultRedisPasswordEnv+", --store-password-env or --store-password-file")
	}
	s.Close()
	return nil
}

// redisPassword reads a Redis store's password: from the profile's file, else its variable,
// else TOKCTL_REDIS_PASSWORD ("" when that is unset: a server without a password).
func redisPassword(prof *config.Profile) (string, error) {
	if prof.StorePasswordFile != "" {
		return readSecret("Redis store password", "", prof.StorePasswordFile)
	}
	if prof.StorePasswordEnv != "" {
		return readSecret("Redis store password", prof.StorePasswordEnv, "")
	}
	return os.Getenv(defaultRedisPasswordEnv), nil
}

// openRedis opens prof's Redis store (no network yet). The owner host recorded in the lock is
// this host's name.
func (u *ui) openRedis(prof *config.Profile) (*redisstore.Store, error) {
	password, err := redisPassword(prof)
	if err != nil {
		return nil, err
	}
	s, err := redisstore.Open(redisstore.Options{URL: prof.Store, Profile: prof.Name, Password: password,
		CAFile: prof.StoreCAFile, Warnf: u.warnf})
	if err != nil {
		return nil, withHint(ExitUsage, fmt.Errorf("profile %q: %w", prof.Name, err), fmt.Sprintf("fix the store with \"tokctl profile set %s --store URL [--store-ca-file FILE]\"", prof.Name))
	}
	return s, nil
}

// closeStore closes a store that holds a connection (Redis); the others hold nothing open.
func closeStore(s creds.Store) {
	if c, ok := s.(io.Closer); ok {
		c.Close()
	}
}

// storeLocation names where prof's credential is kept, without opening anything.
func storeLocation(p config.Paths, prof *config.Profile) string {
	if isRedisStore(prof.Store) {
		if t, err := redisstore.ParseURL(prof.Store); err == nil {
			return t.String()
		}
		return "(invalid store URL)"
	}
	return storeOfKind(p, prof.Name, prof.Store, keyringTimeout).Location()
}

// storeHint says what to do about an error of a Redis store, "" for other errors.
func storeHint(err error) (code int, hint string, ok bool) {
	var (
		unavail *creds.StoreUnavailableError
		auth    *redisstore.AuthError
		tlsErr  *redisstore.TLSError
	)
	switch {
	case errors.Is(err, creds.ErrFenced), errors.Is(err, creds.ErrLeaseLost):
		return ExitUnavailable, "this host lost the fleet lock before it finished (Redis slow or unreachable mid-refresh); the credential in Redis was left as it is: run the command again (tokctl doctor checks the store)", true
	case errors.As(err, &unavail):
		return ExitUnavailable, fmt.Sprintf("Redis at %s is unreachable: check it is running and reachable from this host (tokctl doctor); tokctl never refreshes without the fleet lock and never falls back to a local file", unavail.Location), true
	case errors.As(err, &auth) && auth.Denied():
		return ExitError, "the password was accepted, but the Redis ACL user may not run what tokctl needs: give it tokctl's keys and channel (~tokctl:* and &tokctl:*, or the URL's ?prefix= instead of tokctl:) and the commands listed in the README (\"Share one credential across machines\")", true
	case errors.As(err, &auth):
		return ExitError, "set " + defaultRedisPasswordEnv + " (or the variable the profile names with --store-password-env), or give the profile a password file: tokctl profile set NAME --store-password-file FILE (mode 0600); with a Redis ACL user, check its rights on tokctl's keys", true
	case errors.As(err, &tlsErr):
		return ExitError, "check that the server speaks TLS on that port (rediss://) and that its certificate names that host and is signed by a CA this host trusts; for a private CA: tokctl profile set NAME --store-ca-file FILE (PEM)", true
	}
	return 0, "", false
}

// checkStorePasswordFile checks the profile's Redis password file now, when it exists: a file
// readable by others is refused at once. A missing one is only a warning: it may be deployed
// later (by configuration management).
func checkStorePasswordFile(u *ui, prof *config.Profile) error {
	if prof.StorePasswordFile == "" {
		return nil
	}
	if _, err := os.Stat(prof.StorePasswordFile); errors.Is(err, os.ErrNotExist) {
		u.warnf("the Redis password file %s does not exist yet; tokctl reads it on each use", prof.StorePasswordFile)
		return nil
	}
	_, err := readSecret("Redis store password", "", prof.StorePasswordFile)
	return err
}

func lookupEnv(name string) (string, bool) { return os.LookupEnv(name) }
