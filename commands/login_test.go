package commands_test

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

// loginFixture is a home whose profile "default" was set up from the server's discovery.
func loginFixture(t *testing.T, bin string, opt oauthtest.Options) *fixture {
	t.Helper()
	f := &fixture{home: t.TempDir(), srv: oauthtest.NewServer(opt)}
	t.Cleanup(f.srv.Close)
	out, err := exec.Command(bin, "profile", "set", "default", "--home", f.home, "--issuer", f.srv.URL(),
		"--client-id", "tokctl-test", "--scope", "openid", "--scope", "offline_access").CombinedOutput()
	if err != nil {
		t.Fatalf("profile set: %v\n%s", err, out)
	}
	return f
}

// startLogin runs "tokctl login ARGS" as a person at a terminal without a display would.
func startLogin(t *testing.T, bin string, f *fixture, env []string, args ...string) (*exec.Cmd, io.Writer, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"login", "--home", f.home, "--timeout", "20s"}, args...)...)
	cmd.Env = append(filteredEnv("DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "SSH_CONNECTION", "SSH_TTY"), env...)
	stdin, _ := cmd.StdinPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, stdin, bufio.NewScanner(stderr)
}

// expectLine reads stderr until a line contains want and returns that line.
func expectLine(t *testing.T, sc *bufio.Scanner, want string) string {
	t.Helper()
	var seen []string
	for sc.Scan() {
		if line := sc.Text(); strings.Contains(line, want) {
			return line
		} else {
			seen = append(seen, line)
		}
	}
	t.Fatalf("stderr never said %q; it said:\n%s", want, strings.Join(seen, "\n"))
	return ""
}

// Over SSH, login prints the URL, says why no browser opens, and takes the pasted redirect.
func TestLoginOverSSHTakesThePastedRedirect(t *testing.T) {
	bin := tokctlBinary(t, "")
	f := loginFixture(t, bin, oauthtest.Options{})
	cmd, stdin, stderr := startLogin(t, bin, f, []string{"SSH_CONNECTION=10.0.0.1 5555 10.0.0.2 22"})
	expectLine(t, stderr, "not opening a browser (this is an SSH session)")
	authURL := strings.TrimSpace(expectLine(t, stderr, "/authorize?"))
	// The person opens the URL on their laptop; the browser ends on the loopback redirect,
	// which does not load there, and they paste its address.
	resp, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	io.WriteString(stdin, "  "+resp.Header.Get("Location")+"\n")
	expectLine(t, stderr, `logged in to profile "default" as alice@example.com`)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	if _, err := creds.NewFileStore(config.Paths{State: f.home}.CredentialFile("default")).Load(); err != nil {
		t.Fatalf("no credential stored: %v", err)
	}
}

// The device flow shows the verification URL; the person approves it on another device.
func TestLoginWithDeviceCode(t *testing.T) {
	bin := tokctlBinary(t, "")
	f := loginFixture(t, bin, oauthtest.Options{DeviceInterval: 200 * time.Millisecond})
	cmd, _, stderr := startLogin(t, bin, f, nil, "--device")
	line := expectLine(t, stderr, "user_code=")
	resp, err := http.Get(strings.TrimSpace(line)) // the person opens it and approves
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	expectLine(t, stderr, `logged in to profile "default"`)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login --device: %v", err)
	}
	if f.srv.Stats().DevicePolls < 1 {
		t.Fatal("the device token endpoint was never polled")
	}
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func filteredEnv(drop ...string) []string {
	var env []string
outer:
	for _, kv := range os.Environ() {
		for _, d := range drop {
			if strings.HasPrefix(kv, d+"=") {
				continue outer
			}
		}
		env = append(env, kv)
	}
	return env
}

// A login abandoned by a killed process releases the profile at once: the login that waited
// for it goes ahead with its own browser.
func TestAbandonedLoginReleasesPromptly(t *testing.T) {
	bin := tokctlBinary(t, "")
	f := loginFixture(t, bin, oauthtest.Options{})
	first, _, _ := startLogin(t, bin, f, []string{"BROWSER=true"}) // a browser nobody uses
	waitFor(t, func() bool {
		_, err := os.Stat(config.Paths{State: f.home}.CredentialFile("default") + ".login.lock")
		return err == nil
	})
	browser := filepath.Join(t.TempDir(), "fake-browser") // the test binary, as a browser
	exe, _ := os.Executable()
	if err := os.Symlink(exe, browser); err != nil {
		t.Fatal(err)
	}
	second, _, stderr := startLogin(t, bin, f, []string{"BROWSER=" + browser})
	expectLine(t, stderr, "waiting for the login in progress (pid ")
	killed := time.Now()
	first.Process.Kill()
	first.Wait()
	expectLine(t, stderr, `logged in to profile "default"`)
	if err := second.Wait(); err != nil {
		t.Fatalf("second login: %v", err)
	}
	if took := time.Since(killed); took > 3*time.Second {
		t.Fatalf("the waiting login needed %s after the first was killed", took)
	}
}
