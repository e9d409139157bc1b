package commands_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
)

// The audit's sentinels are what the tests' authorization servers really mint: were oauthtest
// to change its token format, the audit would otherwise pass by seeing nothing.
func TestLeakSentinelsAreOAuthtests(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{})
	defer srv.Close()
	r := srv.Issue("openid", time.Hour)
	for what, tok := range map[string]string{"access token": r.AccessToken, "refresh token": r.RefreshToken} {
		if redact(tok) == tok {
			t.Errorf("the %s %s…(%d bytes) is not a sentinel", what, tok[:3], len(tok))
		}
	}
}

// takeFindings runs f and returns the findings it added, removing them from the audit.
func takeFindings(f func()) []string {
	audit.mu.Lock()
	n := len(audit.findings)
	audit.mu.Unlock()
	f()
	audit.mu.Lock()
	defer audit.mu.Unlock()
	added := append([]string(nil), audit.findings[n:]...)
	audit.findings = audit.findings[:n]
	return added
}

// The audit flags a sentinel in each place it watches, and only there.
func TestLeakAuditSeesLeaks(t *testing.T) {
	rt := "rt_" + strings.Repeat("Q", 32)
	at := "at_" + strings.Repeat("Q", 32)
	dir := t.TempDir()
	write := func(name, content string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700)
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)
	}
	write("records/1.argv", "tokctl\x00status")
	write("records/1.stdout", "refresh token present: "+rt)
	write("records/2.argv", "tokctl\x00token")
	write("records/2.stdout", at+"\n")
	write("records/2.stderr", "tokctl: error: client s3cret-value rejected")
	write("records/3.argv", "tokctl\x00profile\x00show")
	write("records/3.crash", "panic: "+at)
	found := takeFindings(func() { scanRecords(filepath.Join(dir, "records")) })
	want := []string{"crash of script process 3 (tokctl profile show) holds an access token",
		"stderr of script process 2 (tokctl token) holds a client secret", "stdout of script process 1 (tokctl status) holds a refresh token"}
	slices.Sort(found)
	if !slices.Equal(found, want) {
		t.Errorf("records: found %q, want %q", found, want)
	}
	for _, f := range found {
		if strings.Contains(f, rt) || strings.Contains(f, at) || strings.Contains(f, "s3cret-value") {
			t.Errorf("the report leaks: %s", f)
		}
	}

	write("home/credentials/default.json", `{"refresh_token":"`+rt+`"}`)
	write("home/credentials/default.json.refresh-failed", `{"error":"`+rt+`"}`)
	write("home/profiles/p.json", `{"client_id":"s3cret"}`)
	found = takeFindings(func() { scanHome("x", filepath.Join(dir, "home")) })
	if len(found) != 2 || !strings.Contains(strings.Join(found, "|"), "refresh-failed") || !strings.Contains(strings.Join(found, "|"), "p.json") {
		t.Errorf("home: found %q, want the failure record and the profile, not the credential", found)
	}

	if audit.dir == "" {
		t.Skip("the /proc sweep runs only with " + leakAuditEnv + "=1")
	}
	cmd := exec.Command("sh", "-c", "sleep 3", rt) // $0 of the shell: a refresh token in argv
	found = takeFindings(func() {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		defer cmd.Process.Kill()
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			audit.mu.Lock()
			n := len(audit.findings)
			audit.mu.Unlock()
			if n > 0 && strings.Contains(audit.findings[n-1], "argv of process") {
				return
			}
		}
	})
	if len(found) != 1 || !strings.Contains(found[0], "holds a refresh token") {
		t.Errorf("/proc sweep: found %q, want the shell's argv", found)
	}
}
