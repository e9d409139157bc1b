package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// chromiumPath is where Debian's chromium package puts the browser (apt-get install -y chromium).
const chromiumPath = "/usr/bin/chromium"

// TestHeadlessOpenLogsInThroughHydra: headless-open, the $BROWSER for "tokctl login" tests,
// drives real Chromium through Hydra's login and consent, past the page the login app shows in
// between, to the client's loopback listener; it prints that page's text and exits 0, and the
// code it delivered exchanges for a working grant.
func TestHeadlessOpenLogsInThroughHydra(t *testing.T) {
	bin := headlessOpen(t)
	a := stack.newAuthRequest(t, stack.newClient(t))
	pagesBefore := stack.app.pagesShown.Load()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, a.URL)
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("headless-open: %v\n%s", err, stderr.String())
	}
	took := time.Since(start)

	if !strings.Contains(stderr.String(), callbackPage) {
		t.Fatalf("headless-open exited 0 without reaching the loopback page; its stderr:\n%s", stderr.String())
	}
	tok := a.finish(t, time.Second)
	switch {
	case stack.app.pagesShown.Load() == pagesBefore:
		t.Fatal("the browser was shown no login page: this test could not tell whether headless-open waits for the loopback page")
	case !stack.active(t, tok.RefreshToken):
		t.Fatal("the grant from the browser login is not active at Hydra")
	}
	t.Logf("headless Chromium logged in as %s in %v (refresh token %s)", subject, took.Round(time.Millisecond), fp(tok.RefreshToken))
}

var headlessOpenBuild struct {
	once sync.Once
	path string
	err  error
}

// headlessOpen builds cmd/headless-open once per run. It needs Chromium: the test is skipped
// only when Chromium is missing and cannot be installed (not root); as root, ../test.sh
// installs it, so a missing browser there is a failure.
func headlessOpen(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("%s is missing: install it (apt-get install -y chromium, as ../test.sh does as root) to run the browser tests", chromiumPath)
		}
		t.Fatalf("%s is missing; ../test.sh installs it as root (apt-get install -y chromium)", chromiumPath)
	}
	b := &headlessOpenBuild
	b.once.Do(func() {
		b.path = filepath.Join(workDir, "headless-open")
		if out, err := exec.Command("go", "build", "-o", b.path, "./cmd/headless-open").CombinedOutput(); err != nil {
			b.err = &buildError{"headless-open", string(out)}
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}
