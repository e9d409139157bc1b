package commands_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
)

// fleetHost is one host of a fleet: its own TOKCTL_HOME, profile "work" on the shared Redis.
type fleetHost struct {
	t    *testing.T
	bin  string
	home string
	env  []string
}

func newFleetHost(t *testing.T, bin string, r *testRedis, srv *oauthtest.Server, store string) *fleetHost {
	t.Helper()
	h := &fleetHost{t: t, bin: bin, home: t.TempDir(),
		env: append(filteredEnv("TOKCTL_HOME", "TOKCTL_PROFILE", "TOKCTL_REDIS_PASSWORD"), "TOKCTL_REDIS_PASSWORD="+r.Password)}
	args := []string{"profile", "set", "work", "--token-url", srv.TokenURL(), "--client-id", "tokctl-test"}
	if store != "" {
		args = append(args, "--store", store)
	}
	h.must(args...)
	return h
}

// run runs tokctl on the host and returns its stdout, stderr and exit code.
func (h *fleetHost) run(args ...string) (string, string, int) {
	h.t.Helper()
	cmd := exec.Command(h.bin, append(args, "--home", h.home)...)
	cmd.Env = h.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func (h *fleetHost) must(args ...string) string {
	h.t.Helper()
	out, errOut, code := h.run(args...)
	if code != 0 {
		h.t.Fatalf("tokctl %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// importFresh imports a new token family's response with an access token valid for ttl
// (negative: expired) and returns its access token.
func (h *fleetHost) importFresh(srv *oauthtest.Server, ttl time.Duration) string {
	h.t.Helper()
	path, resp := h.freshResponse(srv, ttl)
	h.must("import", "--profile", "work", path)
	return resp.AccessToken
}

// freshResponse writes a new token family's response (as importFresh imports it) to a file and
// returns its path and the response.
func (h *fleetHost) freshResponse(srv *oauthtest.Server, ttl time.Duration) (string, oauthtest.TokenResponse) {
	h.t.Helper()
	resp := srv.Issue("openid offline_access", ttl)
	data, _ := json.Marshal(map[string]any{"access_token": resp.AccessToken, "token_type": "Bearer",
		"refresh_token": resp.RefreshToken, "expires_in": int64(ttl / time.Second)})
	path := filepath.Join(h.t.TempDir(), "resp.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		h.t.Fatal(err)
	}
	return path, resp
}

// noLocalFiles checks that a Redis profile left nothing in the home but its profile (and the
// event log): no credential, lock or failure file.
func (h *fleetHost) noLocalFiles() {
	h.t.Helper()
	filepath.WalkDir(h.home, func(path string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(h.home, path)
		if err == nil && !d.IsDir() && rel != filepath.Join("profiles", "work.json") && rel != "events.jsonl" {
			h.t.Errorf("a Redis profile wrote %s in the local home", rel)
		}
		return nil
	})
}

// The commands on a Redis store shared by three hosts: import on one, tokens on all, one
// refresh for a burst on every host, status, doctor, migration in and out, logout.
func TestRedisFleetCommands(t *testing.T) {
	r := newTestRedis(t, randomPassword())
	bin := tokctlBinary(t, "")
	srv := oauthtest.NewServer(oauthtest.Options{})
	t.Cleanup(srv.Close)
	a, b, c := newFleetHost(t, bin, r, srv, r.URL()), newFleetHost(t, bin, r, srv, r.URL()), newFleetHost(t, bin, r, srv, r.URL())

	if _, errOut, code := b.run("token", "--profile", "work"); code != 3 {
		t.Fatalf("token before any login: exit %d, want 3\n%s", code, errOut)
	}
	at := a.importFresh(srv, time.Hour)
	for _, h := range []*fleetHost{a, b, c} {
		if got := strings.TrimSpace(h.must("token", "--profile", "work")); got != at {
			t.Fatalf("token on another host: %q, want the imported one", got)
		}
	}

	// An expired token: a burst on every host causes exactly one refresh, and all print its result.
	a.importFresh(srv, -time.Minute)
	before := srv.Stats().Refreshes
	var wg sync.WaitGroup
	tokens := make(chan string, 24)
	for i := range 24 {
		h := []*fleetHost{a, b, c}[i%3]
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, errOut, code := h.run("token", "--profile", "work")
			if code != 0 {
				t.Errorf("token in the burst: exit %d\n%s", code, errOut)
			}
			tokens <- strings.TrimSpace(out)
		}()
	}
	wg.Wait()
	close(tokens)
	seen := map[string]bool{}
	for tok := range tokens {
		seen[tok] = true
	}
	st := srv.Stats()
	if st.Refreshes-before != 1 || st.PresentedTwice != 0 || len(seen) != 1 {
		t.Fatalf("burst on 3 hosts: %d refreshes, %d presented twice, %d distinct tokens; want 1, 0, 1", st.Refreshes-before, st.PresentedTwice, len(seen))
	}

	out := b.must("status", "--profile", "work", "--json")
	var status struct {
		Store, Location string
		LoggedIn        bool `json:"logged_in"`
	}
	if err := json.Unmarshal([]byte(out), &status); err != nil || status.Store != "redis" || status.Location != "redis://"+r.Addr+"/0" || !status.LoggedIn {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	out = c.must("doctor", "--profile", "work")
	if !strings.Contains(out, "ok    store redis://"+r.Addr+"/0: redis") || !strings.Contains(out, "lock in Redis: free") {
		t.Fatalf("doctor:\n%s", out)
	}
	for _, h := range []*fleetHost{a, b, c} {
		h.noLocalFiles()
	}

	// A host with its own credential in a file may not push it over the fleet's…
	d := newFleetHost(t, bin, r, srv, "")
	own := d.importFresh(srv, time.Hour)
	_, errOut, code := d.run("store", "migrate", "--profile", "work", "--to", r.URL())
	if code != 1 || !strings.Contains(errOut, "already holds a credential") || !strings.Contains(errOut, "this host can use it: \"tokctl profile set work --store "+r.URL()+"\"") {
		t.Fatalf("migrate over the fleet's credential: exit %d\n%s", code, errOut)
	}
	fleet := strings.TrimSpace(a.must("token", "--profile", "work"))
	if fleet == own {
		t.Fatal("the refused migration replaced the fleet's credential")
	}
	// …unless told to (--force), under both locks; the file copy is then gone.
	d.must("store", "migrate", "--profile", "work", "--to", r.URL(), "--force")
	if got := strings.TrimSpace(b.must("token", "--profile", "work")); got != own {
		t.Fatalf("after migrate --force the fleet has %q, want this host's", got)
	}
	if _, err := os.Stat(filepath.Join(d.home, "credentials", "work.json")); !os.IsNotExist(err) {
		t.Fatalf("the migrated file copy is still there: %v", err)
	}

	// Out of Redis: the credential moves to C's file; the others must log in again.
	c.must("store", "migrate", "--profile", "work", "--to", "file")
	if got := strings.TrimSpace(c.must("token", "--profile", "work")); got != own {
		t.Fatalf("after migrate --to file: %q", got)
	}
	if _, _, code := a.run("token", "--profile", "work"); code != 3 {
		t.Fatalf("another host after the credential left Redis: exit %d, want 3", code)
	}
	// And back in, into the now empty Redis.
	c.must("store", "migrate", "--profile", "work", "--to", r.URL())
	if got := strings.TrimSpace(a.must("token", "--profile", "work")); got != own {
		t.Fatalf("after migrating back: %q", got)
	}

	// Logout on one host logs the whole fleet out.
	a.must("logout", "--profile", "work")
	for _, h := range []*fleetHost{a, b, c, d} {
		if _, _, code := h.run("token", "--profile", "work"); code != 3 {
			t.Fatalf("token after logout: exit %d, want 3", code)
		}
	}
	if v, err := r.Do("EXISTS", "tokctl:{work}:credential"); err != nil || v != int64(0) {
		t.Fatalf("credential key after logout: %v %v", v, err)
	}
	for _, h := range []*fleetHost{a, b} {
		h.noLocalFiles()
	}
}

// A service account (client credentials) logs in straight into Redis.
func TestRedisFleetLogin(t *testing.T) {
	r := newTestRedis(t, "")
	bin := tokctlBinary(t, "")
	srv := oauthtest.NewServer(oauthtest.Options{ClientSecret: "s3cret-value"})
	t.Cleanup(srv.Close)
	a, b := newFleetHost(t, bin, r, srv, r.URL()), newFleetHost(t, bin, r, srv, r.URL())
	for _, h := range []*fleetHost{a, b} {
		h.env = append(h.env, "SVC_SECRET=s3cret-value")
		h.must("profile", "set", "work", "--grant", "client_credentials", "--client-secret-env", "SVC_SECRET")
	}
	_, errOut, _ := a.run("login", "--profile", "work")
	if !strings.Contains(errOut, `logged in to profile "work"`) || !strings.Contains(errOut, "now shares this credential") {
		t.Fatalf("login:\n%s", errOut)
	}
	if got, want := b.must("token", "--profile", "work"), a.must("token", "--profile", "work"); got != want || !strings.HasPrefix(got, "at_") {
		t.Fatalf("tokens on the two hosts: %q and %q", got, want)
	}
	if n := srv.Stats().ClientCredentials; n != 1 {
		t.Fatalf("%d client-credentials grants, want 1", n)
	}
	a.noLocalFiles()
	b.noLocalFiles()
}

// The hot path on a Redis store is one GET: "tokctl token" on a fresh credential sends nothing
// else (besides AUTH on connect), as INFO commandstats counts.
func TestRedisHotPathIsOneGET(t *testing.T) {
	r := newTestRedis(t, randomPassword())
	bin := tokctlBinary(t, "")
	srv := oauthtest.NewServer(oauthtest.Options{})
	t.Cleanup(srv.Close)
	h := newFleetHost(t, bin, r, srv, r.URL()+"?prefix=hot:")
	at := h.importFresh(srv, time.Hour)
	for range 3 {
		if _, err := r.Do("CONFIG", "RESETSTAT"); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(h.must("token", "--profile", "work")); got != at {
			t.Fatalf("token: %q", got)
		}
		stats := commandStats(t, r)
		for name := range stats {
			// The test's own CONFIG RESETSTAT and INFO; AUTH, sent on connect.
			if strings.HasPrefix(name, "config") || name == "info" || name == "auth" {
				delete(stats, name)
			}
		}
		if len(stats) != 1 || stats["get"] != 1 {
			t.Fatalf("tokctl token on a fresh credential sent %v; want exactly one GET", stats)
		}
	}
}

// commandStats returns INFO commandstats as command → calls.
func commandStats(t *testing.T, r *testRedis) map[string]int {
	t.Helper()
	v, err := r.Do("INFO", "commandstats")
	if err != nil {
		t.Fatal(err)
	}
	stats := map[string]int{}
	for _, line := range strings.Split(fmt.Sprint(v), "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd {
			continue
		}
		var calls int
		fmt.Sscanf(rest, "calls=%d", &calls)
		stats[name] = calls
	}
	return stats
}
