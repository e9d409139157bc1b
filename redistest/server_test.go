package redistest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServerPassword(t *testing.T) {
	t.Parallel()
	// Quotes, a backslash and a space: the password goes through redis.conf quoting.
	const pw = `p "w\ 1`
	s := NewServer(t, Options{Password: pw})
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.URL() != "redis://"+s.Addr() || s.CAFile() != "" {
		t.Fatalf("Addr %q URL %q CAFile %q", s.Addr(), s.URL(), s.CAFile())
	}
	if v, err := s.DoString("SET", "k", "v1"); err != nil || v != "OK" {
		t.Fatalf("SET: %q %v", v, err)
	}
	if v, err := s.DoString("GET", "k"); err != nil || v != "v1" {
		t.Fatalf("GET: %q %v", v, err)
	}
	if _, err := s.DoString("GET", "missing"); err != ErrNil {
		t.Fatalf("GET missing: %v, want ErrNil", err)
	}

	c, err := Dial(s.Addr(), DialOptions{}) // no password
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Do("GET", "k"); !IsCode(err, "NOAUTH") {
		t.Fatalf("GET without AUTH: %v, want NOAUTH", err)
	}
	if _, err := Dial(s.Addr(), DialOptions{Password: "wrong"}); !IsCode(err, "WRONGPASS") {
		t.Fatalf("wrong password: %v, want WRONGPASS", err)
	}
}

func TestServerACLUser(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{Password: "admin", ACLUser: "fleet", ACLPass: "fleet-pw"})
	c, err := Dial(s.Addr(), DialOptions{User: "fleet", Password: "fleet-pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.Do("ACL", "WHOAMI"); err != nil || v != "fleet" {
		t.Fatalf("ACL WHOAMI: %v %v", v, err)
	}
	if _, err := c.Do("SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(s.Addr(), DialOptions{User: "fleet", Password: "admin"}); !IsCode(err, "WRONGPASS") {
		t.Fatalf("fleet with the default password: %v, want WRONGPASS", err)
	}
}

func TestAppendOnlyRestartKeepsData(t *testing.T) {
	t.Parallel()
	aof := NewServer(t, Options{Password: "pw", AppendOnly: true})
	plain := NewServer(t, Options{})
	for _, s := range []*Server{aof, plain} {
		if _, err := s.Do("SET", "k", "kept"); err != nil {
			t.Fatal(err)
		}
		addr, pid := s.Addr(), s.PID()
		if err := s.Kill(); err != nil || s.Running() || s.PID() != 0 {
			t.Fatalf("Kill: %v running %v", err, s.Running())
		}
		if err := syscall.Kill(pid, 0); err == nil {
			t.Fatalf("process %d still exists after Kill", pid)
		}
		if _, err := s.Do("PING"); err == nil {
			t.Fatal("PING answered after Kill")
		}
		if err := s.Restart(); err != nil {
			t.Fatal(err)
		}
		if s.Addr() != addr || s.PID() == pid || !s.Running() {
			t.Fatalf("after Restart: %s (was %s), pid %d (was %d)", s.Addr(), addr, s.PID(), pid)
		}
	}
	if v, err := aof.DoString("GET", "k"); err != nil || v != "kept" {
		t.Fatalf("AOF server after kill -9 and restart: GET %q %v", v, err)
	}
	// Without AOF (and with save ""), kill -9 loses the data: Kill is not a clean shutdown.
	if _, err := plain.DoString("GET", "k"); err != ErrNil {
		t.Fatalf("plain server after kill -9 and restart: %v, want the key gone", err)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{TLS: true, Password: "pw"})
	if s.URL() != "rediss://"+s.Addr() || s.CAFile() == "" {
		t.Fatalf("URL %q CAFile %q", s.URL(), s.CAFile())
	}
	if _, err := s.Do("SET", "k", "v"); err != nil {
		t.Fatal(err)
	}

	pool := func(file string) *x509.CertPool {
		pem, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		p := x509.NewCertPool()
		if !p.AppendCertsFromPEM(pem) {
			t.Fatalf("%s: no certificate", file)
		}
		return p
	}
	// The CA file verifies the server, as 127.0.0.1 and as localhost.
	for _, name := range []string{"127.0.0.1", "localhost"} {
		c, err := tls.Dial("tcp", s.Addr(), &tls.Config{RootCAs: pool(s.CAFile()), ServerName: name})
		if err != nil {
			t.Fatalf("TLS with the CA file, server name %s: %v", name, err)
		}
		c.Close()
	}
	rc, err := Dial(s.Addr(), DialOptions{Password: "pw", TLS: &tls.Config{RootCAs: pool(s.CAFile())}})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := rc.Do("GET", "k"); err != nil || v != "v" {
		t.Fatalf("GET over TLS: %v %v", v, err)
	}
	rc.Close()

	wrong := filepath.Join(t.TempDir(), "wrong-ca.pem")
	if err := WriteUntrustedCA(wrong); err != nil {
		t.Fatal(err)
	}
	_, err = tls.Dial("tcp", s.Addr(), &tls.Config{RootCAs: pool(wrong), ServerName: "127.0.0.1"})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("TLS with another CA: %v, want an unknown authority error", err)
	}

	// Plain TCP to the TLS port gets no RESP answer.
	pc, err := Dial(s.Addr(), DialOptions{Timeout: 2 * time.Second})
	if err == nil {
		_, err = pc.Do("PING")
		pc.Close()
	}
	if err == nil {
		t.Fatal("plain PING to the TLS port answered")
	}
}

func TestReplica(t *testing.T) {
	t.Parallel()
	p := NewServer(t, Options{Password: "pw"})
	r := NewServer(t, Options{Password: "pw", ReplicaOf: p})
	if role, err := r.Role(); err != nil || role != "slave" {
		t.Fatalf("replica role %q %v", role, err)
	}
	c, err := p.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Do("SET", "k", "replicated"); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Do("WAIT", "1", "5000"); err != nil || n != int64(1) {
		t.Fatalf("WAIT 1: %v %v, want 1", n, err)
	}
	if v, err := r.DoString("GET", "k"); err != nil || v != "replicated" {
		t.Fatalf("GET on the replica: %q %v", v, err)
	}
	if _, err := r.Do("SET", "k", "x"); !IsCode(err, "READONLY") {
		t.Fatalf("SET on the replica: %v, want READONLY", err)
	}
	info, err := p.Info("replication")
	if err != nil || info["connected_slaves"] != "1" {
		t.Fatalf("primary INFO replication: %v %v", info, err)
	}
}

func TestFreeze(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	c, err := s.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetTimeout(300 * time.Millisecond)
	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	_, err = c.Do("PING")
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("PING to a frozen server: %v, want a timeout", err)
	}
	if err := s.Thaw(); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Do("PING"); err != nil || v != "PONG" {
		t.Fatalf("PING after Thaw: %v %v", v, err)
	}
}

func TestStopLeavesNothing(t *testing.T) {
	Require(t)
	t.Parallel()
	s, err := StartServer(Options{AppendOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	pid, dir := s.PID(), s.Dir()
	if _, err := os.Stat(filepath.Join(dir, "redis.conf")); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s.Stop() // idempotent
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("process %d still exists after Stop", pid)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("directory %s after Stop: %v", dir, err)
	}
	if err := s.Restart(); err == nil {
		t.Fatal("Restart after Stop succeeded")
	}
}

func TestStartFailsWithLog(t *testing.T) {
	Require(t)
	t.Parallel()
	_, err := StartServer(Options{Config: []string{"no-such-directive yes"}})
	if err == nil || !strings.Contains(err.Error(), "no-such-directive") {
		t.Fatalf("bad configuration: %v, want the server's complaint", err)
	}
}

// fakeTB records what Require does.
type fakeTB struct {
	TB
	skipped, failed bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Skipf(string, ...any)  { f.skipped = true }
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }

func TestRequire(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(EnvRequire, "")
	if Available() == nil {
		t.Fatal("Available with an empty PATH")
	}
	var f fakeTB
	Require(&f)
	if !f.skipped || f.failed {
		t.Fatalf("without %s: skipped %v failed %v, want a skip", EnvRequire, f.skipped, f.failed)
	}
	t.Setenv(EnvRequire, "1")
	f = fakeTB{}
	Require(&f)
	if !f.failed {
		t.Fatalf("with %s=1: skipped %v failed %v, want a failure", EnvRequire, f.skipped, f.failed)
	}
}
