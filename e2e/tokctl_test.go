package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
)

// Build tags of the two tokctl binaries under test.
const (
	releaseBuild = ""              // as released: CGO_ENABLED=0, -trimpath, urfave_cli_no_docs
	lockless     = "tokctl_nolock" // the same without the lock, to prove the tests have teeth
)

var builds sync.Map // tags -> *build

type build struct {
	once sync.Once
	path string
	err  error
}

// tokctlBinary builds tokctl from the repository root (../) once per test run.
func tokctlBinary(t *testing.T, tags string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(tags, &build{})
	b := v.(*build)
	b.once.Do(func() {
		b.path = filepath.Join(workDir, strings.TrimSuffix("tokctl-"+tags, "-"))
		cmd := exec.Command("go", "build", "-trimpath", "-tags", strings.TrimSpace("urfave_cli_no_docs "+tags), "-o", b.path, ".")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = &buildError{tags, string(out)}
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

type buildError struct{ tags, out string }

func (e *buildError) Error() string { return "build tokctl (tags " + e.tags + "): " + e.out }

// home is one TOKCTL_HOME whose profile "default" is a Hydra client.
type home struct {
	dir      string
	clientID string
}

// newHome registers a client at Hydra and sets up the profile with the hydra preset and
// discovery, as a user would: tokctl profile set default --provider hydra --issuer URL ...
func newHome(t *testing.T) *home {
	t.Helper()
	h := &home{dir: t.TempDir(), clientID: stack.newClient(t)}
	h.mustRun(t, tokctlBinary(t, releaseBuild), "profile", "set", "default",
		"--provider", "hydra", "--issuer", stack.issuer, "--client-id", h.clientID)
	return h
}

// importLogin logs in (without a browser) and stores the token response with "tokctl import".
func (h *home) importLogin(t *testing.T) *creds.Credential {
	t.Helper()
	file := tempFile(t, "response.json")
	if err := os.WriteFile(file, tokenResponse(t, stack.login(t, h.clientID)), 0o600); err != nil {
		t.Fatal(err)
	}
	h.mustRun(t, tokctlBinary(t, releaseBuild), "import", file)
	return h.credential(t)
}

// credential loads the stored credential through tokctl's own file store.
func (h *home) credential(t *testing.T) *creds.Credential {
	t.Helper()
	p, err := config.ResolvePaths(h.dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	c, err := creds.NewFileStore(p.CredentialFile("default")).Load()
	if err != nil {
		t.Fatalf("load the stored credential: %v", err)
	}
	return c
}

// result is what one tokctl process did.
type result struct {
	stdout, stderr string
	code           int
}

// command prepares a tokctl process for this home (TOKCTL_HOME; no other TOKCTL_ variable of
// the caller's environment leaks in).
func (h *home) command(bin string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOKCTL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TOKCTL_HOME="+h.dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// run runs tokctl to completion.
func (h *home) run(t *testing.T, bin string, args ...string) result {
	t.Helper()
	cmd, stdout, stderr := h.command(bin, args...)
	err := cmd.Run()
	r := result{stdout.String(), stderr.String(), exitCode(err)}
	if r.code < 0 {
		t.Fatalf("tokctl %s: %v", args[0], err)
	}
	return r
}

// mustRun runs tokctl and fails the test unless it exits 0.
func (h *home) mustRun(t *testing.T, bin string, args ...string) result {
	t.Helper()
	r := h.run(t, bin, args...)
	if r.code != 0 {
		t.Fatalf("tokctl %s: exit %d\n%s", strings.Join(args[:min(2, len(args))], " "), r.code, r.stderr)
	}
	return r
}

// token runs "tokctl token" and returns the printed access token.
func (h *home) token(t *testing.T, args ...string) string {
	t.Helper()
	r := h.mustRun(t, tokctlBinary(t, releaseBuild), append([]string{"token"}, args...)...)
	return strings.TrimSuffix(r.stdout, "\n")
}

// burst starts n "tokctl token" processes as close together as possible and waits for all.
func (h *home) burst(t *testing.T, bin string, n int, args ...string) []result {
	t.Helper()
	type proc struct {
		cmd            *exec.Cmd
		stdout, stderr *bytes.Buffer
	}
	procs := make([]proc, n)
	for i := range procs {
		cmd, stdout, stderr := h.command(bin, append([]string{"token"}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = proc{cmd, stdout, stderr}
	}
	results := make([]result, n)
	for i, p := range procs {
		err := p.cmd.Wait()
		results[i] = result{p.stdout.String(), p.stderr.String(), exitCode(err)}
	}
	return results
}

// fp names a token in test output: a short SHA-256 fingerprint, never the token.
func fp(token string) string { return creds.Fingerprint(strings.TrimSpace(token)) }
