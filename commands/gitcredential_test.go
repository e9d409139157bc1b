package commands_test

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

// The README's git recipes. The tests run them verbatim, except that host names become the test
// git server's 127.0.0.1:PORT (and https://idp.example.com the test authorization server),
// "tokctl login" is replaced by importing a token the test server issued, and a profile line
// naming a --provider gets "--token-url" of the test server appended.
const (
	recipeGitHub = `tokctl profile set gh --provider github --client-id Iv1.abc --client-secret-env GH_APP_SECRET --host github.com
tokctl login --profile gh
ln -s "$(command -v tokctl)" "$(dirname "$(command -v tokctl)")/git-credential-tokctl"
git config --global credential.https://github.com.helper ''
git config --global --add credential.https://github.com.helper tokctl`

	recipeGitLab = `tokctl profile set gl --provider gitlab --client-id abc --redirect-port 8765
tokctl login --profile gl
ln -s "$(command -v tokctl)" "$(dirname "$(command -v tokctl)")/git-credential-tokctl"
git config --global credential.https://gitlab.com.helper ''
git config --global --add credential.https://gitlab.com.helper 'tokctl --profile gl'`

	recipeGeneric = `tokctl profile set work --issuer https://idp.example.com --client-id cli --host git.example.com
tokctl login --profile work
git config --global credential.helper '!tokctl git-credential'`
)

const gitHTTPBackend = "/usr/lib/git-core/git-http-backend"

// gitServer is a git smart-HTTP server over TLS: git-http-backend behind Basic auth that takes
// only a token the authorization server holds active (the current access token: not expired,
// not revoked, not replaced by a refresh) and, when set, the expected username.
type gitServer struct {
	*httptest.Server
	root string
	auth *oauthtest.Server
	user string

	mu                 sync.Mutex
	accepted, rejected int
	users              map[string]bool
}

func newGitServer(t *testing.T, auth *oauthtest.Server, user string) *gitServer {
	t.Helper()
	if _, err := os.Stat(gitHTTPBackend); err != nil {
		t.Fatalf("git-http-backend: %v (install git)", err)
	}
	g := &gitServer{root: t.TempDir(), auth: auth, user: user, users: map[string]bool{}}
	g.Server = httptest.NewTLSServer(g)
	t.Cleanup(g.Close)
	return g
}

func (g *gitServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	good := ok && strings.HasPrefix(pass, "at_") && g.auth.Active(pass) && (g.user == "" || user == g.user)
	g.mu.Lock()
	if good {
		g.accepted++
		g.users[user] = true
	} else if ok {
		g.rejected++
	}
	g.mu.Unlock()
	if !good {
		w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	h := &cgi.Handler{Path: gitHTTPBackend, Root: "/", Env: []string{
		"GIT_PROJECT_ROOT=" + g.root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=" + user}}
	h.ServeHTTP(w, r)
}

// host is what git sends as host= for this server, 127.0.0.1:PORT.
func (g *gitServer) host() string { return strings.TrimPrefix(g.URL, "https://") }

func (g *gitServer) counts() (accepted, rejected int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.accepted, g.rejected
}

// gitFixture is a user's machine: a HOME with an empty global git config, tokctl (the release
// build) on PATH, a TOKCTL_HOME, and a git server with one repository, repo.git.
type gitFixture struct {
	t              *testing.T
	auth           *oauthtest.Server
	git            *gitServer
	dir, home, bin string
	env            []string
}

func newGitFixture(t *testing.T, opt oauthtest.Options, gitUser string, extraEnv ...string) *gitFixture {
	t.Helper()
	f := &gitFixture{t: t, dir: t.TempDir(), auth: oauthtest.NewServer(opt)}
	t.Cleanup(f.auth.Close)
	f.git = newGitServer(t, f.auth, gitUser)
	f.home, f.bin = filepath.Join(f.dir, "home"), filepath.Join(f.dir, "bin")
	for _, d := range []string{f.home, f.bin} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(tokctlBinary(t, ""), filepath.Join(f.bin, "tokctl")); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(f.dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.git.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	f.env = append([]string{
		"PATH=" + f.bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + f.home, "XDG_CONFIG_HOME=" + filepath.Join(f.home, ".config"),
		"TOKCTL_HOME=" + filepath.Join(f.home, "tokctl"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_SSL_CAINFO=" + ca,
		"GIT_AUTHOR_NAME=Alice", "GIT_AUTHOR_EMAIL=alice@example.com",
		"GIT_COMMITTER_NAME=Alice", "GIT_COMMITTER_EMAIL=alice@example.com",
		"LANG=C", "LC_ALL=C",
	}, extraEnv...)
	f.seedRepo(filepath.Join(f.git.root, "repo.git"))
	return f
}

// seedRepo creates the bare repository with one commit on main, without the network.
func (f *gitFixture) seedRepo(bare string) {
	seed := filepath.Join(f.dir, "seed")
	for _, args := range [][]string{
		{"init", "-q", "--bare", "-b", "main", bare},
		{"init", "-q", "-b", "main", seed},
		{"-C", seed, "commit", "-q", "--allow-empty", "-m", "first"},
		{"-C", seed, "push", "-q", bare, "main"},
	} {
		f.mustGit(args...)
	}
}

// run runs a command in the fixture's environment.
func (f *gitFixture) run(name string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = f.dir, f.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// in returns the fixture for subtest t (its failures end t, not the parent).
func (f *gitFixture) in(t *testing.T) *gitFixture {
	g := *f
	g.t, g.env = t, slices.Clone(f.env)
	return &g
}

func (f *gitFixture) mustGit(args ...string) string {
	f.t.Helper()
	out, stderr, err := f.run("git", args...)
	if err != nil {
		f.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	checkGitStderr(f.t, stderr)
	return out
}

// checkGitStderr fails on anything in git's stderr that shows tokctl misbehaving: a token, or
// output git could not read as credential lines.
func checkGitStderr(t *testing.T, stderr string) {
	t.Helper()
	for _, bad := range []string{"at_", "rt_", "invalid credential line", "tokctl: error"} {
		if strings.Contains(stderr, bad) {
			t.Fatalf("git's stderr contains %q:\n%s", bad, stderr)
		}
	}
}

// recipe runs a README recipe line by line through sh, as a user pasting it would.
func (f *gitFixture) recipe(text string, replace map[string]string, tokenURL string) {
	f.t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "tokctl login ") {
			f.login(strings.Fields(line)[3])
			continue
		}
		for from, to := range replace {
			line = strings.ReplaceAll(line, from, to)
		}
		if strings.HasPrefix(line, "tokctl profile set ") && strings.Contains(line, "--provider ") {
			line += " --token-url " + tokenURL
		}
		if _, stderr, err := f.run("sh", "-c", line); err != nil {
			f.t.Fatalf("recipe line %q: %v\n%s", line, err, stderr)
		}
	}
}

// login stores a fresh token family for the profile, as "tokctl login" would.
func (f *gitFixture) login(profile string) { f.store(profile, time.Hour) }

// store imports a new token family whose access token expires after ttl (negative: expired).
func (f *gitFixture) store(profile string, ttl time.Duration) oauthtest.TokenResponse {
	f.t.Helper()
	r := f.auth.Issue("openid offline_access", ttl)
	data, _ := json.Marshal(map[string]any{"access_token": r.AccessToken, "token_type": "Bearer",
		"refresh_token": r.RefreshToken, "expires_in": int64(ttl / time.Second)})
	path := filepath.Join(f.dir, "response.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		f.t.Fatal(err)
	}
	if _, stderr, err := f.run("tokctl", "import", "--profile", profile, path); err != nil {
		f.t.Fatalf("tokctl import: %v\n%s", err, stderr)
	}
	f.auth.ResetStats()
	return r
}

func (f *gitFixture) stored(profile string) *creds.Credential {
	f.t.Helper()
	c, err := creds.NewFileStore(filepath.Join(f.home, "tokctl", "credentials", profile+".json")).Load()
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// revoke revokes an access token at the authorization server (RFC 7009), as an administrator
// or a token rotation on the server side would: the git server then answers 401 to it.
func (f *gitFixture) revoke(token string, form url.Values) {
	f.t.Helper()
	form.Set("token", token)
	resp, err := http.PostForm(f.auth.RevokeURL(), form)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("revoke: %s", resp.Status)
	}
}

func (f *gitFixture) wantStats(what string, refreshes int) {
	f.t.Helper()
	st := f.auth.Stats()
	if st.Refreshes != refreshes || st.TokenRequests != refreshes || st.PresentedTwice != 0 {
		f.t.Fatalf("%s: %d refreshes, %d token requests, %d refresh tokens presented twice; want %d, %d, 0",
			what, st.Refreshes, st.TokenRequests, st.PresentedTwice, refreshes, refreshes)
	}
}

// TestGitGitHubRecipe: with the GitHub recipe (git-credential-tokctl symlink, credential.helper
// tokctl for the host), real git clones, pushes and lists through tokctl, with the preset's
// username; once the access token has expired, the next fetch refreshes it exactly once.
func TestGitGitHubRecipe(t *testing.T) {
	f := newGitFixture(t, oauthtest.Options{ClientID: "Iv1.abc", ClientSecret: "gh-app-secret"}, "x-access-token",
		"GH_APP_SECRET=gh-app-secret")
	f.recipe(recipeGitHub, map[string]string{"github.com": f.git.host()}, f.auth.TokenURL())
	repo := f.git.URL + "/repo.git"

	f.mustGit("clone", "-q", repo, "work")
	f.mustGit("-C", "work", "commit", "-q", "--allow-empty", "-m", "pushed through tokctl")
	f.mustGit("-C", "work", "push", "-q", "origin", "main")
	if log := f.mustGit("--git-dir", filepath.Join(f.git.root, "repo.git"), "log", "--format=%s", "main"); !strings.Contains(log, "pushed through tokctl") {
		t.Fatalf("the push did not arrive: %q", log)
	}
	if refs := f.mustGit("ls-remote", repo); !strings.Contains(refs, "refs/heads/main") {
		t.Fatalf("ls-remote: %q", refs)
	}
	f.wantStats("a fresh token", 0)
	if accepted, _ := f.git.counts(); accepted == 0 || len(f.git.users) != 1 || !f.git.users["x-access-token"] {
		t.Fatalf("git server: %d requests accepted, usernames %v", accepted, f.git.users)
	}

	f.store("gh", -time.Minute)
	f.mustGit("-C", "work", "fetch", "-q")
	f.wantStats("fetch on an expired token", 1)
	if c := f.stored("gh"); !f.auth.Active(c.AccessToken) || !f.auth.Active(c.RefreshToken) {
		t.Fatal("the stored tokens are not the provider's current ones after the refresh")
	}
	f.mustGit("-C", "work", "fetch", "-q")
	f.wantStats("a second fetch", 1)
}

// TestGitGitLabRecipe: credential.<url>.helper "tokctl --profile gl" — git runs
// "git credential-tokctl --profile gl get", that is the symlink with flags before the action —
// gives git the username oauth2 and the token.
func TestGitGitLabRecipe(t *testing.T) {
	f := newGitFixture(t, oauthtest.Options{ClientID: "abc"}, "oauth2")
	f.recipe(recipeGitLab, map[string]string{"gitlab.com": f.git.host()}, f.auth.TokenURL())
	f.mustGit("clone", "-q", f.git.URL+"/repo.git", "work")
	f.mustGit("-C", "work", "ls-remote", "-q")

	f.store("gl", -time.Minute)
	f.mustGit("-C", "work", "fetch", "-q")
	f.wantStats("fetch on an expired token", 1)
	if !f.git.users["oauth2"] || len(f.git.users) != 1 {
		t.Fatalf("usernames %v", f.git.users)
	}
}

// TestGitGenericRecipe: one global credential.helper '!tokctl git-credential' (no symlink);
// tokctl serves the hosts its profiles list. 20 parallel git commands on an expired token cause
// one refresh; a token the server rejects is erased by git and refreshed by the next command;
// a host no profile lists gets nothing from tokctl, and git fails on its own.
func TestGitGenericRecipe(t *testing.T) {
	f := newGitFixture(t, oauthtest.Options{ClientID: "cli", Latency: 100 * time.Millisecond}, "")
	f.recipe(recipeGeneric, map[string]string{"https://idp.example.com": f.auth.URL(), "git.example.com": f.git.host()}, "")
	repo := f.git.URL + "/repo.git"
	f.mustGit("ls-remote", repo)
	f.wantStats("a fresh token", 0)

	t.Run("20 parallel git commands, one refresh", func(t *testing.T) {
		f := f.in(t)
		f.store("work", -time.Minute)
		var wg sync.WaitGroup
		errs := make([]string, 20)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, stderr, err := f.run("git", "ls-remote", repo)
				if err != nil || !strings.Contains(out, "refs/heads/main") || strings.Contains(stderr, "at_") {
					errs[i] = fmt.Sprintf("%v: %s", err, stderr)
				}
			}()
		}
		wg.Wait()
		for i, e := range errs {
			if e != "" {
				t.Fatalf("git %d: %s", i, e)
			}
		}
		f.wantStats("20 parallel ls-remote", 1)
	})

	t.Run("a rejected token is erased and refreshed by the next command", func(t *testing.T) {
		f := f.in(t)
		before := f.stored("work")
		f.auth.ResetStats()
		f.revoke(before.AccessToken, url.Values{"client_id": {"cli"}})
		_, stderr, err := f.run("git", "ls-remote", repo)
		if err == nil || !strings.Contains(stderr, "Authentication failed") {
			t.Fatalf("git with a revoked token: %v\n%s", err, stderr)
		}
		if !strings.Contains(stderr, "tokctl: hint:") || !strings.Contains(stderr, "rejected the access token") {
			t.Fatalf("git did not call erase, or tokctl did not say what happened:\n%s", stderr)
		}
		checkGitStderr(t, stderr)
		after := f.stored("work")
		if after.RefreshToken != before.RefreshToken || !f.auth.Active(after.RefreshToken) {
			t.Fatal("erase touched the refresh token")
		}
		f.wantStats("erase", 0)
		f.mustGit("ls-remote", repo)
		f.wantStats("the command after erase", 1)
	})

	t.Run("a host no profile serves", func(t *testing.T) {
		f := f.in(t)
		other := newGitServer(t, f.auth, "")
		f.seedRepo(filepath.Join(other.root, "repo.git"))
		f.env = append(f.env, "GIT_TRACE=1")
		_, stderr, err := f.run("git", "ls-remote", other.URL+"/repo.git")
		if err == nil || !strings.Contains(stderr, "could not read Username for '"+other.URL+"'") {
			t.Fatalf("git against a host tokctl does not serve: %v\n%s", err, stderr)
		}
		if !strings.Contains(stderr, "tokctl git-credential get") {
			t.Fatalf("git did not ask tokctl:\n%s", stderr)
		}
		if strings.Contains(stderr, "tokctl:") {
			t.Fatalf("tokctl said something about a host it does not serve:\n%s", stderr)
		}
		if accepted, _ := other.counts(); accepted != 0 {
			t.Fatal("the other server accepted a request")
		}
	})
}

// TestREADMEGitRecipes: README.md shows the recipes these tests run, each line indented by four
// spaces.
func TestREADMEGitRecipes(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{recipeGitHub, recipeGitLab, recipeGeneric} {
		for _, line := range strings.Split(r, "\n") {
			if !strings.Contains(string(readme), "    "+line+"\n") {
				t.Errorf("README.md lacks the recipe line\n    %s", line)
			}
		}
	}
}
