package commands_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
)

// The curl and cron recipes of README.md, run verbatim by the tests below. The API is
// https://api.example.com, which ~/.curlrc (connect-to, cacert) sends to the test's server.
const (
	curlRecipe     = `curl -H @<(tokctl token --output header) https://api.example.com/me`
	curlExecRecipe = `tokctl exec -- sh -c 'printf "Authorization: Bearer %s\n" "$TOKCTL_ACCESS_TOKEN" | curl -H @- https://api.example.com/me'`
	// curlArgvLeak is what the recipes avoid: the shell expands the token into curl's arguments.
	curlArgvLeak = `tokctl exec -- sh -c 'curl -H "Authorization: Bearer $TOKCTL_ACCESS_TOKEN" https://api.example.com/me'`
	cronRecipe   = `*/5 * * * * err=$(tokctl token --quiet --profile ci 2>&1 >/dev/null); [ $? -ne 3 ] || echo "$err" | mail -s "tokctl: login required for profile ci" ops@example.com`
)

// curlEnv starts the API server for api.example.com and points the user's curl at it.
func (e *userEnv) curlEnv() {
	e.t.Helper()
	api := e.startAPI("api.example.com")
	port := api.url[strings.LastIndex(api.url, ":")+1:]
	rc := fmt.Sprintf("connect-to = api.example.com:443:127.0.0.1:%s\ncacert = %s\nsilent\nshow-error\n", port, api.caFile)
	if err := os.WriteFile(filepath.Join(e.home, ".curlrc"), []byte(rc), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// argvScan looks, while a request is being answered (its client waits), at the command line of
// every process on the machine: which contain the token, and whether a curl process for
// api.example.com is among them (proof that the scan sees the client).
type argvScan struct {
	leaks     []string
	sawClient bool
}

func scanArgv(token string) argvScan {
	var s argvScan
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil || len(data) == 0 {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if filepath.Base(argv[0]) == "curl" && strings.Contains(string(data), "https://api.example.com/me") {
			s.sawClient = true
		}
		if strings.Contains(string(data), token) {
			s.leaks = append(s.leaks, fmt.Sprintf("%s: %q", filepath.Dir(p), argv))
		}
	}
	return s
}

// curlRun runs a recipe with bash and scans every command line while curl waits for the answer.
func (e *userEnv) curlRun(t *testing.T, recipe, token string) (runResult, argvScan) {
	t.Helper()
	scans := make(chan argvScan, 1)
	e.api.mu.Lock()
	e.api.during = func(*http.Request) { scans <- scanArgv(token) }
	e.api.mu.Unlock()
	r := e.bash(recipe)
	select {
	case s := <-scans:
		return r, s
	default:
		return r, argvScan{}
	}
}

// TestCurlRecipes: the README's curl recipes get through with the stored token, and no process
// has the token in its arguments while curl talks to the API. The naive form, which the recipes
// avoid, is caught by the same scan.
func TestCurlRecipes(t *testing.T) {
	e := newUserEnv(t, oauthtest.Options{}, "default")
	e.curlEnv()
	c := e.store("default", time.Hour)
	allowLeak(c.AccessToken) // curlArgvLeak puts it in curl's argv on purpose (leak_test.go)
	for _, tc := range []struct {
		recipe string
		leaks  bool
	}{{curlRecipe, false}, {curlExecRecipe, false}, {curlArgvLeak, true}} {
		r, scan := e.curlRun(t, tc.recipe, c.AccessToken)
		if r.code != 0 || r.stdout != "{\"user\":\"alice\"}\n" || r.stderr != "" {
			t.Fatalf("%s\nexit %d, stdout %q, stderr %q", tc.recipe, r.code, r.stdout, r.stderr)
		}
		if !scan.sawClient {
			t.Fatalf("%s\nthe scan did not see curl", tc.recipe)
		}
		if leaked := len(scan.leaks) > 0; leaked != tc.leaks {
			t.Fatalf("%s\ntoken in argv: %v, want %v: %v", tc.recipe, leaked, tc.leaks, scan.leaks)
		}
	}
	if accepted, rejected := e.api.seen(); accepted[c.AccessToken] != 3 || rejected != 0 {
		t.Fatalf("API accepted %v, rejected %d", accepted, rejected)
	}
}

// TestCurlRecipeRefreshes: with the token expired, the curl recipe refreshes once first.
func TestCurlRecipeRefreshes(t *testing.T) {
	e := newUserEnv(t, oauthtest.Options{}, "default")
	e.curlEnv()
	old := e.store("default", -time.Minute)
	for _, recipe := range []string{curlRecipe, curlExecRecipe} {
		if r := e.bash(recipe); r.code != 0 || r.stdout != "{\"user\":\"alice\"}\n" {
			t.Fatalf("%s\nexit %d, stdout %q, stderr %q", recipe, r.code, r.stdout, r.stderr)
		}
	}
	now := e.stored("default")
	if st := e.srv.Stats(); st.Refreshes != 1 || now.AccessToken == old.AccessToken {
		t.Fatalf("%d refreshes", st.Refreshes)
	}
	if accepted, rejected := e.api.seen(); accepted[now.AccessToken] != 2 || rejected != 0 {
		t.Fatalf("API accepted %v, rejected %d", accepted, rejected)
	}
}

// TestExecSignals: tokctl exec passes SIGTERM on to the command and exits with its status; a
// SIGINT sent to tokctl alone is not passed on (a terminal's Ctrl-C reaches the command
// directly), and a command killed by a signal makes tokctl exit 128+N.
func TestExecSignals(t *testing.T) {
	e := newUserEnv(t, oauthtest.Options{}, "default")
	e.store("default", time.Hour)
	start := func(script string) (*exec.Cmd, *bufio.Reader) {
		cmd := exec.Command("tokctl", "exec", "--", "sh", "-c", script)
		cmd.Env = e.env()
		cmd.Path = filepath.Join(e.bin, "tokctl")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(out)
		if line, err := rd.ReadString('\n'); line != "ready\n" {
			t.Fatalf("command said %q, %v", line, err)
		}
		return cmd, rd
	}
	trap := `trap 'echo INT' INT; trap 'echo TERM; exit 42' TERM; echo ready; while :; do sleep 0.02; done`
	cmd, rd := start(trap)
	shPID := findChild(t, cmd.Process.Pid)
	guard := time.AfterFunc(5*time.Second, func() { // a broken relay must fail the test, not hang it
		syscall.Kill(shPID, syscall.SIGKILL)
		cmd.Process.Kill()
	})
	defer guard.Stop()
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := rd.ReadString(0)
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 42 || rest != "TERM\n" {
		t.Fatalf("after SIGINT and SIGTERM to tokctl: %v, the command printed %q; want exit 42 after TERM only", err, rest)
	}

	cmd, _ = start(`echo ready; exec sleep 10`)
	sleepPID := findChild(t, cmd.Process.Pid)
	syscall.Kill(sleepPID, syscall.SIGKILL)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 128+9 {
		t.Fatalf("command killed by SIGKILL: tokctl exit %d, want 137", code)
	}
}

// findChild returns the pid of the one child of pid (started by any of its threads).
func findChild(t *testing.T, pid int) int {
	t.Helper()
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var all []byte
	for _, f := range files {
		data, _ := os.ReadFile(f)
		all = append(all, data...)
	}
	var child int
	if _, err := fmt.Sscan(string(all), &child); err != nil {
		t.Fatalf("children of %d: %q", pid, all)
	}
	return child
}

// TestTokenQuietForCron: on a login-required profile "tokctl token --quiet" prints exactly one
// line, the error, and exits 3, and never opens a browser.
func TestTokenQuietForCron(t *testing.T) {
	e := newUserEnv(t, oauthtest.Options{}, "ci")
	e.fake("fake-browser", "echo opened >> \"$HOME/browser.log\"\n")
	env := e.env("BROWSER=fake-browser", "DISPLAY=:0")
	r := e.run(env, "tokctl", "token", "--quiet", "--profile", "ci")
	if r.code != 3 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "tokctl: error: no credential stored") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 3 and one error line", r.code, r.stdout, r.stderr)
	}
	c := e.store("ci", -time.Minute)
	e.srv.RevokeFamilyOf(c.RefreshToken)
	r = e.run(env, "tokctl", "token", "--quiet", "--profile", "ci")
	if r.code != 3 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "tokctl: error: the provider rejected the refresh token: invalid_grant") {
		t.Fatalf("revoked: exit %d, stderr %q; want exit 3 and one error line", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(e.home, "browser.log")); err == nil {
		t.Fatal("a browser was opened")
	}
}

// TestQuietBeforeCommand: --quiet is global; given before the command it silences the hint too.
func TestQuietBeforeCommand(t *testing.T) {
	e := newUserEnv(t, oauthtest.Options{}, "ci")
	r := e.run(e.env(), "tokctl", "--quiet", "token", "--profile", "ci")
	if r.code != 3 || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("tokctl --quiet token: exit %d, stderr %q; want exit 3 and one error line", r.code, r.stderr)
	}
}

// TestCronRecipe runs the README's crontab line as cron does (/bin/sh -c, a bare environment)
// with a fake mail(1): it mails the error line when a login is required, and stays silent when
// the token is fine.
func TestCronRecipe(t *testing.T) {
	e := newUserEnv(t, oauthtest.Options{}, "ci")
	e.fake("mail", `{ printf '%s\n' "$@"; echo ---; cat; } >> "$HOME/mail.log"`+"\n")
	fields := strings.Fields(cronRecipe)
	command := strings.TrimSpace(strings.TrimPrefix(cronRecipe, strings.Join(fields[:5], " ")))
	cron := func() string {
		os.Remove(filepath.Join(e.home, "mail.log"))
		r := e.run(e.env(), "/bin/sh", "-c", command)
		if r.stdout != "" || r.stderr != "" {
			t.Fatalf("the cron job printed (cron would mail it): %q %q", r.stdout, r.stderr)
		}
		mail, _ := os.ReadFile(filepath.Join(e.home, "mail.log"))
		return string(mail)
	}
	want := "-s\ntokctl: login required for profile ci\nops@example.com\n---\ntokctl: error: no credential stored in " + e.paths.CredentialFile("ci") + "\n"
	if got := cron(); got != want {
		t.Fatalf("no credential: mail\n%q\nwant\n%q", got, want)
	}
	e.store("ci", time.Hour)
	if got := cron(); got != "" {
		t.Fatalf("fresh token: mail %q", got)
	}
	e.store("ci", -time.Minute)
	if got := cron(); got != "" || e.srv.Stats().Refreshes != 1 {
		t.Fatalf("expired token: mail %q, %d refreshes", got, e.srv.Stats().Refreshes)
	}
	e.srv.RevokeFamilyOf(e.stored("ci").RefreshToken)
	e.store("ci", -time.Minute)
	e.srv.RevokeFamilyOf(e.stored("ci").RefreshToken)
	if got := cron(); !strings.Contains(got, "---\ntokctl: error: the provider rejected the refresh token: invalid_grant") {
		t.Fatalf("revoked: mail %q", got)
	}
}

// TestREADMERecipes: the recipes these tests run are the README's, byte for byte.
func TestREADMERecipes(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, recipe := range []string{kubectlRecipe, curlRecipe, curlExecRecipe, cronRecipe} {
		if !bytes.Contains(readme, []byte(indent(recipe))) {
			t.Errorf("README.md lacks the recipe (indented by 4 spaces):\n%s", indent(recipe))
		}
	}
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
