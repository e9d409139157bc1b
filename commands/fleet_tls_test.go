package commands_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
	"github.com/tokctl/tokctl/redistest"
)

// TestFleetTLSStore: a real redis-server serving TLS only, with a password. What
// redis_password.txtar covers with a plain server (a wrong or missing password) and with an
// HTTPS stand-in (a certificate no trusted CA signed) is checked here against Redis itself:
// without a CA file (the system's roots) and with a CA file of the wrong CA, "tokctl token"
// exits 1 with the --store-ca-file hint; with the right CA but a wrong password, exit 1 with
// the password hint (over TLS); a rediss:// URL aimed at a plain-text Redis exits 1 quickly with
// the TLS hint; with the right CA and password (host A's in TOKCTL_REDIS_PASSWORD, host B's in a
// 0600 file), a burst on two hosts refreshes once.
func TestFleetTLSStore(t *testing.T) {
	pw := randomPassword()
	s := redistest.NewServer(t, redistest.Options{TLS: true, Password: pw})
	r := &testRedis{Addr: s.Addr(), Password: pw, srv: s}
	audit := newFleetAudit(t, pw)
	bin := tokctlBinary(t, "")
	srv := oauthtest.NewServer(oauthtest.Options{Latency: 100 * time.Millisecond})
	t.Cleanup(srv.Close)
	url := s.URL() + "/0"
	a, b := newFleetHost(t, bin, r, srv, url), newFleetHost(t, bin, r, srv, url)
	wrongCA := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := redistest.WriteUntrustedCA(wrongCA); err != nil {
		t.Fatal(err)
	}
	var runs []fleetRun
	token := func(h *fleetHost) fleetRun {
		run := h.start("", nil, "token", "--profile", "work").wait()
		runs = append(runs, run)
		return run
	}
	refused := func(what string, run fleetRun, wantErr, wantHint string) {
		t.Helper()
		if run.code != 1 || run.stdout != "" || !strings.Contains(run.stderr, wantErr) || !strings.Contains(run.stderr, "hint: "+wantHint) {
			t.Fatalf("%s: exit %d, stdout %q; want exit 1 with %q and the hint %q; stderr:\n%s", what, run.code, run.stdout, wantErr, wantHint, run.stderr)
		}
		fleetLogf(t, "tls: %s: exit %d in %s: %s", what, run.code, ms(run.end.Sub(run.start)), firstLine(run.stderr))
	}
	caHint := "check that the server speaks TLS on that port (rediss://) and that its certificate names that host and is signed by a CA this host trusts; for a private CA: tokctl profile set NAME --store-ca-file FILE (PEM)"

	refused("no CA file (the system's roots)", token(a), "TLS: tls: failed to verify certificate", caHint)
	a.must("profile", "set", "work", "--store-ca-file", wrongCA)
	refused("a CA file of another CA", token(a), "TLS: tls: failed to verify certificate", caHint)
	a.must("profile", "set", "work", "--store-ca-file", s.CAFile())
	// Host B reads the password from a 0600 file, not from the environment.
	pwFile := filepath.Join(t.TempDir(), "redis-password")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.env = append(b.env, "TOKCTL_REDIS_PASSWORD=")
	b.must("profile", "set", "work", "--store-ca-file", s.CAFile(), "--store-password-file", pwFile)

	right := a.env
	a.env = append(append([]string(nil), right...), "TOKCTL_REDIS_PASSWORD=wrong-password-for-tls")
	refused("the right CA, a wrong password", token(a), "refused the login: redis: WRONGPASS", "set TOKCTL_REDIS_PASSWORD")
	a.env = right

	plain := redistest.NewServer(t, redistest.Options{})
	c := newFleetHost(t, bin, &testRedis{}, srv, "rediss://"+plain.Addr()+"/0")
	run := token(c)
	refused("rediss:// to a plain-text Redis", run, "TLS: ", caHint)
	if d := run.end.Sub(run.start); d > 3*time.Second {
		t.Fatalf("rediss:// to a plain-text Redis took %s to fail", d)
	}

	// The right CA and password: the fleet works over TLS.
	a.importFresh(srv, -time.Minute)
	audit.redisValues(r.Do)
	srv.ResetStats()
	burst := fleetBurst(t, []*fleetHost{a, b}, nil, 6, "token", "--profile", "work")
	runs = append(runs, burst...)
	audit.stderr(runs...)
	stored := storedCredential(t, r.Do)
	audit.redisValues(r.Do)
	st := srv.Stats()
	if broken := burstVerdict(callerResults(burst), st); len(broken) > 0 {
		t.Fatalf("a burst over TLS broke the promise: %v (%s)\n%s", broken, exitCounts(burst), firstStderr(callerResults(burst)))
	}
	if stored == nil || burst[0].token() != stored.AccessToken || !srv.Active(stored.RefreshToken) {
		t.Fatal("over TLS the callers did not print the stored token, or its family is lost")
	}
	fleetLogf(t, "tls: the right CA and password: a burst of %d on 2 hosts over TLS: %d token request, %d refresh, %d presented twice, 1 distinct token (the stored one), family alive",
		len(burst), st.TokenRequests, st.Refreshes, st.PresentedTwice)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
