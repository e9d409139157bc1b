package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tokctl/tokctl/bench/internal/measure"
)

// The peer in the hot-path rotation: kubelogin, the kubectl credential plugin most clusters
// with OIDC use, at an exact release served by the Go module proxy.
const (
	kubeloginModule  = "github.com/int128/kubelogin"
	kubeloginVersion = "v1.34.0"
	// kubeloginCommand is how kubelogin's release workflow (.github/workflows/release.yaml in
	// the module) builds its linux/amd64 binary.
	kubeloginCommand = `CGO_ENABLED=0 go build -ldflags '-X main.version=` + kubeloginVersion + `'`
)

// execInfo is the KUBERNETES_EXEC_INFO kubectl gives a credential plugin that may not prompt.
const execInfo = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`

// browserEnv, set to 1, makes this program a browser for one URL (see openURL): kubelogin's
// --browser-command during the login that fills its token cache.
const browserEnv = "TOKCTL_BENCH_BROWSER"

// buildKubelogin fetches kubelogin's module from the Go module proxy and builds it into dir as
// its release is built. The error says why when the proxy refuses the module.
func buildKubelogin(dir string) (string, error) {
	dl := exec.Command("go", "mod", "download", "-json", kubeloginModule+"@"+kubeloginVersion)
	dl.Dir, dl.Env = dir, append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	out, runErr := dl.Output()
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %v %v", kubeloginModule, kubeloginVersion, runErr, err)
	}
	if mod.Error != "" || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", kubeloginModule, kubeloginVersion, firstLine(mod.Error))
	}
	bin := filepath.Join(dir, "kubelogin")
	b := exec.Command("go", "build", "-ldflags", "-X main.version="+kubeloginVersion, "-o", bin, ".")
	b.Dir, b.Env = mod.Dir, append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly")
	if out, err := b.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s@%s: %v\n%s", kubeloginModule, kubeloginVersion, err, out)
	}
	return bin, nil
}

// kubelogin is kubelogin set up for the hot path: its token cache holds a valid ID token.
type kubelogin struct {
	args    []string // "get-token …", what a kubeconfig's exec section runs
	idToken string   // what every get-token prints from the cache
}

// seedKubelogin logs kubelogin in once through its own authorization-code flow (PKCE, loopback
// redirect, this program as the browser), so that its token cache in cacheDir holds an ID
// token, and checks that get-token then answers from that cache.
func seedKubelogin(bin, issuer, clientID, cacheDir string) (*kubelogin, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// The redirect URL is part of kubelogin's cache key: every call names it, as a kubeconfig
	// would; where to listen and which browser to open are not.
	k := &kubelogin{args: []string{"get-token", "--oidc-issuer-url", issuer, "--oidc-client-id", clientID,
		"--oidc-redirect-url", "http://127.0.0.1:" + port, "--token-cache-dir", cacheDir}}
	login := append(append([]string{}, k.args...), "--listen-address", "127.0.0.1:"+port,
		"--browser-command", self, "--authentication-timeout-sec", "20")
	cmd := exec.Command(bin, login...)
	cmd.Env = append(childEnv(), "KUBERNETES_EXEC_INFO="+execInfo, browserEnv+"=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("kubelogin login: %v: %s", err, firstLine(errb.String()))
	}
	if k.idToken, err = execCredentialToken(out.String()); err != nil {
		return nil, fmt.Errorf("kubelogin login: %v", err)
	}
	// A get-token that misses the cache would wait minutes for a browser: fail fast instead.
	res, err := runOneEnv([]string{"KUBERNETES_EXEC_INFO=" + execInfo}, bin, append(append([]string{}, k.args...), "--authentication-timeout-sec", "5")...)
	if err != nil {
		return nil, err
	}
	if tok, err := execCredentialToken(res.Stdout); res.Code != 0 || err != nil || tok != k.idToken {
		return nil, fmt.Errorf("kubelogin get-token did not answer from its cache (exit %d): %s", res.Code, firstLine(res.Stderr))
	}
	return k, nil
}

// openURL is the browser of seedKubelogin: it follows the authorization request's redirects to
// kubelogin's loopback server, as a browser whose user approves at once would.
func openURL(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "bench browser: want one URL")
		return 2
	}
	resp, err := http.Get(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench browser: %v\n", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "bench browser: %s ended with %s\n", resp.Request.URL.Redacted(), resp.Status)
		return 1
	}
	return 0
}

// execCredentialToken returns status.token of the ExecCredential a credential plugin printed.
func execCredentialToken(stdout string) (string, error) {
	var ec struct {
		Kind   string `json:"kind"`
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(stdout), &ec); err != nil {
		return "", fmt.Errorf("not an ExecCredential: %v", err)
	}
	if ec.Kind != "ExecCredential" || ec.Status.Token == "" {
		return "", errors.New("an ExecCredential without status.token")
	}
	return ec.Status.Token, nil
}

// tallyExecCredentials counts the runs that failed and those whose ExecCredential carried
// another token than want.
func tallyExecCredentials(rs []measure.Result, want string) (failed, wrong int) {
	for _, r := range rs {
		if r.Code != 0 {
			failed++
			continue
		}
		if tok, err := execCredentialToken(r.Stdout); err != nil || tok != want {
			wrong++
		}
	}
	return failed, wrong
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
