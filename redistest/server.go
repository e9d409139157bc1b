package redistest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a redis-server.
type Options struct {
	// Password is the default user's password (requirepass); empty: no password.
	Password string
	// ACLUser and ACLPass, when ACLUser is set, add an ACL user with every permission.
	ACLUser, ACLPass string
	// TLS serves TLS only (tls-port; the plain port is off) with a certificate for 127.0.0.1
	// and localhost signed by the package's CA (CAFile, ClientTLS). Clients need no
	// certificate of their own.
	TLS bool
	// AppendOnly turns on the append-only file with an fsync per write, so Kill then Restart
	// keeps every acknowledged write.
	AppendOnly bool
	// ReplicaOf makes this server a replica of another one (with its password); StartServer
	// returns once the replication link is up.
	ReplicaOf *Server
	// Config holds extra redis.conf lines, e.g. "maxmemory 10mb".
	Config []string
}

// StartTimeout bounds how long a start or restart waits for the process to answer.
const StartTimeout = 20 * time.Second

// Server is one redis-server (or redis-sentinel) process on 127.0.0.1. Its methods are safe
// for concurrent use.
type Server struct {
	opts     Options
	sentinel bool
	dir      string
	conf     string
	port     int

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool
}

// NewServer starts a redis-server for the test and stops it at cleanup (showing its log when
// the test failed). It skips or fails the test when Redis is not installed (Require).
func NewServer(t TB, opts Options) *Server {
	t.Helper()
	Require(t)
	s, err := StartServer(opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	cleanup(t, s)
	return s
}

func cleanup(t TB, s *Server) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("redistest: log of %s %s:\n%s", s.kind(), s.Addr(), s.LogTail(40))
		}
		s.Stop()
	})
}

// StartServer starts a redis-server on a free port in a new temporary directory; the caller
// calls Stop.
func StartServer(opts Options) (*Server, error) {
	if opts.ReplicaOf != nil && opts.ReplicaOf.sentinel {
		return nil, errors.New("redistest: ReplicaOf names a sentinel")
	}
	if opts.TLS || (opts.ReplicaOf != nil && opts.ReplicaOf.opts.TLS) {
		if _, err := sharedPKI(); err != nil {
			return nil, fmt.Errorf("redistest: certificates: %w", err)
		}
	}
	s := &Server{opts: opts}
	if err := s.start(s.serverConfig); err != nil {
		return nil, err
	}
	if opts.ReplicaOf != nil {
		if err := s.waitLinkUp(StartTimeout); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) kind() string {
	if s.sentinel {
		return "redis-sentinel"
	}
	return "redis-server"
}

// start creates the directory, then picks a free port, writes the configuration and starts
// the process, again on another port when the port was taken in between.
func (s *Server) start(config func(port int) string) error {
	dir, err := os.MkdirTemp("", "tokctl-redistest-")
	if err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	s.dir, s.conf = dir, filepath.Join(dir, "redis.conf")
	if s.opts.TLS || (s.opts.ReplicaOf != nil && s.opts.ReplicaOf.opts.TLS) {
		p, _ := sharedPKI()
		if err := p.write(dir); err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("redistest: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("redistest: %w", err)
		}
		s.port = port
		if err := os.WriteFile(s.conf, []byte(config(port)), 0o600); err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("redistest: %w", err)
		}
		err = s.run()
		if err == nil {
			return nil
		}
		s.Kill()
		if attempt < 5 && strings.Contains(s.LogTail(20), "Address already in use") {
			os.Remove(filepath.Join(dir, "redis.log"))
			os.Remove(filepath.Join(dir, "stdout.log"))
			continue
		}
		err = fmt.Errorf("redistest: %s on port %d: %w\n%s", s.kind(), port, err, s.LogTail(40))
		s.Stop()
		return err
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// run starts the process on the written configuration and waits until it answers.
func (s *Server) run() error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return errStopped
	}
	if s.cmd != nil {
		s.mu.Unlock()
		return errors.New("redistest: already running")
	}
	out, err := os.OpenFile(filepath.Join(s.dir, "stdout.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	defer out.Close()
	bin := ServerBinary
	if s.sentinel {
		bin = SentinelBinary
	}
	cmd := exec.Command(bin, s.conf)
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.dir, out, out
	if err := startCmd(cmd); err != nil {
		s.mu.Unlock()
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	return s.waitReady(exited, StartTimeout)
}

// waitReady waits until the server answers PING (authenticated when it has a password): a
// PONG, or any error reply but LOADING (a restarted server replaying its AOF).
func (s *Server) waitReady(exited chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	o := s.DialOptions()
	o.Timeout = time.Second
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited before answering")
		default:
		}
		last = s.ping(o)
		if last == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("no answer within %s: %v", timeout, last)
}

func (s *Server) ping(o DialOptions) error {
	c, err := Dial(s.Addr(), o)
	var re *Error
	if errors.As(err, &re) {
		return nil // AUTH refused: the server answers
	}
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Do("PING")
	if errors.As(err, &re) && re.Code() != "LOADING" {
		return nil
	}
	return err
}

// waitLinkUp waits until a replica's link to its primary is up.
func (s *Server) waitLinkUp(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var info map[string]string
	var err error
	for time.Now().Before(deadline) {
		if info, err = s.Info("replication"); err == nil && info["master_link_status"] == "up" {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redistest: replica %s: link to its primary not up within %s (%v, %v)\n%s", s.Addr(), timeout, info["master_link_status"], err, s.LogTail(40))
}

// Addr is "127.0.0.1:PORT".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the server's port (the TLS port with TLS).
func (s *Server) Port() int { return s.port }

// URL is the server's store URL without credentials: redis://127.0.0.1:PORT, or rediss://…
// with TLS.
func (s *Server) URL() string {
	if s.opts.TLS {
		return "rediss://" + s.Addr()
	}
	return "redis://" + s.Addr()
}

// Password is the default user's password (Options.Password).
func (s *Server) Password() string { return s.opts.Password }

// Dir is the server's directory (configuration, log, AOF, certificates).
func (s *Server) Dir() string { return s.dir }

// LogFile is the path of the server's log.
func (s *Server) LogFile() string { return filepath.Join(s.dir, "redis.log") }

// CAFile is the path of the PEM CA certificate that signed the server's certificate; empty
// without TLS.
func (s *Server) CAFile() string {
	if !s.opts.TLS {
		return ""
	}
	return filepath.Join(s.dir, "ca.crt")
}

// TLSConfig is a client configuration trusting the server's CA; nil without TLS.
func (s *Server) TLSConfig() *tls.Config {
	if !s.opts.TLS {
		return nil
	}
	c, _ := ClientTLS()
	return c
}

// DialOptions are the options to reach this server (directly or through a Proxy): its TLS
// configuration and its password (the default user's, else the ACL user's).
func (s *Server) DialOptions() DialOptions {
	o := DialOptions{Password: s.opts.Password, TLS: s.TLSConfig()}
	if o.Password == "" && s.opts.ACLUser != "" {
		o.User, o.Password = s.opts.ACLUser, s.opts.ACLPass
	}
	return o
}

// Dial opens an authenticated connection to the server.
func (s *Server) Dial() (*Conn, error) { return Dial(s.Addr(), s.DialOptions()) }

// Do runs one command on a fresh authenticated connection; see Conn.Do for the reply's types.
func (s *Server) Do(args ...string) (any, error) {
	c, err := s.Dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Do(args...)
}

// DoString is Do for a command whose reply is a string or an integer; a nil reply is ErrNil.
func (s *Server) DoString(args ...string) (string, error) {
	v, err := s.Do(args...)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case nil:
		return "", ErrNil
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	}
	return "", fmt.Errorf("redistest: %s replied %s, not a string", args[0], String(v))
}

// Info returns the fields of INFO section ("" for the default sections).
func (s *Server) Info(section string) (map[string]string, error) {
	args := []string{"INFO"}
	if section != "" {
		args = append(args, section)
	}
	v, err := s.DoString(args...)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range strings.Split(v, "\n") {
		if k, val, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && !strings.HasPrefix(k, "#") {
			m[k] = val
		}
	}
	return m, nil
}

// Role is the first element of ROLE: "master", "slave" or "sentinel".
func (s *Server) Role() (string, error) {
	v, err := s.Do("ROLE")
	if err != nil {
		return "", err
	}
	if a, ok := v.([]any); ok && len(a) > 0 {
		if r, ok := a[0].(string); ok {
			return r, nil
		}
	}
	return "", fmt.Errorf("redistest: ROLE replied %s", String(v))
}

// PID is the process id, 0 when not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Running reports whether the process is alive (it may be frozen).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the process to exit: no shutdown, no final save (with
// AppendOnly every acknowledged write is on disk already). A no-op when not running.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd, s.exited = nil, nil
	return nil
}

// Freeze stops the process with SIGSTOP: its port still accepts connections (the kernel
// completes the handshake) but nothing answers, as with a host that hangs. Thaw resumes it.
func (s *Server) Freeze() error { return s.signal(sigStop) }

// Thaw resumes a frozen process (SIGCONT).
func (s *Server) Thaw() error { return s.signal(sigCont) }

func (s *Server) signal(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("redistest: not running")
	}
	return s.cmd.Process.Signal(sig)
}

// Restart kills the process if it runs, starts it again on the same port, directory and
// configuration (as the server or a sentinel may have rewritten it), and waits until it
// answers.
func (s *Server) Restart() error {
	s.Kill()
	if err := s.run(); err != nil {
		err = fmt.Errorf("redistest: restart %s %s: %w\n%s", s.kind(), s.Addr(), err, s.LogTail(40))
		s.Kill()
		return err
	}
	return nil
}

// Stop kills the process and removes its directory. Later calls do nothing.
func (s *Server) Stop() {
	s.Kill()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// LogTail returns the last n lines of the server's log and of its standard output and error.
func (s *Server) LogTail(n int) string {
	var b strings.Builder
	for _, name := range []string{"stdout.log", "redis.log"} {
		data, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", name, strings.Join(lines, "\n"))
	}
	return b.String()
}
