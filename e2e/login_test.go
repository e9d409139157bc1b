package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoginWithChromiumAgainstHydra: "tokctl login" opens real headless Chromium ($BROWSER),
// which goes through Hydra's login and consent to tokctl's loopback listener; tokctl checks
// state, PKCE and the ID token, stores the grant, and "tokctl token" then refreshes it with
// rotation.
func TestLoginWithChromiumAgainstHydra(t *testing.T) {
	h := newHome(t)
	cmd, _, stderr := h.command(tokctlBinary(t, releaseBuild), "login", "--timeout", "90s")
	cmd.Env = append(cmd.Env, "BROWSER="+headlessOpen(t))
	if err := cmd.Run(); err != nil {
		t.Fatalf("tokctl login: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), `logged in to profile "default" as `) { // the ID token's user
		t.Fatalf("login did not report the user (%d bytes); stderr:\n%s", stderr.Len(), stderr.String())
	}
	c := h.credential(t)
	if c.IDToken == "" || !stack.active(t, c.RefreshToken) {
		t.Fatalf("login stored no ID token or an inactive grant (refresh token %s)", fp(c.RefreshToken))
	}

	first := c.RefreshToken
	h.token(t, "--min-ttl", "24h") // asks for more than the token has: a refresh
	after := h.credential(t)
	if after.RefreshToken == first || stack.active(t, first) || !stack.active(t, after.RefreshToken) {
		t.Fatalf("the refresh did not rotate at Hydra: %s -> %s", fp(first), fp(after.RefreshToken))
	}
	status := h.mustRun(t, tokctlBinary(t, releaseBuild), "status")
	if !strings.Contains(status.stdout, "user:           ") || strings.Contains(status.stdout, after.AccessToken) {
		t.Fatalf("status:\n%s", status.stdout)
	}
}

// TestConcurrentLoginsOpenOneBrowser: five "tokctl login" for one profile at once open real
// Chromium exactly once; the other four wait for that login and use its result.
func TestConcurrentLoginsOpenOneBrowser(t *testing.T) {
	h := newHome(t)
	opened := tempFile(t, "opened")
	browser := filepath.Join(t.TempDir(), "browser")
	script := fmt.Sprintf("#!/bin/sh\necho opened >> %q\nexec %q \"$@\"\n", opened, headlessOpen(t))
	if err := os.WriteFile(browser, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	type proc struct {
		wait   func() error
		stderr *strings.Builder
	}
	var procs []proc
	for range 5 {
		cmd, _, stderr := h.command(tokctlBinary(t, releaseBuild), "login", "--timeout", "90s")
		cmd.Env = append(cmd.Env, "BROWSER="+browser)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sb := &strings.Builder{}
		procs = append(procs, proc{func() error { err := cmd.Wait(); sb.WriteString(stderr.String()); return err }, sb})
	}
	for i, p := range procs {
		if err := p.wait(); err != nil {
			t.Fatalf("login %d: %v\n%s", i, err, p.stderr)
		}
	}
	data, _ := os.ReadFile(opened)
	if n := strings.Count(string(data), "opened"); n != 1 {
		t.Fatalf("the browser was opened %d times, want 1", n)
	}
	if !stack.active(t, h.credential(t).RefreshToken) {
		t.Fatal("the stored grant is not active at Hydra")
	}
}
