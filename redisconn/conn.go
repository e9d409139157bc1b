// Package redisconn is the minimal Redis client of tokctl's fleet store: one connection speaking
// RESP2, with TLS, AUTH, SELECT, Sentinel master discovery and pub/sub.
//
// It sends exactly the commands it is given: no handshake beyond AUTH and SELECT (no HELLO, no
// CLIENT SETINFO), no pipelining behind the caller's back and no retries. The fleet store relies
// on that: its hot path is one GET, and its fenced writes must never run twice. (A full client
// library was measured: its package initialisation alone cost every tokctl start, file store
// included, a quarter of a millisecond, and it retries commands by default.)
//
// A Conn is safe for concurrent use; commands on one Conn run one at a time. A Conn whose
// connection broke (an I/O error, a timeout, a reply that cannot be parsed) stays broken: every
// later call fails at once, and the caller dials a new one.
package redisconn

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// Config says where and how to connect.
type Config struct {
	// Addr is the server's host:port. With MasterName it is ignored: Sentinels names the
	// sentinels to ask for the current primary.
	Addr       string
	MasterName string
	Sentinels  []string
	Username   string // Redis 6 ACL user; empty for the default user
	Password   string
	DB         int
	TLS        *tls.Config // nil: plain TCP
	// DialTimeout bounds each connection attempt, IOTimeout each command's round trip (the
	// context's deadline, when earlier, wins). Zero: DefaultDialTimeout, DefaultIOTimeout.
	DialTimeout time.Duration
	IOTimeout   time.Duration
}

// Defaults for a Config's zero timeouts.
const (
	DefaultDialTimeout = 2 * time.Second
	DefaultIOTimeout   = 3 * time.Second
)

// MaxBulk bounds one bulk string in a reply. tokctl stores credentials of a few KiB; anything
// near this is not a reply to tokctl's commands.
const MaxBulk = 1 << 20

// Error is an error reply from the server, e.g. "WRONGPASS invalid username-password pair".
type Error struct{ Msg string }

func (e *Error) Error() string { return "redis: " + e.Msg }

// Code returns the error's first word (WRONGPASS, NOAUTH, READONLY, NOSCRIPT …).
func (e *Error) Code() string {
	for i := 0; i < len(e.Msg); i++ {
		if e.Msg[i] == ' ' {
			return e.Msg[:i]
		}
	}
	return e.Msg
}

// ErrTLSHandshake is wrapped by a dial whose TLS handshake did not complete in time: typically a
// plain-text server behind a rediss:// URL.
var ErrTLSHandshake = errors.New("TLS handshake timed out")

// ErrBroken is returned by calls on a Conn whose connection already failed.
var ErrBroken = errors.New("redis connection is broken")

// Conn is one connection to a Redis server.
type Conn struct {
	addr string
	io   time.Duration

	mu     sync.Mutex
	nc     net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	broken error
}

// Dial connects to the server (or, with cfg.MasterName, to the primary the sentinels name),
// authenticates and selects the database.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	addr := cfg.Addr
	if cfg.MasterName != "" {
		var err error
		if addr, err = masterAddr(ctx, cfg); err != nil {
			return nil, err
		}
	}
	c, err := dial(ctx, addr, cfg)
	if err != nil {
		return nil, err
	}
	if err := c.setup(ctx, cfg); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func dial(ctx context.Context, addr string, cfg Config) (*Conn, error) {
	timeout := orDefault(cfg.DialTimeout, DefaultDialTimeout)
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		hctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		tc := tls.Client(nc, tlsFor(cfg.TLS, addr))
		if err := tc.HandshakeContext(hctx); err != nil {
			nc.Close()
			if hctx.Err() != nil && ctx.Err() == nil {
				return nil, fmt.Errorf("%w: %s accepted the connection but completed no TLS handshake within %s; does it serve TLS on that port?", ErrTLSHandshake, addr, timeout)
			}
			return nil, err
		}
		nc = tc
	}
	return &Conn{addr: addr, io: orDefault(cfg.IOTimeout, DefaultIOTimeout), nc: nc,
		r: bufio.NewReaderSize(nc, 4096), w: bufio.NewWriterSize(nc, 4096)}, nil
}

// tlsFor names the server for certificate checks when the config does not.
func tlsFor(base *tls.Config, addr string) *tls.Config {
	if base.ServerName != "" {
		return base
	}
	c := base.Clone()
	c.ServerName, _, _ = net.SplitHostPort(addr)
	return c
}

func (c *Conn) setup(ctx context.Context, cfg Config) error {
	if cfg.Password != "" {
		args := []string{"AUTH", cfg.Password}
		if cfg.Username != "" {
			args = []string{"AUTH", cfg.Username, cfg.Password}
		}
		if _, err := c.Do(ctx, args...); err != nil {
			return err
		}
	}
	if cfg.DB != 0 {
		if _, err := c.Do(ctx, "SELECT", strconv.Itoa(cfg.DB)); err != nil {
			return err
		}
	}
	return nil
}

// Addr returns the address of the server this Conn talks to.
func (c *Conn) Addr() string { return c.addr }

// Do sends one command and reads its reply: a string (simple or bulk), an int64, nil (a nil
// bulk or array), a []any, or an *Error for an error reply (returned as the error).
func (c *Conn) Do(ctx context.Context, args ...string) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return nil, c.broken
	}
	c.nc.SetDeadline(c.deadline(ctx))
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := writeCommand(c.w, args); err != nil {
		return nil, c.fail(ctx, err)
	}
	v, err := readReply(c.r)
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	if e, ok := v.(*Error); ok {
		return nil, e
	}
	return v, nil
}

// Receive reads the next message pushed on a subscribed connection, waiting until ctx ends. A
// Conn that Receive gave up on (ctx ended) is broken: use one Conn per subscription and close it
// when done.
func (c *Conn) Receive(ctx context.Context) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return nil, c.broken
	}
	dl, _ := ctx.Deadline()
	c.nc.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	v, err := readReply(c.r)
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	return v, nil
}

// Close closes the connection.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken == nil {
		c.broken = ErrBroken
	}
	return c.nc.Close()
}

// fail marks the connection broken after an I/O error, reporting ctx's error when it caused it.
func (c *Conn) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	c.broken = fmt.Errorf("%w: %v", ErrBroken, err)
	c.nc.Close()
	return err
}

func (c *Conn) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(c.io)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
