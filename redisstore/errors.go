package redisstore

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/redisconn"
)

// AuthError means the server refused the credentials tokctl presented for it (a missing or
// wrong password, an unknown user, a user without the rights tokctl needs).
type AuthError struct {
	Location string
	Err      error
}

func (e *AuthError) Error() string {
	if e.Denied() {
		return "redis store " + e.Location + " refused a command to tokctl's user: " + e.Err.Error()
	}
	return "redis store " + e.Location + " refused the login: " + e.Err.Error()
}

// Denied reports whether the login succeeded but the user lacks a permission (NOPERM).
func (e *AuthError) Denied() bool {
	var reply *redisconn.Error
	return errors.As(e.Err, &reply) && reply.Code() == "NOPERM"
}

func (e *AuthError) Unwrap() error { return e.Err }

// TLSError means the server's certificate could not be verified (or TLS could not be set up).
type TLSError struct {
	Location string
	Err      error
}

func (e *TLSError) Error() string {
	return "redis store " + e.Location + ": TLS: " + e.Err.Error()
}

func (e *TLSError) Unwrap() error { return e.Err }

// wrap turns an error from the connection into what a caller can act on: *AuthError,
// *TLSError, *creds.StoreUnavailableError (down, unreachable, failing over, loading), or the
// server's own error reply.
func (s *Store) wrap(err error) error {
	if err == nil {
		return nil
	}
	var (
		reply *redisconn.Error
		cert  *tls.CertificateVerificationError
		ua    x509.UnknownAuthorityError
		hn    x509.HostnameError
		rec   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &reply):
		switch reply.Code() {
		case "NOAUTH", "WRONGPASS", "NOPERM", "WRONGTYPE":
			if reply.Code() == "WRONGTYPE" {
				return &creds.CorruptError{Location: s.Location(), Err: errors.New("a key of tokctl's holds another type of value")}
			}
			return &AuthError{s.Location(), err}
		case "READONLY", "LOADING", "MASTERDOWN", "TRYAGAIN", "BUSY", "CLUSTERDOWN", "NOREPLICAS":
			return &creds.StoreUnavailableError{Location: s.Location(), Err: err}
		}
		if reply.Code() == "ERR" && strings.Contains(reply.Msg, "without any password configured") {
			return fmt.Errorf("redis store %s: tokctl sent a password but the server has none configured; unset TOKCTL_REDIS_PASSWORD (or the variable or file the profile names with --store-password-env/--store-password-file), or set one on the server (requirepass)", s.Location())
		}
		if reply.Code() == "ERR" && isAuthMessage(reply.Msg) {
			return &AuthError{s.Location(), err}
		}
		return fmt.Errorf("redis store %s: %w", s.Location(), err)
	case errors.As(err, &cert), errors.As(err, &ua), errors.As(err, &hn), errors.As(err, &rec), errors.Is(err, redisconn.ErrTLSHandshake):
		return &TLSError{s.Location(), err}
	}
	return &creds.StoreUnavailableError{Location: s.Location(), Err: err}
}

// isAuthMessage recognises the authentication errors older servers send as plain ERR.
func isAuthMessage(msg string) bool {
	for _, m := range []string{"ERR invalid password", "ERR AUTH", "ERR Client sent AUTH, but no password is set", "ERR invalid username-password pair"} {
		if len(msg) >= len(m) && msg[:len(m)] == m {
			return true
		}
	}
	return false
}

// isIOError reports whether err broke the connection (rather than being the server's reply).
func isIOError(err error) bool {
	if err == nil {
		return false
	}
	var reply *redisconn.Error
	if errors.As(err, &reply) {
		return false
	}
	return true // any other error came from the connection: it is broken
}

// tlsConfig trusts the CAs in caFile, or the system's roots when it is empty.
func tlsConfig(caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("redis store CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("redis store CA file %s: no PEM certificate in it", caFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}
