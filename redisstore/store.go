// Package redisstore keeps a credential and its lock in Redis, so that the hosts of a fleet
// share one rotating credential with the promise tokctl makes on one host: exactly one refresh,
// however many callers on however many hosts find the token expired at once.
//
// Store is a creds.LockingStore; a creds.Source on it runs the same transaction as on a file:
//
//   - hot path: one GET of the credential, nothing else;
//   - lock: SET lock OWNER NX PX LEASE (OWNER: a random token, host, pid, start, command), the
//     lease renewed by compare-and-pexpire while the refresh runs, and every token request
//     bounded by what is left of the lease (creds.Held.Deadline); with replicas, the lock must
//     be acknowledged by one (WAIT) before the refresh starts, so that a failover does not
//     hand it to a second host mid-refresh;
//   - re-read under the lock (GET of the credential and its version together);
//   - write with fencing: one Lua script stores the credential only if the lock is still
//     OWNER's and the version is the one read under the lock, and bumps the version; a holder
//     that lost its lease never overwrites a newer credential (creds.ErrFenced);
//   - waiters on every host are woken by pub/sub on the profile's channel when the credential
//     changes or the lock is released, and poll as a fallback;
//   - release: compare-and-delete.
//
// Keys live under PREFIX{PROFILE}: (prefix "tokctl:" by default); the hash tag keeps a
// profile's keys in one cluster slot. Redis unreachable is a *creds.StoreUnavailableError —
// never a refresh without the lock; a refused password is an *AuthError. No error or message
// ever quotes a value stored in Redis, or the password.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/redisconn"
)

// Options configure a Store.
type Options struct {
	URL      string // see Target
	Profile  string // the profile whose credential this is: the keys' hash tag
	Password string
	// CAFile is a PEM bundle of the CAs that may sign the server's certificate (rediss); empty:
	// the system's roots.
	CAFile string
	// Host names this host in the lock's owner record (default: os.Hostname).
	Host string
	// Warnf receives warnings meant for the user (a write not yet replicated); may be nil.
	Warnf func(format string, args ...any)
	// DialTimeout and IOTimeout bound each connection attempt and each command (defaults:
	// redisconn's).
	DialTimeout, IOTimeout time.Duration
}

// Store is the credential of one profile in Redis. It is safe for concurrent use.
type Store struct {
	target Target
	cfg    redisconn.Config
	keys   keys
	host   string
	warnf  func(string, ...any)

	mu       sync.Mutex
	conn     *redisconn.Conn
	answered atomic.Bool // a command succeeded: the server exists and accepts tokctl
}

var (
	_ creds.LockingStore   = (*Store)(nil)
	_ creds.RejectionStore = (*Store)(nil)
	_ creds.Stamper        = (*Store)(nil)
)

// keys are a profile's Redis keys and channel.
type keys struct{ cred, version, lock, rejected, channel string }

func keysFor(prefix, profile string) keys {
	base := prefix + "{" + profile + "}:"
	return keys{base + "credential", base + "version", base + "lock", base + "rejected", base + "changed"}
}

// Open checks the options and returns the Store. It does not connect: the first command does.
func Open(opt Options) (*Store, error) {
	t, err := ParseURL(opt.URL)
	if err != nil {
		return nil, err
	}
	if opt.Profile == "" {
		return nil, errors.New("redis store: no profile name")
	}
	cfg := redisconn.Config{Addr: t.Addr, MasterName: t.Master, Sentinels: t.Sentinels, Username: t.Username,
		Password: opt.Password, DB: t.DB, DialTimeout: opt.DialTimeout, IOTimeout: opt.IOTimeout}
	if t.TLS {
		if cfg.TLS, err = tlsConfig(opt.CAFile); err != nil {
			return nil, err
		}
	} else if opt.CAFile != "" {
		return nil, errors.New("redis store: a CA file needs a rediss:// URL")
	}
	host := opt.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	warnf := opt.Warnf
	if warnf == nil {
		warnf = func(string, ...any) {}
	}
	return &Store{target: t, cfg: cfg, keys: keysFor(t.Prefix, opt.Profile), host: host, warnf: warnf}, nil
}

// Target returns the parsed URL.
func (s *Store) Target() Target { return s.target }

// Location implements creds.Store: the URL without password or query.
func (s *Store) Location() string { return s.target.String() }

// Close closes the Store's connection.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// retry says what do may do again when a command fails.
type retry int

const (
	// noRetry: the command is not safe to send twice.
	noRetry retry = iota
	// retryStale: safe to send twice. A command that failed on a connection opened earlier
	// (the server restarted since) is sent once more on a new one, and, with Sentinel, a store
	// that is unavailable (a failover in progress) is tried again with backoff until ctx ends.
	retryStale
	// retryOutage: as retryStale, and a plain server that answered this Store before but is
	// unavailable now (restarting) is tried again too, while ctx lasts and for at most one
	// lease — for a caller that is waiting anyway (the lock, its renewal). A server that never
	// answered is misconfigured or down: that fails at once.
	retryOutage
)

// do runs one command on the Store's connection, dialing it first when needed. A connection
// that broke is dropped, so the next call dials afresh; r says what is tried again.
func (s *Store) do(ctx context.Context, r retry, f func(*redisconn.Conn) (any, error)) (any, error) {
	backoff := 100 * time.Millisecond
	var outage time.Time // when the server first failed to answer
	for attempt := 0; ; attempt++ {
		c, fresh, err := s.connect(ctx)
		if err == nil {
			var v any
			if v, err = f(c); err == nil {
				s.answered.Store(true)
				return v, nil
			}
			if isIOError(err) {
				s.drop(c)
			}
		}
		raw := err
		err = s.wrap(raw)
		if r == noRetry || ctx.Err() != nil {
			return nil, err
		}
		var unavailable *creds.StoreUnavailableError
		switch {
		case attempt == 0 && !fresh && c != nil && isIOError(raw):
			continue // a connection from before a restart: once more on a new one
		case s.target.Master != "" && errors.As(err, &unavailable),
			r == retryOutage && s.answered.Load() && errors.As(err, &unavailable):
			if outage.IsZero() {
				outage = time.Now()
			}
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < backoff {
				return nil, err
			}
			if s.target.Master == "" && time.Since(outage)+backoff > s.target.Lease {
				return nil, err
			}
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
		default:
			return nil, err
		}
	}
}

func (s *Store) connect(ctx context.Context) (*redisconn.Conn, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		return s.conn, false, nil
	}
	c, err := redisconn.Dial(ctx, s.cfg)
	if err != nil {
		return nil, false, err
	}
	s.conn = c
	return c, true, nil
}

func (s *Store) drop(c *redisconn.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == c {
		s.conn = nil
	}
	c.Close()
}

// dial opens a connection of its own (for a subscription, or to confirm a write).
func (s *Store) dial(ctx context.Context) (*redisconn.Conn, error) {
	c, err := redisconn.Dial(ctx, s.cfg)
	if err != nil {
		return nil, s.wrap(err)
	}
	return c, nil
}

func (s *Store) opContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*orDefault(s.cfg.IOTimeout, redisconn.DefaultIOTimeout))
}

// Load implements creds.Store: one GET.
func (s *Store) Load() (*creds.Credential, error) {
	ctx, cancel := s.opContext()
	defer cancel()
	v, err := s.do(ctx, retryStale, func(c *redisconn.Conn) (any, error) { return c.Do(ctx, "GET", s.keys.cred) })
	if err != nil {
		return nil, err
	}
	return s.parse(v)
}

func (s *Store) parse(v any) (*creds.Credential, error) {
	if v == nil {
		return nil, fmt.Errorf("%w in %s", creds.ErrNotFound, s.Location())
	}
	data, ok := v.(string)
	if !ok {
		return nil, &creds.CorruptError{Location: s.Location(), Err: errors.New("the credential is not a string value")}
	}
	c, err := creds.ParseCredential([]byte(data))
	if err != nil {
		return nil, &creds.CorruptError{Location: s.Location(), Err: err}
	}
	return c, nil
}

// Save implements creds.Store: it replaces the credential without taking the lock. Source
// writes through the lock (Lock, then Held.Save); Save is for a store that no host uses yet.
func (s *Store) Save(c *creds.Credential) error {
	data, err := c.Encode()
	if err != nil {
		return fmt.Errorf("encode credential: %w", err)
	}
	ctx, cancel := s.opContext()
	defer cancel()
	_, err = s.do(ctx, noRetry, func(conn *redisconn.Conn) (any, error) {
		return save.run(ctx, conn, []string{s.keys.version, s.keys.cred}, string(data), s.keys.channel)
	})
	return err
}

// Delete implements creds.Store: the credential and its rejection record go; the version stays
// and moves on, so a holder that read the deleted credential cannot write it back.
func (s *Store) Delete() error {
	ctx, cancel := s.opContext()
	defer cancel()
	_, err := s.do(ctx, noRetry, func(c *redisconn.Conn) (any, error) {
		return remove.run(ctx, c, []string{s.keys.version, s.keys.cred, s.keys.rejected}, s.keys.channel)
	})
	return err
}

// Stamp implements creds.Stamper: the credential's version and rejection record, which change
// together with what a waiter must look at ("" when the server cannot be asked).
func (s *Store) Stamp() string {
	ctx, cancel := s.opContext()
	defer cancel()
	v, err := s.do(ctx, retryStale, func(c *redisconn.Conn) (any, error) {
		return c.Do(ctx, "MGET", s.keys.version, s.keys.rejected)
	})
	if err != nil {
		return ""
	}
	pair, _ := v.([]any)
	if len(pair) != 2 {
		return ""
	}
	ver, _ := pair[0].(string)
	rej, _ := pair[1].(string)
	return ver + "/" + strconv.Itoa(len(rej)) + "/" + creds.Fingerprint(rej)
}

// LoadRejection implements creds.RejectionStore.
func (s *Store) LoadRejection() (*creds.Rejection, error) {
	ctx, cancel := s.opContext()
	defer cancel()
	v, err := s.do(ctx, retryStale, func(c *redisconn.Conn) (any, error) { return c.Do(ctx, "GET", s.keys.rejected) })
	if err != nil || v == nil {
		return nil, err
	}
	data, _ := v.(string)
	var r creds.Rejection
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return nil, nil // an unreadable record protects nothing; the next rejection replaces it
	}
	return &r, nil
}

// SaveRejection implements creds.RejectionStore.
func (s *Store) SaveRejection(r creds.Rejection) error {
	data, _ := json.Marshal(r)
	ctx, cancel := s.opContext()
	defer cancel()
	_, err := s.do(ctx, noRetry, func(c *redisconn.Conn) (any, error) {
		return setRejection.run(ctx, c, []string{s.keys.rejected}, string(data), s.keys.channel)
	})
	return err
}

// ClearRejection implements creds.RejectionStore.
func (s *Store) ClearRejection() error {
	ctx, cancel := s.opContext()
	defer cancel()
	_, err := s.do(ctx, retryStale, func(c *redisconn.Conn) (any, error) { return c.Do(ctx, "DEL", s.keys.rejected) })
	return err
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func itoa(n int) string { return strconv.Itoa(n) }
