package commands_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

// requireKeyring skips unless a Secret Service answers on the session bus. test.sh runs these
// tests inside dbus-run-session with an unlocked gnome-keyring and TOKCTL_TEST_KEYRING=1, which
// turns the skip into a failure.
func requireKeyring(t *testing.T) {
	t.Helper()
	probe := &creds.KeyringStore{Service: "tokctl-test", Account: "probe", Timeout: 3 * time.Second}
	_, err := probe.Load()
	if err == nil || errors.Is(err, creds.ErrNotFound) {
		return
	}
	if os.Getenv("TOKCTL_TEST_KEYRING") == "1" {
		t.Fatalf("TOKCTL_TEST_KEYRING=1 but no Secret Service answers: %v", err)
	}
	t.Skipf("no usable Secret Service (%v); test.sh runs this inside dbus-run-session with gnome-keyring", err)
}

// keyringFixture is a fixture whose profile keeps its credential in the keychain.
func keyringFixture(t *testing.T, opt oauthtest.Options) (*fixture, *creds.KeyringStore) {
	t.Helper()
	f := newFixture(t, opt)
	p := config.Paths{Config: f.home, State: f.home}
	prof, err := p.LoadProfile("default")
	if err != nil {
		t.Fatal(err)
	}
	prof.Store = "keyring"
	if err := p.SaveProfile(prof); err != nil {
		t.Fatal(err)
	}
	store := &creds.KeyringStore{Service: config.KeyringService, Account: p.KeyringAccount("default")}
	t.Cleanup(func() { store.Delete() })
	return f, store
}

func expiredIn(t *testing.T, f *fixture, store creds.Store) *creds.Credential {
	t.Helper()
	r := f.srv.Issue("openid", -time.Minute)
	c := &creds.Credential{AccessToken: r.AccessToken, TokenType: "Bearer", RefreshToken: r.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	if err := store.Save(c); err != nil {
		t.Fatal(err)
	}
	f.srv.ResetStats()
	return c
}

// secretTool reads an item through libsecret's own client, so the test does not take
// go-keyring's word for where the credential is.
func secretTool(t *testing.T, account string) string {
	t.Helper()
	out, err := exec.Command("secret-tool", "lookup", "service", config.KeyringService, "username", account).Output()
	if err != nil {
		t.Fatalf("secret-tool lookup username %s: %v", account, err)
	}
	return string(out)
}

// run runs tokctl to completion, or kills it after a minute: a hang is a failure, not a stuck test.
func run(t *testing.T, bin string, env []string, args ...string) callerResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := callerResult{stdout: out.String(), stderr: errOut.String()}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestKeyringStoreRefreshesInTheKeychain(t *testing.T) {
	requireKeyring(t)
	bin := tokctlBinary(t, "")
	f, store := keyringFixture(t, oauthtest.Options{})
	old := expiredIn(t, f, store)
	if !strings.Contains(secretTool(t, store.Account), old.RefreshToken) {
		t.Fatal("the credential is not in the keyring")
	}

	r := run(t, bin, nil, "token", "--home", f.home)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("token: exit %d, stderr %q", r.code, r.stderr)
	}
	if st := f.srv.Stats(); st.Refreshes != 1 {
		t.Fatalf("%d refreshes, want 1", st.Refreshes)
	}
	item := secretTool(t, store.Account)
	if strings.Contains(item, old.RefreshToken) || !strings.Contains(item, strings.TrimSpace(r.stdout)) {
		t.Fatal("the keyring does not hold the rotated credential that was printed")
	}
	if _, err := os.Stat(f.credPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a keychain profile wrote a credential file: %v", err)
	}

	st := run(t, bin, nil, "status", "--home", f.home)
	if st.code != 0 || !strings.Contains(st.stdout, "keyring") || strings.Contains(st.stdout+st.stderr, "at_") || strings.Contains(st.stdout+st.stderr, "rt_") {
		t.Fatalf("status: exit %d\n%s%s", st.code, st.stdout, st.stderr)
	}
}

// The core's concurrency promise, on the keychain store.
func TestKeyringBurstRefreshesOnce(t *testing.T) {
	requireKeyring(t)
	bin := tokctlBinary(t, "")
	f, store := keyringFixture(t, oauthtest.Options{Latency: 200 * time.Millisecond})
	expiredIn(t, f, store)
	results := f.burst(t, bin, 50)
	if broken := burstVerdict(results, f.srv.Stats()); len(broken) > 0 {
		t.Fatalf("the promise broke on the keychain store: %v\nfirst stderr: %s", broken, firstStderr(results))
	}
	stored, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(results[0].stdout) != stored.AccessToken || !f.srv.Active(stored.RefreshToken) {
		t.Fatal("the keyring does not hold the token the callers printed, or its refresh token is dead")
	}
}

// migration is a file-store profile holding want, and the keychain store it can move to.
type migration struct {
	bin  string
	f    *fixture
	p    config.Paths
	kr   *creds.KeyringStore
	want *creds.Credential
}

func newMigration(t *testing.T, tags string) migration {
	t.Helper()
	requireKeyring(t)
	m := migration{bin: tokctlBinary(t, tags), f: newFixture(t, oauthtest.Options{})}
	m.want = m.f.storeExpired(t)
	m.p = config.Paths{Config: m.f.home, State: m.f.home}
	m.kr = &creds.KeyringStore{Service: config.KeyringService, Account: m.p.KeyringAccount("default")}
	t.Cleanup(func() { m.kr.Delete() })
	return m
}

func TestKeyringMigrationBothWays(t *testing.T) {
	m := newMigration(t, "")
	bin, f, p, kr, want := m.bin, m.f, m.p, m.kr, m.want

	if r := run(t, bin, nil, "store", "migrate", "--home", f.home, "--to", "keyring"); r.code != 0 {
		t.Fatalf("migrate to keyring: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(secretTool(t, kr.Account), want.RefreshToken) {
		t.Fatal("the credential did not arrive in the keyring")
	}
	if _, err := os.Stat(f.credPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the file copy was not deleted after the move")
	}
	if prof, _ := p.LoadProfile("default"); prof.Store != "keyring" {
		t.Fatalf("profile store is %q", prof.Store)
	}

	if r := run(t, bin, nil, "store", "migrate", "--home", f.home, "--to", "file"); r.code != 0 {
		t.Fatalf("migrate to file: exit %d: %s", r.code, r.stderr)
	}
	back, err := creds.NewFileStore(f.credPath()).Load()
	if err != nil || back.RefreshToken != want.RefreshToken || !back.Expiry.Equal(want.Expiry) {
		t.Fatalf("the file copy is not the credential: %v", err)
	}
	if _, err := kr.Load(); !errors.Is(err, creds.ErrNotFound) {
		t.Fatalf("the keyring copy was not deleted: %v", err)
	}
}

// kill -9 at any moment of a migration leaves the store the profile names holding the whole
// credential: killed at each step (the tokctl_faults build stops there), then at random moments.
func TestKeyringMigrationKilledLeavesACompleteCopy(t *testing.T) {
	m := newMigration(t, "tokctl_faults")
	bin, f, p, kr, want := m.bin, m.f, m.p, m.kr, m.want

	check := func(what string) {
		t.Helper()
		prof, err := p.LoadProfile("default")
		if err != nil {
			t.Fatalf("%s: the profile is unreadable: %v", what, err)
		}
		var named creds.Store = creds.NewFileStore(f.credPath())
		if prof.Store == "keyring" {
			named = kr
		}
		got, err := named.Load()
		if err != nil || got.RefreshToken != want.RefreshToken || got.AccessToken != want.AccessToken {
			t.Fatalf("%s: the profile's %q store lost the credential: %v", what, prof.Store, err)
		}
	}
	other := func() string {
		prof, err := p.LoadProfile("default")
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{"keyring": "file", "": "keyring"}[prof.Store]
	}
	for _, point := range []string{"migrate:locked", "migrate:copied", "migrate:switched"} {
		for range 2 { // both directions
			to := other()
			cmd := exec.Command(bin, "store", "migrate", "--home", f.home, "--to", to)
			cmd.Env = append(os.Environ(), "TOKCTL_FAULT_PAUSE="+point)
			stderr, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line := make([]byte, 64)
			n, _ := stderr.Read(line)
			if !strings.Contains(string(line[:n]), "fault point "+point) {
				t.Fatalf("migrate never reached %s: %q", point, line[:n])
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			check("killed at " + point + " moving to " + to)
		}
	}
	for i := range 20 {
		cmd := exec.Command(bin, "store", "migrate", "--home", f.home, "--to", other())
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		check("killed at random, run " + itoa(i))
	}
	// The killed holders' locks do not stand in the way of a whole migration.
	if r := run(t, bin, nil, "store", "migrate", "--home", f.home, "--to", other(), "--lock-timeout", "5s"); r.code != 0 {
		t.Fatalf("migrate after the kills: exit %d: %s", r.code, r.stderr)
	}
	check("after a full migration")
}
