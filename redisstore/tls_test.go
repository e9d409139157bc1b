package redisstore

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/redistest"
)

// TLS: the server's CA verifies it; any other CA is a *TLSError, not an outage; a rediss://
// URL aimed at a plain-text port fails fast with a TLSError that says so.
func TestTLS(t *testing.T) {
	redistest.Require(t)
	srv := redistest.NewServer(t, redistest.Options{TLS: true})
	good, err := Open(Options{URL: srv.URL() + "/0", Profile: "work", CAFile: srv.CAFile()})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if _, err := good.Load(); !errors.Is(err, creds.ErrNotFound) {
		t.Fatalf("right CA: %v", err)
	}

	wrongCA := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := redistest.WriteUntrustedCA(wrongCA); err != nil {
		t.Fatal(err)
	}
	bad, _ := Open(Options{URL: srv.URL() + "/0", Profile: "work", CAFile: wrongCA})
	defer bad.Close()
	var tlsErr *TLSError
	if _, err := bad.Load(); !errors.As(err, &tlsErr) {
		t.Fatalf("wrong CA: %v, want *TLSError", err)
	}

	plain := redistest.NewServer(t, redistest.Options{})
	mixed, _ := Open(Options{URL: "rediss://" + plain.Addr() + "/0", Profile: "work", DialTimeout: 300 * time.Millisecond})
	defer mixed.Close()
	start := time.Now()
	if _, err := mixed.Load(); !errors.As(err, &tlsErr) {
		t.Fatalf("rediss:// on a plain port: %v, want *TLSError", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("rediss:// on a plain port took %s to fail", d)
	}
}

// A password sent to a server that has none is its own error, not "wrong password".
func TestPasswordToAServerWithout(t *testing.T) {
	addr := startRedis(t, redistest.Options{})
	s, _ := Open(Options{URL: "redis://" + addr + "/0", Profile: "work", Password: "unneeded-pw"})
	defer s.Close()
	_, err := s.Load()
	var auth *AuthError
	if err == nil || errors.As(err, &auth) {
		t.Fatalf("got %v; want a plain error that says the server has no password", err)
	}
}
