package commands_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tokctl/tokctl/redisconn"
	"github.com/tokctl/tokctl/redistest"
)

// redisWanted is set (TOKCTL_TEST_REDIS=1) where a missing redis-server must fail the tests
// that need one instead of skipping them.
func redisWanted() bool { return os.Getenv(redistest.EnvRequire) == "1" }

// testRedis is a redis-server (redistest) started for one test or script on a free loopback
// port, without persistence; its settings, password included, are in a 0600 config file, never
// in argv.
type testRedis struct {
	Addr     string
	Password string
	srv      *redistest.Server
}

func startTestRedis(password string) (*testRedis, error) {
	s, err := redistest.StartServer(redistest.Options{Password: password})
	if err != nil {
		return nil, err
	}
	return &testRedis{Addr: s.Addr(), Password: password, srv: s}, nil
}

// URL is the store URL of database 0 (never with the password).
func (r *testRedis) URL() string { return "redis://" + r.Addr + "/0" }

// Do runs one command on a connection of its own.
func (r *testRedis) Do(args ...string) (any, error) { return r.srv.Do(args...) }

func (r *testRedis) Stop() { r.srv.Stop() }

// newTestRedis starts a server for t, stopped when t ends (skipped without Redis, unless
// TOKCTL_TEST_REDIS=1).
func newTestRedis(t *testing.T, password string) *testRedis {
	t.Helper()
	redistest.Require(t)
	r, err := startTestRedis(password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// randomPassword contains "s3cret", which the secret-leak audit (leak_test.go) looks for.
func randomPassword() string {
	var b [8]byte
	rand.Read(b[:])
	return "s3cret-redis-" + hex.EncodeToString(b[:])
}

// scriptCondition answers the scripts' own conditions: [redis] holds where redis-server is
// installed, or where TOKCTL_TEST_REDIS=1 demands it (redis-start then fails without it).
func scriptCondition(cond string) (bool, error) {
	if cond == "redis" {
		return redistest.Available() == nil || redisWanted(), nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// redis-start [--password-env VAR] starts a redis-server for the script (stopped when it
// ends) and sets $REDIS_URL (redis://127.0.0.1:PORT/0) and $REDIS_ADDR; with --password-env,
// the server requires a random password (containing s3cret, for the leak audit), which is put in
// $VAR. Scripts that use it begin with "[!redis] skip".
func cmdRedisStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: redis-start [--password-env VAR]")
	}
	passwordEnv := ""
	switch {
	case len(args) == 2 && args[0] == "--password-env":
		passwordEnv = args[1]
	case len(args) != 0:
		ts.Fatalf("usage: redis-start [--password-env VAR]")
	}
	password := ""
	if passwordEnv != "" {
		password = randomPassword()
	}
	if err := redistest.Available(); err != nil {
		ts.Fatalf("%v (start the script with \"[!redis] skip\")", err)
	}
	r, err := startTestRedis(password)
	ts.Check(err)
	ts.Defer(r.Stop)
	ts.Setenv("REDIS_URL", r.URL())
	ts.Setenv("REDIS_ADDR", r.Addr)
	if passwordEnv != "" {
		ts.Setenv(passwordEnv, password)
		ts.Setenv("REDIS_PASSWORD_ENV", passwordEnv)
	}
}

// tls-listen starts a TLS server whose certificate no trusted CA signed (it accepts handshakes
// and nothing else) and sets $TLS_ADDR.
func cmdTLSListen(ts *testscript.TestScript, neg bool, args []string) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	ts.Defer(srv.Close)
	ts.Setenv("TLS_ADDR", srv.Listener.Addr().String())
}

// redis-exists KEY requires KEY to exist in the script's Redis (! redis-exists: not to).
func cmdRedisExists(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] redis-exists KEY")
	}
	password := ""
	if env := ts.Getenv("REDIS_PASSWORD_ENV"); env != "" {
		password = ts.Getenv(env)
	}
	c, err := redisconn.Dial(context.Background(), redisconn.Config{Addr: ts.Getenv("REDIS_ADDR"), Password: password})
	ts.Check(err)
	defer c.Close()
	v, err := c.Do(context.Background(), "EXISTS", args[0])
	ts.Check(err)
	if (v == int64(1)) == neg {
		ts.Fatalf("key %s: exists=%v", args[0], !neg)
	}
}
