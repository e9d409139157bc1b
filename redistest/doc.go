// Package redistest starts real redis-server and redis-sentinel processes on 127.0.0.1, on
// random free ports, each in its own temporary directory, for tests of tokctl's fleet store;
// plus a fault-injecting TCP proxy (Proxy) to cut, black-hole or slow the connections between
// a client and a server. Nothing here is an in-process fake: every test talks to Debian's
// redis-server.
//
// Each kind of fixture has two constructors: New… takes a TB (a *testing.T or *testing.B),
// skips or fails the test when Redis is not installed (see Require), fails it on error and
// stops the processes at cleanup, showing their logs when the test failed; Start… returns an
// error and leaves stopping to the caller, for harnesses that are not tests (bench/).
//
// The package does not import "testing", so a test-helper binary may use it too. Processes
// are started with a parent-death signal (Linux), so a test binary killed mid-run leaves no
// redis-server behind.
package redistest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// TB is the part of testing.TB this package uses; *testing.T and *testing.B satisfy it.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
	Failed() bool
}

// EnvRequire names the environment variable that turns "Redis is not installed" from a skip
// into a failure: test.sh sets it to 1, so a CI machine without Redis cannot pass silently.
const EnvRequire = "TOKCTL_TEST_REDIS"

// Binaries this package runs.
const (
	ServerBinary   = "redis-server"
	SentinelBinary = "redis-sentinel"
)

// Available reports whether redis-server and redis-sentinel are on PATH.
func Available() error {
	var missing []string
	for _, b := range []string{ServerBinary, SentinelBinary} {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not found on PATH (Debian: apt-get install redis-server redis-sentinel)", strings.Join(missing, " and "))
	}
	return nil
}

// Require skips the test when Redis is not installed, or fails it when the environment
// variable TOKCTL_TEST_REDIS is 1.
func Require(t TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("redistest: %v (%s=1 requires Redis)", err, EnvRequire)
		}
		t.Skipf("redistest: %v (set %s=1 to fail instead)", err, EnvRequire)
	}
}

// errStopped is returned by operations on a fixture after Stop.
var errStopped = errors.New("redistest: stopped")
