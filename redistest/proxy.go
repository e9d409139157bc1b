package redistest

import (
	"net"
	"sync"
	"time"
)

// Proxy is a TCP proxy on 127.0.0.1 between clients and a target (a Server's Addr) that
// injects faults: Cut drops the connections, Block black-holes them, Refuse resets new ones,
// Delay slows them. It forwards bytes as they are, so it works for TLS too (the client checks
// the server's certificate for 127.0.0.1, which the proxy's address also is).
type Proxy struct {
	ln net.Listener
	wg sync.WaitGroup

	mu       sync.Mutex
	target   string
	conns    map[*proxyConn]struct{}
	blocked  bool
	release  chan struct{} // closed by Unblock
	refuse   bool
	delay    time.Duration
	accepted int
	closed   bool
}

type proxyConn struct {
	client net.Conn
	done   chan struct{} // closed by close

	mu     sync.Mutex
	server net.Conn
	closed bool
}

// close resets both sides at once (no lingering FIN handshake).
func (pc *proxyConn) close() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.closed {
		return
	}
	pc.closed = true
	close(pc.done)
	reset(pc.client)
	if pc.server != nil {
		reset(pc.server)
	}
}

// setServer records the server side; false (and the server side reset) when already closed.
func (pc *proxyConn) setServer(server net.Conn) bool {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.closed {
		reset(server)
		return false
	}
	pc.server = server
	return true
}

func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// NewProxy starts a proxy to target for the test and closes it at cleanup.
func NewProxy(t TB, target string) *Proxy {
	t.Helper()
	p, err := StartProxy(target)
	if err != nil {
		t.Fatalf("redistest: proxy: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// StartProxy starts a proxy to target on a free port; the caller calls Close.
func StartProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[*proxyConn]struct{}{}, release: make(chan struct{})}
	close(p.release)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address clients connect to: "127.0.0.1:PORT".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is a redis:// URL naming the proxy (rediss:// with tls).
func (p *Proxy) URL(tls bool) string {
	if tls {
		return "rediss://" + p.Addr()
	}
	return "redis://" + p.Addr()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepted++
		refuse, target := p.refuse || p.closed, p.target
		p.mu.Unlock()
		if refuse {
			reset(c)
			continue
		}
		p.wg.Add(1)
		go p.serve(c, target)
	}
}

func (p *Proxy) serve(client net.Conn, target string) {
	defer p.wg.Done()
	pc := &proxyConn{client: client, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		reset(client)
		return
	}
	p.conns[pc] = struct{}{}
	p.mu.Unlock()
	defer func() {
		pc.close()
		p.mu.Lock()
		delete(p.conns, pc)
		p.mu.Unlock()
	}()
	server, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		return
	}
	if !pc.setServer(server) { // cut while dialling
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(pc, server, client) }()
	go func() { defer wg.Done(); p.pipe(pc, client, server) }()
	wg.Wait()
}

// pipe copies src to dst chunk by chunk, holding each chunk while the proxy is blocked and
// delaying it by the current delay. Either side's end or error ends the whole connection.
func (p *Proxy) pipe(pc *proxyConn, dst, src net.Conn) {
	defer pc.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.hold(pc) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// hold waits while the proxy is blocked, then for the delay; false when the connection was
// cut meanwhile.
func (p *Proxy) hold(pc *proxyConn) bool {
	for {
		p.mu.Lock()
		blocked, release, delay := p.blocked, p.release, p.delay
		p.mu.Unlock()
		if blocked {
			select {
			case <-release:
				continue
			case <-pc.done:
				return false
			}
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-pc.done:
				t.Stop()
				return false
			}
		}
		select {
		case <-pc.done:
			return false
		default:
			return true
		}
	}
}

// Cut resets every current connection (both sides see the connection drop); new ones are
// still accepted.
func (p *Proxy) Cut() {
	p.mu.Lock()
	conns := make([]*proxyConn, 0, len(p.conns))
	for pc := range p.conns {
		conns = append(conns, pc)
	}
	p.mu.Unlock()
	for _, pc := range conns {
		pc.close()
	}
}

// Block black-holes traffic: connections, current and new, stay open (new ones are accepted
// and reach the server) but no byte goes through either way, so clients time out, as in a
// network partition. Bytes sent meanwhile are delivered after Unblock, as TCP would.
func (p *Proxy) Block() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.blocked {
		p.blocked, p.release = true, make(chan struct{})
	}
}

// Refuse makes new connections fail at once (reset right after accept); current ones go on.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	p.refuse = true
	p.mu.Unlock()
}

// Unblock ends Block and Refuse.
func (p *Proxy) Unblock() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = false
	if p.blocked {
		p.blocked = false
		close(p.release)
	}
}

// Delay adds latency d to every chunk of bytes forwarded either way (0: none).
func (p *Proxy) Delay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// Retarget sends connections the proxy accepts from now on to target; current ones stay
// where they are (a client whose dial returned may still be in the accept queue: it goes to
// the new target).
func (p *Proxy) Retarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

// Accepted counts the connections accepted so far (refused ones included).
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Active counts the connections open now.
func (p *Proxy) Active() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops accepting, resets every connection and waits for the proxy's goroutines.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.Cut()
	p.Unblock()
	p.wg.Wait()
}
