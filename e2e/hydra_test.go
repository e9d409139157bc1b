package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Lifetimes the tests rely on. A login's access token expires after accessTTL (Hydra's
// TTL_ACCESS_TOKEN), so tests can watch tokctl refresh it. A refreshed access token lives
// refreshedTTL (a per-client lifespan), longer than tokctl's default --min-ttl of 60 s: the
// answer of a burst's single refresh stays fresh while 50 processes start on two cores.
const (
	accessTTL    = 2 * time.Second
	refreshedTTL = 5 * time.Minute
	// tokenLatency is added to every token request at the front door, as a provider across a
	// network would: it widens the window in which lock-less callers collide.
	tokenLatency = 200 * time.Millisecond
)

// hydraStack is a running Hydra with everything around it.
type hydraStack struct {
	public  string // Hydra's public API behind the front door (no trailing slash)
	direct  string // Hydra's public API itself, for a test that puts its own proxy in front
	issuer  string // public + "/": Hydra's issuer identifier, exactly as discovery spells it
	admin   string // Hydra's admin API
	front   *frontDoor
	app     *loginApp
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
	servers []*http.Server
}

// startStack starts the login/consent app, the front door and "hydra serve all --dev" with an
// in-memory database, and waits until Hydra is ready.
func startStack(bin, work string) (*hydraStack, error) {
	s := &hydraStack{logPath: filepath.Join(work, "hydra.log"), exited: make(chan struct{})}
	publicPort, adminPort := freePort(), freePort()
	s.admin = "http://127.0.0.1:" + adminPort
	hydraPublic := "http://127.0.0.1:" + publicPort
	s.direct = hydraPublic

	// The login app is addressed as "localhost" so that, in a browser, its pages are never
	// taken for the client's 127.0.0.1 loopback redirect.
	s.app = &loginApp{stack: s}
	loginURL, err := s.serve(s.app, "localhost")
	if err != nil {
		return nil, err
	}
	s.front, err = newFrontDoor(hydraPublic, tokenLatency)
	if err != nil {
		return nil, err
	}
	if s.public, err = s.serve(s.front, "127.0.0.1"); err != nil {
		return nil, err
	}
	s.issuer = s.public + "/"

	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	s.cmd = exec.Command(bin, "serve", "all", "--dev", "--sqa-opt-out")
	s.cmd.Dir = work
	s.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + work,
		"DSN=memory",
		"URLS_SELF_ISSUER=" + s.issuer,
		"URLS_LOGIN=" + loginURL + "/login",
		"URLS_CONSENT=" + loginURL + "/consent",
		"SECRETS_SYSTEM=" + randomHex(16), // 32 characters
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT=" + publicPort,
		"SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT=" + adminPort,
		"TTL_ACCESS_TOKEN=" + accessTTL.String(),
		"OAUTH2_EXPOSE_INTERNAL_ERRORS=true",
		"LOG_LEVEL=warn", "LOG_FORMAT=text",
	}
	if level := os.Getenv("TOKCTL_E2E_HYDRA_LOG"); level != "" { // e.g. info: every request, as JSON
		s.cmd.Env = append(s.cmd.Env, "LOG_LEVEL="+level, "LOG_FORMAT=json")
	}
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test binary
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(hydraPublic, 20*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\n%s", err, tail(s.logPath, 20))
	}
	// Hydra makes its ID-token signing key (RSA) on first use, which takes about a second:
	// make it now rather than during the first test's login.
	if err := s.poll(30*time.Second, func() bool { return ready(hydraPublic + "/.well-known/jwks.json") }); err != nil {
		s.stop()
		return nil, fmt.Errorf("hydra serves no JWKS: %w\n%s", err, tail(s.logPath, 20))
	}
	return s, nil
}

// serve serves h on a free 127.0.0.1 port and returns its base URL, spelled with host.
func (s *hydraStack) serve(h http.Handler, host string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go srv.Serve(ln)
	return fmt.Sprintf("http://%s:%d", host, ln.Addr().(*net.TCPAddr).Port), nil
}

// waitReady polls both APIs' /health/ready; Hydra is usually ready in under half a second.
func (s *hydraStack) waitReady(public string, limit time.Duration) error {
	if err := s.poll(limit, func() bool { return ready(s.admin+"/health/ready") && ready(public+"/health/ready") }); err != nil {
		return fmt.Errorf("hydra /health/ready: %w", err)
	}
	return nil
}

// poll calls ok every 10 ms until it is true, Hydra exits, or limit passes (a loaded machine
// makes Hydra's first RSA key take seconds, not one).
func (s *hydraStack) poll(limit time.Duration, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for {
		if ok() {
			return nil
		}
		select {
		case <-s.exited:
			return errors.New("hydra exited during start-up")
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v", limit)
		}
	}
}

func ready(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop ends Hydra (SIGTERM, then SIGKILL) and the helper servers.
func (s *hydraStack) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(3 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	for _, srv := range s.servers {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		srv.Shutdown(ctx)
		cancel()
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
