package redisstore

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Target is a parsed store URL:
//
//	redis://[USER@]HOST[:PORT][/DB][?prefix=P&lease=D]
//	rediss://…                                   (TLS)
//	redis+sentinel://HOST[:PORT][,HOST[:PORT]…]/MASTER[/DB][?…]
//	rediss+sentinel://…                          (TLS to the sentinels and the primary)
//
// A password is never part of the URL: the URL is kept in the profile and shows in argv.
type Target struct {
	TLS       bool
	Addr      string   // the server, without Sentinel
	Sentinels []string // with Sentinel
	Master    string
	DB        int
	Username  string
	Prefix    string        // keys are PREFIX{PROFILE}:…; default "tokctl:"
	Lease     time.Duration // the lock's lease; default DefaultLease
}

// DefaultLease is how long a lock lasts unless renewed: how long the hosts of a fleet wait
// for a holder that died (SIGKILL, power cut, partition) before one of them takes over.
const DefaultLease = 10 * time.Second

// Bounds of the lease a URL may ask for: shorter leases are renewed too often to survive a
// slow network; longer ones keep a fleet waiting for a dead holder.
const (
	minLease = 2 * time.Second
	maxLease = 5 * time.Minute
)

// IsURL reports whether s names a Redis store (rather than "file" or "keyring").
func IsURL(s string) bool {
	for _, p := range []string{"redis://", "rediss://", "redis+sentinel://", "rediss+sentinel://"} {
		if strings.HasPrefix(strings.ToLower(s), p) {
			return true
		}
	}
	return false
}

// ParseURL parses and checks a store URL.
func ParseURL(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fmt.Errorf("store URL: %v", redactErr(err))
	}
	var t Target
	sentinel := false
	switch strings.ToLower(u.Scheme) {
	case "redis":
	case "rediss":
		t.TLS = true
	case "redis+sentinel":
		sentinel = true
	case "rediss+sentinel":
		t.TLS, sentinel = true, true
	default:
		return t, fmt.Errorf("store URL: scheme must be redis, rediss, redis+sentinel or rediss+sentinel, not %q", u.Scheme)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return t, fmt.Errorf("store URL: the password must not be in the URL (it would be kept in the profile and show in process lists); use --store-password-env or --store-password-file")
		}
		t.Username = u.User.Username()
	}
	if u.Fragment != "" || u.Opaque != "" {
		return t, fmt.Errorf("store URL: unexpected %q", "#"+u.Fragment+u.Opaque)
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	if sentinel {
		if len(segs) == 0 {
			return t, fmt.Errorf("store URL: name the Sentinel master: redis+sentinel://HOST:PORT[,HOST:PORT…]/MASTER[/DB]")
		}
		t.Master, segs = segs[0], segs[1:]
		for _, h := range strings.Split(u.Host, ",") {
			addr, err := hostPort(h, "26379")
			if err != nil {
				return t, err
			}
			t.Sentinels = append(t.Sentinels, addr)
		}
	} else if t.Addr, err = hostPort(u.Host, "6379"); err != nil {
		return t, err
	}
	switch len(segs) {
	case 0:
	case 1:
		db, err := strconv.Atoi(segs[0])
		if err != nil || db < 0 || db > 1<<20 {
			return t, fmt.Errorf("store URL: database must be a number, not %q", segs[0])
		}
		t.DB = db
	default:
		return t, fmt.Errorf("store URL: unexpected path %q", u.Path)
	}
	return t, t.query(u.Query())
}

func (t *Target) query(q url.Values) error {
	t.Prefix, t.Lease = "tokctl:", DefaultLease
	for k, v := range q {
		if len(v) != 1 {
			return fmt.Errorf("store URL: %s given %d times", k, len(v))
		}
		switch k {
		case "prefix":
			if strings.ContainsAny(v[0], "{} \r\n") || len(v[0]) > 64 {
				return fmt.Errorf("store URL: prefix must be at most 64 characters without braces or spaces")
			}
			t.Prefix = v[0]
		case "lease":
			d, err := time.ParseDuration(v[0])
			if err != nil || d < minLease || d > maxLease {
				return fmt.Errorf("store URL: lease must be a duration from %s to %s, not %q", minLease, maxLease, v[0])
			}
			t.Lease = d
		default:
			return fmt.Errorf("store URL: unknown parameter %q (known: prefix, lease)", k)
		}
	}
	return nil
}

func hostPort(h, defPort string) (string, error) {
	if h == "" {
		return "", fmt.Errorf("store URL: no host")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		host, port = strings.Trim(h, "[]"), defPort
	}
	if host == "" {
		return "", fmt.Errorf("store URL: no host in %q", h)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("store URL: bad port %q", port)
	}
	return net.JoinHostPort(host, port), nil
}

// String is the URL without its query: what messages name.
func (t Target) String() string {
	scheme, hosts := "redis", t.Addr
	if t.TLS {
		scheme = "rediss"
	}
	if t.Master != "" {
		scheme += "+sentinel"
		hosts = strings.Join(t.Sentinels, ",")
	}
	user := ""
	if t.Username != "" {
		user = url.User(t.Username).String() + "@"
	}
	path := "/" + strconv.Itoa(t.DB)
	if t.Master != "" {
		path = "/" + t.Master + path
	}
	return scheme + "://" + user + hosts + path
}

// redactErr drops the input echoed by url.Parse errors: a mistyped URL may hold a password.
func redactErr(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
