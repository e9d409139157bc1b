package commands_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

// The kubectl recipe of README.md, run verbatim by TestKubectlRecipe (bash, HOME in a temp dir
// whose ~/.kube/config has the cluster "my-cluster").
const kubectlRecipe = `tokctl kubectl --print-config --profile work > ~/.kube/tokctl-work.yaml
export KUBECONFIG="$HOME/.kube/config:$HOME/.kube/tokctl-work.yaml"
kubectl config set-context work --cluster my-cluster --user tokctl-work
kubectl --context work get --raw /api`

// userEnv is one user's machine in a temp dir: HOME (tokctl's files in the XDG defaults under
// it), a strict authorization server, and a PATH directory holding the real tokctl binary.
type userEnv struct {
	t     *testing.T
	home  string
	paths config.Paths
	srv   *oauthtest.Server
	bin   string     // the directory with tokctl, in PATH after fakebin
	api   *apiServer // started by startAPI
}

func newUserEnv(t *testing.T, opt oauthtest.Options, profiles ...string) *userEnv {
	t.Helper()
	e := &userEnv{t: t, home: t.TempDir(), srv: oauthtest.NewServer(opt)}
	t.Cleanup(e.srv.Close)
	e.paths = config.Paths{Config: filepath.Join(e.home, ".config", "tokctl"), State: filepath.Join(e.home, ".local", "state", "tokctl")}
	for _, name := range profiles {
		if err := e.paths.SaveProfile(&config.Profile{Name: name, TokenURL: e.srv.TokenURL(), ClientID: "tokctl-test"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := config.EnsurePrivateDir(e.paths.CredentialDir()); err != nil {
		t.Fatal(err)
	}
	e.bin = filepath.Dir(tokctlBinary(t, ""))
	if err := os.MkdirAll(filepath.Join(e.home, "fakebin"), 0o755); err != nil {
		t.Fatal(err)
	}
	return e
}

// store stores a new token family for profile whose access token expires after ttl (negative:
// expired), and resets the server's counters.
func (e *userEnv) store(profile string, ttl time.Duration) *creds.Credential {
	e.t.Helper()
	r := e.srv.Issue("openid offline_access", ttl)
	c := &creds.Credential{AccessToken: r.AccessToken, TokenType: "Bearer", RefreshToken: r.RefreshToken, Expiry: time.Now().Add(ttl)}
	if err := creds.NewFileStore(e.paths.CredentialFile(profile)).Save(c); err != nil {
		e.t.Fatal(err)
	}
	e.srv.ResetStats()
	return c
}

func (e *userEnv) stored(profile string) *creds.Credential {
	e.t.Helper()
	c, err := creds.NewFileStore(e.paths.CredentialFile(profile)).Load()
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// fake installs an executable shell script as command name in a PATH directory before /usr/bin.
func (e *userEnv) fake(name, script string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.home, "fakebin", name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		e.t.Fatal(err)
	}
}

// env is a small, cron-like environment: nothing of the test process leaks in (no proxies, no
// KUBECONFIG, no TOKCTL_*), plus the variables given.
func (e *userEnv) env(vars ...string) []string {
	return append([]string{
		"HOME=" + e.home, "LOGNAME=tester", "LANG=C", "SHELL=/bin/sh",
		"PATH=" + filepath.Join(e.home, "fakebin") + ":" + e.bin + ":/usr/local/bin:/usr/bin:/bin",
	}, vars...)
}

type runResult struct {
	stdout, stderr string
	code           int
}

// run runs a program in the user's environment, in HOME.
func (e *userEnv) run(env []string, name string, args ...string) runResult {
	e.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = env, e.home
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := runResult{stdout: out.String(), stderr: errb.String()}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// bash runs a script with bash -c (the README's recipes are bash).
func (e *userEnv) bash(script string, vars ...string) runResult {
	e.t.Helper()
	return e.run(e.env(vars...), "bash", "-c", script)
}

// apiServer stands in for a Kubernetes API server or any HTTPS API: TLS on 127.0.0.1 with a
// certificate made for the test, and only a current access token of the authorization server
// as "Authorization: Bearer …" gets through.
type apiServer struct {
	url    string
	caPEM  []byte
	caFile string
	srv    *oauthtest.Server

	mu       sync.Mutex
	accepted map[string]int // access token -> requests it authorized (other than /version)
	rejected []string       // Authorization headers refused
	// during, when set, runs while a request to /me is being answered: its client is waiting.
	during func(r *http.Request)
}

func newAPIServer(t *testing.T, srv *oauthtest.Server, dnsNames ...string) *apiServer {
	t.Helper()
	a := &apiServer{srv: srv, accepted: map[string]int{}}
	cert, caPEM := selfSignedCert(t, dnsNames)
	hs := httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	hs.StartTLS()
	t.Cleanup(hs.Close)
	a.url, a.caPEM = hs.URL, caPEM
	a.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(a.caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return a
}

func (a *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	ok = ok && strings.HasPrefix(tok, "at_") && a.srv.Active(tok)
	a.mu.Lock()
	switch {
	case !ok:
		a.rejected = append(a.rejected, h)
	case r.URL.Path != "/version":
		a.accepted[tok]++
	}
	during := a.during
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`))
		return
	}
	switch r.URL.Path {
	case "/version": // asked by the kubectl dispatcher of the Google Cloud SDK to pick a kubectl
		w.Write([]byte(`{"major":"1","minor":"32","gitVersion":"v1.32.4","platform":"linux/amd64"}`))
	case "/api":
		host, _, _ := net.SplitHostPort(r.Host)
		w.Write([]byte(`{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"` + host + `:6443"}]}`))
	case "/me":
		if during != nil {
			during(r)
		}
		w.Write([]byte(`{"user":"alice"}` + "\n"))
	default:
		http.NotFound(w, r)
	}
}

// seen returns the tokens the server accepted and the number of requests it refused.
func (a *apiServer) seen() (map[string]int, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int, len(a.accepted))
	for k, v := range a.accepted {
		out[k] = v
	}
	return out, len(a.rejected)
}

// selfSignedCert makes a certificate for 127.0.0.1 and dnsNames that is its own CA.
func selfSignedCert(t *testing.T, dnsNames []string) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "tokctl test API server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: dnsNames,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// writeClusterConfig writes ~/.kube/config with the cluster "my-cluster" (the API server, its CA
// inline) and, when user is set, the current context "test" using that user.
func (e *userEnv) writeClusterConfig(api *apiServer, user string) string {
	e.t.Helper()
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: my-cluster\n  cluster:\n    server: " + api.url +
		"\n    certificate-authority-data: " + base64.StdEncoding.EncodeToString(api.caPEM) + "\n"
	if user != "" {
		cfg += "contexts:\n- name: test\n  context:\n    cluster: my-cluster\n    user: " + user + "\ncurrent-context: test\n"
	}
	path := filepath.Join(e.home, ".kube", "config")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// printConfig runs "tokctl kubectl --print-config --profile PROFILE" and saves its stdout as
// ~/.kube/tokctl-PROFILE.yaml, with apiVersion replaced when one is given.
func (e *userEnv) printConfig(profile, apiVersion string) string {
	e.t.Helper()
	r := e.run(e.env(), "tokctl", "kubectl", "--print-config", "--profile", profile)
	if r.code != 0 || r.stderr != "" {
		e.t.Fatalf("print-config: exit %d, stderr %q", r.code, r.stderr)
	}
	out := r.stdout
	if apiVersion != "" {
		out = strings.Replace(out, "apiVersion: client.authentication.k8s.io/v1\n", "apiVersion: "+apiVersion+"\n", 1)
	}
	path := filepath.Join(e.home, ".kube", "tokctl-"+profile+".yaml")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// startAPI starts the API server, with a certificate also valid for dnsNames.
func (e *userEnv) startAPI(dnsNames ...string) *apiServer {
	e.api = newAPIServer(e.t, e.srv, dnsNames...)
	return e.api
}

// kubectlEnv: the kubeconfig is ~/.kube/config (cluster, context) merged with the user printed
// by --print-config, used as printed (apiVersion replaced when one is given).
func (e *userEnv) kubectlEnv(profile, apiVersion string) []string {
	cluster := e.writeClusterConfig(e.api, "tokctl-"+profile)
	user := e.printConfig(profile, apiVersion)
	return e.env("KUBECONFIG=" + cluster + ":" + user)
}

// TestKubectlRecipe runs the README's kubectl recipe verbatim: the printed kubeconfig user works
// with the real kubectl, which gets the stored token from tokctl and reaches the API server.
func TestKubectlRecipe(t *testing.T) {
	e := newUserEnv(t, oauthtest.Options{}, "work")
	c := e.store("work", time.Hour)
	e.writeClusterConfig(e.startAPI(), "")
	r := e.bash(kubectlRecipe)
	if r.code != 0 || !strings.Contains(r.stdout, `"kind":"APIVersions"`) {
		t.Fatalf("recipe: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "tokctl") {
		t.Fatalf("tokctl said something: %s", r.stderr)
	}
	accepted, rejected := e.api.seen()
	if accepted[c.AccessToken] != 1 || len(accepted) != 1 || rejected != 0 {
		t.Fatalf("API server accepted %v, rejected %d; want the stored token once", accepted, rejected)
	}
	if n := e.srv.Stats().TokenRequests; n != 0 {
		t.Fatalf("%d token requests for a fresh token", n)
	}
}

// TestKubectlAPIVersions: kubectl accepts the answer only in the apiVersion its kubeconfig
// names; tokctl answers v1 and v1beta1 requests each in kind.
func TestKubectlAPIVersions(t *testing.T) {
	e := newUserEnv(t, oauthtest.Options{}, "work")
	c := e.store("work", time.Hour)
	e.startAPI()
	for _, v := range []string{"", "client.authentication.k8s.io/v1beta1"} {
		r := e.run(e.kubectlEnv("work", v), "kubectl", "get", "--raw", "/api")
		if r.code != 0 || !strings.Contains(r.stdout, `"APIVersions"`) {
			t.Fatalf("apiVersion %q: exit %d\nstdout %s\nstderr %s", v, r.code, r.stdout, r.stderr)
		}
	}
	if accepted, rejected := e.api.seen(); accepted[c.AccessToken] != 2 || rejected != 0 {
		t.Fatalf("API server accepted %v, rejected %d", accepted, rejected)
	}
}

// TestKubectlExpiredTokenRefreshedOnce: 20 kubectl commands at once on an expired token: one
// refresh at the provider, every command gets through with the new token.
func TestKubectlExpiredTokenRefreshedOnce(t *testing.T) {
	e := newUserEnv(t, oauthtest.Options{Latency: 200 * time.Millisecond}, "work")
	old := e.store("work", -time.Minute)
	e.startAPI()
	env := e.kubectlEnv("work", "")
	cmds := make([]*exec.Cmd, 20)
	outs := make([]*bytes.Buffer, len(cmds))
	for i := range cmds {
		cmds[i] = exec.Command("kubectl", "get", "--raw", "/api")
		outs[i] = &bytes.Buffer{}
		cmds[i].Env, cmds[i].Stdout, cmds[i].Stderr = env, outs[i], outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("kubectl %d: %v\n%s", i, err, outs[i])
		}
	}
	st := e.srv.Stats()
	if st.Refreshes != 1 || st.TokenRequests != 1 || st.PresentedTwice != 0 {
		t.Fatalf("provider saw %d token requests, %d refreshes, %d reuses; want one refresh", st.TokenRequests, st.Refreshes, st.PresentedTwice)
	}
	now := e.stored("work")
	accepted, rejected := e.api.seen()
	if accepted[now.AccessToken] != len(cmds) || rejected != 0 || now.AccessToken == old.AccessToken {
		t.Fatalf("API server accepted %d requests with the new token (of %d), rejected %d", accepted[now.AccessToken], len(cmds), rejected)
	}
}

// TestKubectlLoginRequired: kubectl without a terminal tells tokctl not to prompt; with no
// credential stored, kubectl reports "getting credentials" and shows tokctl's error and hint,
// and no browser opens.
func TestKubectlLoginRequired(t *testing.T) {
	e := newUserEnv(t, oauthtest.Options{}, "work")
	e.startAPI()
	e.fake("fake-browser", "echo opened >> \"$HOME/browser.log\"\n")
	env := append(e.kubectlEnv("work", ""), "BROWSER=fake-browser", "DISPLAY=:0")
	r := e.run(env, "kubectl", "get", "--raw", "/api")
	if r.code == 0 {
		t.Fatalf("kubectl succeeded without a credential: %s", r.stdout)
	}
	for _, want := range []string{
		"getting credentials: exec: executable tokctl failed with exit code 3",
		`tokctl: error: login required for profile "work": no credential stored`,
		`tokctl: hint: run "tokctl login --profile work" in a terminal, then run kubectl again`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("kubectl stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(e.home, "browser.log")); err == nil {
		t.Error("a browser was opened")
	}
	if accepted, rejected := e.api.seen(); len(accepted)+rejected != 0 {
		t.Errorf("kubectl reached the API server: %v, %d", accepted, rejected)
	}
}

// TestKubectlInteractiveLogin: kubectl in a terminal (a pty from script(1)) tells tokctl it may
// prompt (interactiveMode IfAvailable); with no credential stored tokctl runs the browser login
// (a fake browser that follows the redirects), and kubectl gets the new token.
func TestKubectlInteractiveLogin(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) is not installed (util-linux)")
	}
	e := newUserEnv(t, oauthtest.Options{})
	if err := e.paths.SaveProfile(&config.Profile{Name: "work", AuthURL: e.srv.AuthorizeURL(), TokenURL: e.srv.TokenURL(),
		ClientID: "tokctl-test", Scopes: []string{"openid", "offline_access"}}); err != nil {
		t.Fatal(err)
	}
	e.startAPI()
	e.fake("fake-browser", "echo opened >> \"$HOME/browser.log\"\nexec curl -sSL --max-time 10 -o /dev/null \"$1\"\n")
	env := append(e.kubectlEnv("work", ""), "BROWSER=fake-browser", "DISPLAY=:0", "TERM=dumb")
	r := e.run(env, "script", "-qefc", "kubectl get --raw /api", "/dev/null")
	if r.code != 0 || !strings.Contains(r.stdout, `"APIVersions"`) {
		t.Fatalf("kubectl in a terminal: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"; logging in", "no credential stored in ", "opening your browser", `logged in to profile "work"`} {
		if !strings.Contains(r.stdout, want) { // the terminal carries kubectl's and tokctl's stderr too
			t.Errorf("terminal lacks %q:\n%s", want, r.stdout)
		}
	}
	if log, _ := os.ReadFile(filepath.Join(e.home, "browser.log")); string(log) != "opened\n" {
		t.Errorf("browser opened %q times", log)
	}
	c := e.stored("work")
	if accepted, rejected := e.api.seen(); accepted[c.AccessToken] != 1 || rejected != 0 {
		t.Fatalf("API server accepted %v, rejected %d", accepted, rejected)
	}
}
