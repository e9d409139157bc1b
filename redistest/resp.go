package redistest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Error is an error reply from Redis, e.g. "NOAUTH Authentication required.".
type Error struct{ Msg string }

func (e *Error) Error() string { return "redis: " + e.Msg }

// Code returns the error's first word (NOAUTH, WRONGPASS, READONLY, LOADING …).
func (e *Error) Code() string {
	code, _, _ := strings.Cut(e.Msg, " ")
	return code
}

// IsCode reports whether err is an error reply whose first word is code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code() == code
}

// ErrNil is returned by DoString for a nil reply (GET of a missing key).
var ErrNil = errors.New("redis: nil reply")

// DefaultTimeout bounds the dial and each command of a Conn whose DialOptions leave Timeout 0.
const DefaultTimeout = 10 * time.Second

// DialOptions say how Dial connects.
type DialOptions struct {
	User     string      // ACL user for AUTH; empty: the default user
	Password string      // AUTH after connecting when not empty
	TLS      *tls.Config // nil: plain TCP
	Timeout  time.Duration
}

// Conn is a minimal RESP2 client for test assertions: one command at a time, not safe for
// concurrent use. It is deliberately independent of the client under test (redisconn).
type Conn struct {
	nc      net.Conn
	r       *bufio.Reader
	timeout time.Duration
}

// Dial connects to addr and authenticates when o.Password is set.
func Dial(addr string, o DialOptions) (*Conn, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	d := &net.Dialer{Timeout: o.Timeout}
	var nc net.Conn
	var err error
	if o.TLS != nil {
		cfg := o.TLS
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		nc, err = tls.DialWithDialer(d, "tcp", addr, cfg)
	} else {
		nc, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	c := &Conn{nc: nc, r: bufio.NewReader(nc), timeout: o.Timeout}
	if o.Password != "" {
		args := []string{"AUTH", o.Password}
		if o.User != "" {
			args = []string{"AUTH", o.User, o.Password}
		}
		if _, err := c.Do(args...); err != nil {
			nc.Close()
			return nil, err
		}
	}
	return c, nil
}

// Do sends one command and reads its reply: a string (simple or bulk), an int64, nil (nil
// bulk or array), or a []any; an error reply is returned as an *Error. Each call has the
// Conn's timeout.
func (c *Conn) Do(args ...string) (any, error) {
	if err := c.Send(args...); err != nil {
		return nil, err
	}
	return c.Receive()
}

// Send writes one command without reading its reply.
func (c *Conn) Send(args ...string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.nc.SetDeadline(time.Now().Add(c.timeout))
	_, err := io.WriteString(c.nc, b.String())
	return err
}

// Receive reads one reply (after Send, or a pub/sub message).
func (c *Conn) Receive() (any, error) {
	c.nc.SetDeadline(time.Now().Add(c.timeout))
	return readReply(c.r)
}

// SetTimeout changes the bound of each later command.
func (c *Conn) SetTimeout(d time.Duration) { c.timeout = d }

// NetConn is the underlying connection (for fault tests: close it, read from it raw).
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("redistest: malformed reply line %q", line)
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+':
		return body, nil
	case '-':
		return nil, &Error{Msg: body}
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("redistest: bad bulk length %q", body)
		}
		if n == -1 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("redistest: bad array length %q", body)
		}
		if n == -1 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			v, err := readReply(r)
			var re *Error
			if err != nil && !errors.As(err, &re) {
				return nil, err
			}
			if err != nil {
				v = err // an error inside an array (EXEC) is an element, not the reply
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("redistest: unknown reply type %q", kind)
}

// String renders a reply for messages and comparisons: strings as they are, integers in
// decimal, nil as "(nil)", arrays as [a b c].
func String(v any) string {
	switch v := v.(type) {
	case nil:
		return "(nil)"
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = String(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case error:
		return v.Error()
	}
	return fmt.Sprint(v)
}
