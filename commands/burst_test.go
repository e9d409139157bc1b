package commands_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

var buildOnce sync.Map // build tags -> *builtBinary

type builtBinary struct {
	once sync.Once
	path string
	err  error
}

// tokctlBinary builds tokctl (with the given build tags) once per test run.
func tokctlBinary(t *testing.T, tags string) string {
	t.Helper()
	v, _ := buildOnce.LoadOrStore(tags, &builtBinary{})
	b := v.(*builtBinary)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "tokctl-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "tokctl")
		cmd := exec.Command("go", "build", "-trimpath", "-tags", "urfave_cli_no_docs "+tags, "-o", b.path, "github.com/tokctl/tokctl")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = errors.New(string(out))
		}
	})
	if b.err != nil {
		t.Fatalf("build tokctl: %v", b.err)
	}
	return b.path
}

// fixture is a TOKCTL_HOME with profile "default" pointing at a strict server.
type fixture struct {
	home string
	srv  *oauthtest.Server
}

func newFixture(t *testing.T, opt oauthtest.Options) *fixture {
	t.Helper()
	f := &fixture{home: t.TempDir(), srv: oauthtest.NewServer(opt)}
	t.Cleanup(f.srv.Close)
	p := config.Paths{Config: f.home, State: f.home}
	if err := p.SaveProfile(&config.Profile{Name: "default", TokenURL: f.srv.TokenURL(), ClientID: "tokctl-test"}); err != nil {
		t.Fatal(err)
	}
	if err := config.EnsurePrivateDir(p.CredentialDir()); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) credPath() string { return filepath.Join(f.home, "credentials", "default.json") }

// storeExpired stores a new token family whose access token expired a minute ago.
func (f *fixture) storeExpired(t *testing.T) *creds.Credential {
	t.Helper()
	r := f.srv.Issue("openid", -time.Minute)
	c := &creds.Credential{AccessToken: r.AccessToken, TokenType: "Bearer", RefreshToken: r.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	if err := creds.NewFileStore(f.credPath()).Save(c); err != nil {
		t.Fatal(err)
	}
	f.srv.ResetStats()
	return c
}

type callerResult struct {
	stdout, stderr string
	code           int
}

// burst starts n "tokctl token" processes as close together as possible and waits for all.
func (f *fixture) burst(t *testing.T, bin string, n int, args ...string) []callerResult {
	t.Helper()
	results := make([]callerResult, n)
	cmds := make([]*exec.Cmd, n)
	outs := make([][2]*bytes.Buffer, n)
	for i := range n {
		cmd := exec.Command(bin, append([]string{"token", "--home", f.home}, args...)...)
		outs[i] = [2]*bytes.Buffer{{}, {}}
		cmd.Stdout, cmd.Stderr = outs[i][0], outs[i][1]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		err := cmd.Wait()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			results[i].code = exitErr.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		results[i].stdout, results[i].stderr = outs[i][0].String(), outs[i][1].String()
	}
	return results
}

// burstVerdict checks the core promise and returns what broke, or "" when it held.
func burstVerdict(results []callerResult, st oauthtest.Stats) []string {
	var broken []string
	if st.TokenRequests != 1 || st.Refreshes != 1 {
		broken = append(broken, "token endpoint called "+itoa(st.TokenRequests)+" times, want 1")
	}
	if st.PresentedTwice != 0 || st.ReuseDetected != 0 {
		broken = append(broken, "a refresh token was presented twice")
	}
	failed, distinct := 0, map[string]bool{}
	for _, r := range results {
		if r.code != 0 || r.stderr != "" {
			failed++
			continue
		}
		distinct[r.stdout] = true
	}
	if failed > 0 {
		broken = append(broken, itoa(failed)+" callers failed")
	}
	if len(distinct) > 1 {
		broken = append(broken, itoa(len(distinct))+" distinct tokens printed")
	}
	return broken
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestBurstRefreshesOnce: 60 real processes find the token expired at once; the provider sees
// one refresh, every caller prints the same new token, nobody fails.
func TestBurstRefreshesOnce(t *testing.T) {
	bin := tokctlBinary(t, "")
	f := newFixture(t, oauthtest.Options{Latency: 200 * time.Millisecond})
	f.storeExpired(t)
	results := f.burst(t, bin, 60)
	if broken := burstVerdict(results, f.srv.Stats()); len(broken) > 0 {
		t.Fatalf("the promise broke: %v\nfirst stderr: %s", broken, firstStderr(results))
	}
	stored, err := creds.NewFileStore(f.credPath()).Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(results[0].stdout); got != stored.AccessToken {
		t.Fatalf("callers printed a token that is not the stored one")
	}
	if !f.srv.Active(stored.RefreshToken) {
		t.Fatal("the stored refresh token is not active at the provider")
	}
}

// TestBurstWithoutLockBreaks proves the burst test has teeth: the same burst with a binary
// built without the lock (build tag tokctl_nolock) must break the promise.
func TestBurstWithoutLockBreaks(t *testing.T) {
	bin := tokctlBinary(t, "tokctl_nolock")
	f := newFixture(t, oauthtest.Options{Latency: 200 * time.Millisecond})
	f.storeExpired(t)
	results := f.burst(t, bin, 60)
	broken := burstVerdict(results, f.srv.Stats())
	if len(broken) == 0 {
		t.Fatal("a burst without the lock kept the promise: the burst test cannot tell a lock from no lock")
	}
	t.Logf("without the lock, as expected: %v", broken)
}

// TestKilledHolderIsReplacedQuickly: a holder SIGKILLed in the middle of a slow refresh does not
// block the next caller for long, and no manual cleanup is needed.
func TestKilledHolderIsReplacedQuickly(t *testing.T) {
	bin := tokctlBinary(t, "")
	f := newFixture(t, oauthtest.Options{})
	f.storeExpired(t)
	f.srv.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: 20 * time.Second})
	holder := exec.Command(bin, "token", "--home", f.home)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return f.srv.Stats().TokenRequests == 1 }) // the holder is mid-refresh
	var waiterOut bytes.Buffer
	waiter := exec.Command(bin, "token", "--home", f.home, "--lock-timeout", "10s")
	waiter.Stdout = &waiterOut
	if err := waiter.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the waiter is now polling the lock
	killed := time.Now()
	if err := holder.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	holder.Wait()
	if err := waiter.Wait(); err != nil {
		t.Fatalf("waiter after the holder was killed: %v", err)
	}
	took := time.Since(killed)
	if took > time.Second {
		t.Fatalf("the waiter needed %s after the holder died, want < 1s", took)
	}
	t.Logf("waiter done %s after the holder was killed", took.Round(time.Millisecond))
	if !strings.HasPrefix(waiterOut.String(), "at_") {
		t.Fatalf("waiter printed %q", waiterOut.String())
	}
	if _, err := os.Stat(f.credPath() + ".lock"); !os.IsNotExist(err) {
		t.Fatalf("lock file left behind: %v", err)
	}
}

// TestDeadRefreshTokenReachesProviderOnce: 50 callers on a revoked refresh token: one request,
// all exit 3, fast, and the credential is kept.
func TestDeadRefreshTokenReachesProviderOnce(t *testing.T) {
	bin := tokctlBinary(t, "")
	f := newFixture(t, oauthtest.Options{Latency: 50 * time.Millisecond})
	c := f.storeExpired(t)
	f.srv.RevokeFamilyOf(c.RefreshToken)
	f.srv.ResetStats()
	start := time.Now()
	results := f.burst(t, bin, 50)
	took := time.Since(start)
	for i, r := range results {
		if r.code != 3 || r.stdout != "" {
			t.Fatalf("caller %d: exit %d, stdout %q, stderr %q; want exit 3, no stdout", i, r.code, r.stdout, r.stderr)
		}
	}
	if n := f.srv.Stats().TokenRequests; n != 1 {
		t.Fatalf("%d requests reached the provider, want 1", n)
	}
	kept, err := creds.NewFileStore(f.credPath()).Load()
	if err != nil || kept.RefreshToken != c.RefreshToken {
		t.Fatalf("the credential was not kept: %v", err)
	}
	t.Logf("50 callers on a dead refresh token: %s", took.Round(time.Millisecond))
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func firstStderr(results []callerResult) string {
	for _, r := range results {
		if r.stderr != "" {
			return r.stderr
		}
	}
	return ""
}

// TestInterruptLeavesNoLock: Ctrl-C while waiting for the lock and while refreshing exits 130
// promptly, leaves no lock file behind and the credential as it was.
func TestInterruptLeavesNoLock(t *testing.T) {
	bin := tokctlBinary(t, "")
	f := newFixture(t, oauthtest.Options{})
	f.storeExpired(t)
	before, _ := os.ReadFile(f.credPath())
	f.srv.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: 20 * time.Second})
	holder := exec.Command(bin, "token", "--home", f.home)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return f.srv.Stats().TokenRequests == 1 })
	waiter := exec.Command(bin, "token", "--home", f.home)
	var waiterErr bytes.Buffer
	waiter.Stderr = &waiterErr
	if err := waiter.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	// The waiter first: were the holder interrupted first, the waiter could take the lock and
	// finish a refresh before its own SIGINT arrived.
	for _, c := range []struct {
		name string
		cmd  *exec.Cmd
	}{{"waiting", waiter}, {"refreshing", holder}} {
		name, cmd := c.name, c.cmd
		start := time.Now()
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 130 {
			t.Fatalf("%s caller after SIGINT: %v, want exit 130", name, err)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("%s caller took %s to stop", name, took)
		}
	}
	if !strings.Contains(waiterErr.String(), "tokctl: interrupted") {
		t.Fatalf("waiter stderr %q", waiterErr.String())
	}
	if _, err := os.Stat(f.credPath() + ".lock"); !os.IsNotExist(err) {
		t.Fatalf("lock file left behind: %v", err)
	}
	if after, _ := os.ReadFile(f.credPath()); !bytes.Equal(after, before) {
		t.Fatal("the credential changed")
	}
}
