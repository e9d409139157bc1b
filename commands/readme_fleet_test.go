package commands_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
)

// readmeCommands returns the tokctl command lines of one README section's code blocks, in
// order, with continuation lines joined and trailing comments removed.
func readmeCommands(t *testing.T, heading string) []string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("README.md has no section %q", heading)
	}
	text = text[start+len(heading)+2:]
	if end := strings.Index(text, "\n## "); end >= 0 {
		text = text[:end]
	}
	var cmds []string
	pending := ""
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "    ") {
			continue
		}
		line = strings.TrimSpace(line)
		if pending == "" && !strings.HasPrefix(line, "tokctl ") {
			continue
		}
		if i := strings.Index(line, " # "); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			pending += strings.TrimSpace(cont) + " "
			continue
		}
		cmds = append(cmds, pending+line)
		pending = ""
	}
	return cmds
}

// TestREADMEFleetRecipe runs the README's "Share one credential across machines" commands as
// written, on four homes ("hosts") against a real Redis. Only the Redis address is replaced,
// and the browser login by the import the README names beside it.
func TestREADMEFleetRecipe(t *testing.T) {
	cmds := readmeCommands(t, "## Share one credential across machines")
	want := []string{
		"tokctl profile set ci --provider okta --domain example.okta.com --client-id 0oa1b2c3 --store redis://redis.internal:6379/0",
		"tokctl doctor --profile ci",
		"tokctl login --profile ci",
		"tokctl token --profile ci",
		"tokctl store migrate --profile ci --to redis://redis.internal:6379/0",
		"tokctl profile set ci --store redis://redis.internal:6379/0",
		"tokctl store migrate --profile ci --to file",
	}
	if strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the README's fleet commands changed; update this test to run them:\n%s", strings.Join(cmds, "\n"))
	}
	r := newTestRedis(t, randomPassword())
	bin := tokctlBinary(t, "")
	srv := oauthtest.NewServer(oauthtest.Options{})
	t.Cleanup(srv.Close)
	host := func() *fleetHost {
		return &fleetHost{t: t, bin: bin, home: t.TempDir(),
			env: append(filteredEnv("TOKCTL_HOME", "TOKCTL_PROFILE", "TOKCTL_REDIS_PASSWORD"), "TOKCTL_REDIS_PASSWORD="+r.Password)}
	}
	args := func(cmd string) []string {
		return strings.Fields(strings.TrimPrefix(strings.ReplaceAll(cmd, "redis.internal:6379", r.Addr), "tokctl "))
	}
	const credKey = "tokctl:{ci}:credential"

	// Setup: the profile on two hosts, doctor, a login (import) on one, the token on both.
	a, b := host(), host()
	a.must(args(cmds[0])...)
	out, _, code := a.run(args(cmds[1])...)
	if code != 1 || !strings.Contains(out, "ok    store redis://"+r.Addr+"/0: redis ") || !strings.Contains(out, "credential: none stored") {
		t.Fatalf("doctor before the login: exit %d, want 1 (no credential yet) with the store checked:\n%s", code, out)
	}
	path, resp := a.freshResponse(srv, time.Hour)
	a.must("import", "--profile", "ci", path)
	b.must(args(cmds[0])...)
	for _, h := range []*fleetHost{a, b} {
		if got := strings.TrimSpace(h.must(args(cmds[3])...)); got != resp.AccessToken {
			t.Fatal("a host whose profile points at the same Redis does not get the stored token")
		}
	}

	// Moving in: a host's file credential becomes the fleet's; another host joins it.
	if _, err := r.Do("FLUSHDB"); err != nil {
		t.Fatal(err)
	}
	c, d := host(), host()
	for _, h := range []*fleetHost{c, d} {
		h.must("profile", "set", "ci", "--provider", "okta", "--domain", "example.okta.com", "--client-id", "0oa1b2c3")
	}
	path, resp = c.freshResponse(srv, time.Hour)
	c.must("import", "--profile", "ci", path)
	c.must(args(cmds[4])...)
	d.must(args(cmds[5])...)
	for _, h := range []*fleetHost{a, c, d} {
		if got := strings.TrimSpace(h.must(args(cmds[3])...)); got != resp.AccessToken {
			t.Fatal("after the migration to Redis a host does not get the migrated token")
		}
	}

	// Moving out: the credential leaves Redis for this host's file.
	c.must(args(cmds[6])...)
	if v, err := r.Do("GET", credKey); err != nil || v != nil {
		t.Fatalf("after the migration to a file the credential is still in Redis (%v)", err)
	}
	if got := strings.TrimSpace(c.must(args(cmds[3])...)); got != resp.AccessToken {
		t.Fatal("after the migration to a file the host does not get its token")
	}
	if _, _, code := d.run(args(cmds[3])...); code != 3 {
		t.Fatalf("a host still on Redis after the credential left it: exit %d, want 3 (log in)", code)
	}
}
