package commands_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

// mountTmpfs mounts a tmpfs of the given size (e.g. "64k") on a new directory, or skips the
// test where the machine does not allow it (not root, no mount permission in the container).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("skipping: mounting a tmpfs needs root (CI runs the tests as root)")
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Skipf("skipping: cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fixtureIn is newFixture with its home at a given directory (a small or read-only mount).
func fixtureIn(t *testing.T, home string) *fixture {
	t.Helper()
	f := &fixture{home: home, srv: oauthtest.NewServer(oauthtest.Options{})}
	t.Cleanup(f.srv.Close)
	p := config.Paths{Config: home, State: home}
	if err := p.SaveProfile(&config.Profile{Name: "default", TokenURL: f.srv.TokenURL(), ClientID: "tokctl-test"}); err != nil {
		t.Fatal(err)
	}
	if err := config.EnsurePrivateDir(p.CredentialDir()); err != nil {
		t.Fatal(err)
	}
	return f
}

// fillDisk writes a file in dir until the file system is full, then frees leave bytes of it.
func fillDisk(t *testing.T, dir string, leave int64) {
	t.Helper()
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close()
	chunk := make([]byte, 4096)
	var n int64
	for {
		w, err := filler.Write(chunk)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if err := filler.Truncate(max(n-leave, 0)); err != nil {
		t.Fatal(err)
	}
}

// runBinary runs the built binary and returns its exit code, stdout and stderr.
func runBinary(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// onlyCredentialLeft fails when anything but the credential is left in its directory: a
// temporary file, a lock.
func onlyCredentialLeft(t *testing.T, f *fixture) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Dir(f.credPath()))
	for _, e := range entries {
		if e.Name() != filepath.Base(f.credPath()) {
			t.Errorf("left behind in the credential directory: %s", e.Name())
		}
	}
}

// A disk that fills up during the save: the refresh happened at the provider, but the old
// credential file is intact (never truncated or half-written), no temporary file or lock is
// left, and tokctl says why and exits 1. A disk already too full for the lock fails before the
// provider is asked at all.
func TestDiskFullDuringSave(t *testing.T) {
	bin := tokctlBinary(t, "")
	for _, tc := range []struct {
		name     string
		free     int64 // bytes left free: one page holds the lock's owner record
		requests int
	}{
		{"room for the lock only", 4096, 1},
		{"no room at all", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fixtureIn(t, mountTmpfs(t, "64k"))
			f.storeExpired(t)
			before, _ := os.ReadFile(f.credPath())
			fillDisk(t, f.home, tc.free)
			code, stdout, stderr := runBinary(t, bin, "token", "--home", f.home)
			if code != 1 || stdout != "" {
				t.Fatalf("exit %d, stdout %q, want exit 1 and nothing on stdout; stderr:\n%s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, "tokctl: error: ") || !strings.Contains(stderr, "no space left on device") {
				t.Fatalf("stderr does not say the disk is full:\n%s", stderr)
			}
			if after, _ := os.ReadFile(f.credPath()); !bytes.Equal(after, before) {
				t.Fatalf("the old credential was damaged:\n%s", after)
			}
			if n := f.srv.Stats().TokenRequests; n != tc.requests {
				t.Errorf("%d token requests, want %d", n, tc.requests)
			}
			onlyCredentialLeft(t, f)
		})
	}
}

// A read-only credential directory (a read-only mount; for a non-root user, mode 0500): a
// valid token is still printed (the hot path writes nothing); an expired one cannot be locked,
// so tokctl exits 1 naming the lock file, without asking the provider.
func TestReadOnlyCredentialDirectory(t *testing.T) {
	bin := tokctlBinary(t, "")
	var f *fixture
	readOnly := func() {}
	if os.Geteuid() == 0 { // root writes through mode bits: use a read-only mount
		f = fixtureIn(t, mountTmpfs(t, "1m"))
		readOnly = func() {
			if err := syscall.Mount("", f.home, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
				t.Skipf("skipping: cannot remount read-only: %v", err)
			}
		}
	} else {
		f = newFixture(t, oauthtest.Options{})
		readOnly = func() {
			os.Chmod(filepath.Dir(f.credPath()), 0o500)
			t.Cleanup(func() { os.Chmod(filepath.Dir(f.credPath()), 0o700) })
		}
	}
	r := f.srv.Issue("openid", time.Hour)
	fresh := &creds.Credential{AccessToken: r.AccessToken, TokenType: "Bearer", RefreshToken: r.RefreshToken, Expiry: time.Now().Add(time.Hour)}
	if err := creds.NewFileStore(f.credPath()).Save(fresh); err != nil {
		t.Fatal(err)
	}
	readOnly()
	if code, stdout, stderr := runBinary(t, bin, "token", "--home", f.home); code != 0 || stdout != r.AccessToken+"\n" {
		t.Fatalf("valid token on a read-only directory: exit %d, stderr:\n%s", code, stderr)
	}
	code, stdout, stderr := runBinary(t, bin, "token", "--home", f.home, "--min-ttl", "2h")
	if code != 1 || stdout != "" || !strings.Contains(stderr, filepath.Base(f.credPath())+".lock") {
		t.Fatalf("expired token on a read-only directory: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "read-only file system") && !strings.Contains(stderr, "permission denied") {
		t.Fatalf("stderr does not say why:\n%s", stderr)
	}
	if n := f.srv.Stats().TokenRequests; n != 0 {
		t.Fatalf("%d token requests without holding the lock", n)
	}
}

// Ctrl-C during a login — while the browser is out, or while the code is being exchanged —
// ends tokctl with exit 130 at once, and leaves no login lock, no credential, no temporary file.
func TestInterruptDuringLogin(t *testing.T) {
	bin := tokctlBinary(t, "")
	exe, _ := os.Executable()
	browser := filepath.Join(t.TempDir(), "fake-browser") // the test binary, as a browser
	if err := os.Symlink(exe, browser); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		browser string
		ready   func(f *fixture) bool
	}{
		{"waiting for the browser", "true", func(f *fixture) bool {
			_, err := os.Stat(f.credPath() + ".login.lock")
			return err == nil && f.srv.Stats().AuthorizeRequests == 0
		}},
		{"exchanging the code", browser, func(f *fixture) bool { return f.srv.Stats().TokenRequests == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := loginFixture(t, bin, oauthtest.Options{})
			f.srv.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: 20 * time.Second})
			cmd, _, stderr := startLogin(t, bin, f, []string{"BROWSER=" + tc.browser})
			waitFor(t, func() bool { return tc.ready(f) })
			time.Sleep(50 * time.Millisecond)
			start := time.Now()
			cmd.Process.Signal(os.Interrupt)
			rest := make(chan string)
			go func() {
				var b strings.Builder
				for stderr.Scan() {
					b.WriteString(stderr.Text() + "\n")
				}
				rest <- b.String()
			}()
			err := cmd.Wait()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 130 {
				t.Fatalf("login after SIGINT: %v, want exit 130", err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("login took %s to stop", took)
			}
			if out := <-rest; !strings.Contains(out, "tokctl: interrupted") {
				t.Fatalf("stderr after SIGINT:\n%s", out)
			}
			entries, _ := os.ReadDir(filepath.Dir(f.credPath()))
			for _, e := range entries {
				t.Errorf("left behind: %s", e.Name())
			}
		})
	}
}

// A provider that never answers holds tokctl token only for --timeout (retries included):
// exit 5 soon after, no lock left, the credential unchanged.
func TestTimeoutBoundsASlowProvider(t *testing.T) {
	bin := tokctlBinary(t, "")
	f := newFixture(t, oauthtest.Options{})
	f.storeExpired(t)
	before, _ := os.ReadFile(f.credPath())
	for range 8 {
		f.srv.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: time.Minute})
	}
	start := time.Now()
	code, stdout, stderr := runBinary(t, bin, "token", "--home", f.home, "--timeout", "1s")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("tokctl token --timeout 1s took %s", took)
	}
	if code != 5 || stdout != "" || !strings.Contains(stderr, "provider unavailable") {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(f.credPath()); !bytes.Equal(after, before) {
		t.Fatal("the credential changed")
	}
	onlyCredentialLeft(t, f)
}
