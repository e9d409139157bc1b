package commands_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tokctl/tokctl/redisconn"
)

// redisWanted is set (TOKCTL_TEST_REDIS=1) where a missing redis-server must fail the tests
// that need one instead of skipping them.
func redisWanted() bool { return os.Getenv("TOKCTL_TEST_REDIS") == "1" }

// testRedis is a redis-server started for one test or script on a free loopback port, without
// persistence, its data directory in dir.
type testRedis struct {
	Addr     string
	Password string
	cmd      *exec.Cmd
}

// startTestRedis starts redis-server (with requirepass when password is set). skip is called
// with the reason when redis-server is not installed.
func startTestRedis(dir, password string, skip func(...any)) (*testRedis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if redisWanted() {
			return nil, fmt.Errorf("redis-server is not installed and TOKCTL_TEST_REDIS=1")
		}
		skip("redis-server is not installed (install redis-server, or set TOKCTL_TEST_REDIS=1 to make this a failure)")
		return nil, err
	}
	for try := 0; ; try++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		// The settings go in a 0600 file, not argv: the password must not show in process lists
		// (the leak audit sweeps them).
		conf := fmt.Sprintf("bind 127.0.0.1\nport %d\nsave \"\"\nappendonly no\ndir %q\n", port, dir)
		if password != "" {
			conf += fmt.Sprintf("requirepass %q\n", password)
		}
		path := filepath.Join(dir, "redis.conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			return nil, err
		}
		r := &testRedis{Addr: fmt.Sprintf("127.0.0.1:%d", port), Password: password, cmd: exec.Command(bin, path)}
		if err := r.cmd.Start(); err != nil {
			return nil, err
		}
		if r.ready() {
			return r, nil
		}
		r.Stop()
		if try == 2 {
			return nil, fmt.Errorf("redis-server did not start on %s", r.Addr)
		}
	}
}

func (r *testRedis) ready() bool {
	for range 250 {
		if c, err := r.conn(); err == nil {
			_, err := c.Do(context.Background(), "PING")
			c.Close()
			if err == nil {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// URL is the store URL of database 0 (never with the password).
func (r *testRedis) URL() string { return "redis://" + r.Addr + "/0" }

func (r *testRedis) conn() (*redisconn.Conn, error) {
	return redisconn.Dial(context.Background(), redisconn.Config{Addr: r.Addr, Password: r.Password})
}

// Do runs one command on a connection of its own.
func (r *testRedis) Do(args ...string) (any, error) {
	c, err := r.conn()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Do(context.Background(), args...)
}

func (r *testRedis) Stop() {
	r.cmd.Process.Kill()
	r.cmd.Wait()
}

// newTestRedis starts a server for t, stopped when t ends.
func newTestRedis(t *testing.T, password string) *testRedis {
	t.Helper()
	r, err := startTestRedis(t.TempDir(), password, t.Skip)
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
		_, err := exec.LookPath("redis-server")
		return err == nil || redisWanted(), nil
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
	dir := ts.MkAbs("redis-data")
	ts.Check(os.MkdirAll(dir, 0o700))
	r, err := startTestRedis(dir, password, func(a ...any) { ts.Fatalf("%s (start the script with \"[!redis] skip\")", fmt.Sprint(a...)) })
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
	r := &testRedis{Addr: ts.Getenv("REDIS_ADDR")}
	if env := ts.Getenv("REDIS_PASSWORD_ENV"); env != "" {
		r.Password = ts.Getenv(env)
	}
	v, err := r.Do("EXISTS", args[0])
	ts.Check(err)
	if (v == int64(1)) == neg {
		ts.Fatalf("key %s: exists=%v", args[0], !neg)
	}
}
