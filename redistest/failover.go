package redistest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FailoverOptions configure a Sentinel-managed group: a primary, its replicas and sentinels.
type FailoverOptions struct {
	Password   string // every server's password (requirepass and masterauth; the sentinels' auth-pass); the sentinels have none
	TLS        bool   // servers and sentinels serve TLS only, and replicate and monitor over TLS
	AppendOnly bool   // every server keeps an AOF with an fsync per write
	Master     string // the master name; default "tokctl"
	Replicas   int    // default 1
	Sentinels  int    // default 3
	Quorum     int    // default a majority of the sentinels
	// DownAfter is how long a silent primary takes to be declared down (default 1 s);
	// FailoverTimeout is Sentinel's failover-timeout (default 2 s: a failed election is
	// retried after twice that).
	DownAfter, FailoverTimeout time.Duration
}

// Failover is a Sentinel-managed primary with replicas, for failover tests. After a
// failover the roles move: ask Primary for the current primary.
type Failover struct {
	opts      FailoverOptions
	servers   []*Server
	sentinels []*Server
}

// NewFailover starts a Sentinel group for the test and stops it at cleanup (showing every
// log when the test failed). It skips or fails the test when Redis is not installed.
func NewFailover(t TB, opts FailoverOptions) *Failover {
	t.Helper()
	Require(t)
	f, err := StartFailover(opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range append(f.Servers(), f.sentinels...) {
				t.Logf("redistest: log of %s %s:\n%s", s.kind(), s.Addr(), s.LogTail(40))
			}
		}
		f.Stop()
	})
	return f
}

// StartFailover starts the primary, its replicas (returning once each one's link is up) and
// the sentinels (returning once each knows every replica and every other sentinel, so a
// failover can start at once); the caller calls Stop.
func StartFailover(o FailoverOptions) (*Failover, error) {
	if o.Master == "" {
		o.Master = "tokctl"
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Sentinels <= 0 {
		o.Sentinels = 3
	}
	if o.Quorum <= 0 {
		o.Quorum = o.Sentinels/2 + 1
	}
	if o.DownAfter <= 0 {
		o.DownAfter = time.Second
	}
	if o.FailoverTimeout <= 0 {
		o.FailoverTimeout = 2 * time.Second
	}
	f := &Failover{opts: o}
	sopts := Options{Password: o.Password, TLS: o.TLS, AppendOnly: o.AppendOnly}
	primary, err := StartServer(sopts)
	if err != nil {
		return nil, err
	}
	f.servers = append(f.servers, primary)
	for i := 0; i < o.Replicas; i++ {
		ro := sopts
		ro.ReplicaOf = primary
		r, err := StartServer(ro)
		if err != nil {
			f.Stop()
			return nil, err
		}
		f.servers = append(f.servers, r)
	}
	for i := 0; i < o.Sentinels; i++ {
		s := &Server{sentinel: true, opts: Options{TLS: o.TLS}}
		if err := s.start(func(port int) string { return f.sentinelConfig(s, port, primary) }); err != nil {
			f.Stop()
			return nil, err
		}
		f.sentinels = append(f.sentinels, s)
	}
	if err := f.waitDiscovered(StartTimeout); err != nil {
		f.Stop()
		return nil, err
	}
	return f, nil
}

func (f *Failover) sentinelConfig(s *Server, port int, primary *Server) string {
	o := f.opts
	var c confWriter
	c.listen(port, o.TLS)
	if o.TLS {
		c.tls(s.dir)
	}
	c.common(s.dir)
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	c.line("sentinel", "monitor", o.Master, "127.0.0.1", strconv.Itoa(primary.port), strconv.Itoa(o.Quorum))
	c.line("sentinel", "down-after-milliseconds", o.Master, ms(o.DownAfter))
	c.line("sentinel", "failover-timeout", o.Master, ms(o.FailoverTimeout))
	c.line("sentinel", "parallel-syncs", o.Master, "1")
	if o.Password != "" {
		c.line("sentinel", "auth-pass", o.Master, o.Password)
	}
	return c.String()
}

// waitDiscovered waits until every sentinel knows every replica and every other sentinel.
func (f *Failover) waitDiscovered(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, s := range f.sentinels {
		var m map[string]string
		var err error
		for {
			m, err = f.sentinelMaster(s)
			if err == nil && atoi(m["num-slaves"]) >= f.opts.Replicas && atoi(m["num-other-sentinels"]) >= len(f.sentinels)-1 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("redistest: sentinel %s did not discover the group within %s: num-slaves %q, num-other-sentinels %q, %v\n%s",
					s.Addr(), timeout, m["num-slaves"], m["num-other-sentinels"], err, s.LogTail(40))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// sentinelMaster is SENTINEL MASTER as a map.
func (f *Failover) sentinelMaster(s *Server) (map[string]string, error) {
	v, err := s.Do("SENTINEL", "MASTER", f.opts.Master)
	if err != nil {
		return nil, err
	}
	a, ok := v.([]any)
	if !ok || len(a)%2 != 0 {
		return nil, fmt.Errorf("redistest: SENTINEL MASTER replied %s", String(v))
	}
	m := map[string]string{}
	for i := 0; i < len(a); i += 2 {
		m[String(a[i])] = String(a[i+1])
	}
	return m, nil
}

// MasterName is the name the sentinels monitor the primary under.
func (f *Failover) MasterName() string { return f.opts.Master }

// SentinelAddrs are the sentinels' addresses.
func (f *Failover) SentinelAddrs() []string {
	out := make([]string, len(f.sentinels))
	for i, s := range f.sentinels {
		out[i] = s.Addr()
	}
	return out
}

// Sentinels are the sentinel processes (Kill, Restart, Do "SENTINEL …" work on them).
func (f *Failover) Sentinels() []*Server { return append([]*Server(nil), f.sentinels...) }

// Servers are the data servers, the first primary first.
func (f *Failover) Servers() []*Server { return append([]*Server(nil), f.servers...) }

// Password is the servers' password.
func (f *Failover) Password() string { return f.opts.Password }

// CAFile is the CA certificate (PEM) of the servers and sentinels; empty without TLS.
func (f *Failover) CAFile() string { return f.servers[0].CAFile() }

// URL is the store URL naming the sentinels and the master, database 0:
// redis+sentinel://H:P,H:P,H:P/tokctl/0 (rediss+sentinel:// with TLS).
func (f *Failover) URL() string {
	scheme := "redis+sentinel"
	if f.opts.TLS {
		scheme = "rediss+sentinel"
	}
	return scheme + "://" + strings.Join(f.SentinelAddrs(), ",") + "/" + f.opts.Master + "/0"
}

// Primary asks the sentinels, in order, which server is the primary now (what a client
// would be told; during a failover it may still be the old one).
func (f *Failover) Primary() (*Server, error) {
	var errs []error
	for _, s := range f.sentinels {
		addr, err := f.askSentinel(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if srv := f.server(addr); srv != nil {
			return srv, nil
		}
		errs = append(errs, fmt.Errorf("sentinel %s names %s, not a server of the group", s.Addr(), addr))
	}
	return nil, fmt.Errorf("redistest: no sentinel names the primary: %w", errors.Join(errs...))
}

func (f *Failover) askSentinel(s *Server) (string, error) {
	v, err := s.Do("SENTINEL", "get-master-addr-by-name", f.opts.Master)
	if err != nil {
		return "", fmt.Errorf("sentinel %s: %w", s.Addr(), err)
	}
	a, ok := v.([]any)
	if !ok || len(a) != 2 {
		return "", fmt.Errorf("sentinel %s replied %s", s.Addr(), String(v))
	}
	return String(a[0]) + ":" + String(a[1]), nil
}

func (f *Failover) server(addr string) *Server {
	for _, s := range f.servers {
		if s.Addr() == addr {
			return s
		}
	}
	return nil
}

// KillPrimary SIGKILLs the current primary and returns it (for WaitFailover, or to Restart
// it later: it comes back as a master with its old data, and the sentinels turn it into a
// replica of the new primary about 8 s later — Sentinel's fixed grace period).
func (f *Failover) KillPrimary() (*Server, error) {
	p, err := f.Primary()
	if err != nil {
		return nil, err
	}
	return p, p.Kill()
}

// WaitFailover waits until every running sentinel names the same primary other than from,
// and that server answers ROLE as a master; it returns the new primary.
func (f *Failover) WaitFailover(from *Server, timeout time.Duration) (*Server, error) {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		p, why := f.agreedPrimary()
		if p != nil && p != from {
			role, err := p.Role()
			if err == nil && role == "master" {
				return p, nil
			}
			why = fmt.Sprintf("%s: role %q %v", p.Addr(), role, err)
		} else if p == from {
			why = "the sentinels still name " + from.Addr()
		}
		last = why
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("redistest: no failover from %s within %s: %s", from.Addr(), timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// agreedPrimary is the server every running sentinel names, or nil and why not.
func (f *Failover) agreedPrimary() (*Server, string) {
	var agreed string
	for _, s := range f.sentinels {
		if !s.Running() {
			continue
		}
		addr, err := f.askSentinel(s)
		if err != nil {
			return nil, err.Error()
		}
		if agreed != "" && addr != agreed {
			return nil, fmt.Sprintf("sentinels disagree: %s and %s", agreed, addr)
		}
		agreed = addr
	}
	if srv := f.server(agreed); srv != nil {
		return srv, ""
	}
	return nil, "the sentinels name " + agreed
}

// Stop stops the sentinels, then the servers, and removes their directories.
func (f *Failover) Stop() {
	for _, s := range f.sentinels {
		s.Stop()
	}
	for _, s := range f.servers {
		s.Stop()
	}
}
