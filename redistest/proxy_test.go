package redistest

import (
	"errors"
	"testing"
	"time"
)

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

func waitActive(t *testing.T, p *Proxy, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); p.Active() != n; {
		if time.Now().After(deadline) {
			t.Fatalf("Active %d, want %d", p.Active(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestProxyCut(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{Password: "pw"})
	p := NewProxy(t, s.Addr())
	c, err := Dial(p.Addr(), s.DialOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.Do("PING"); err != nil || v != "PONG" {
		t.Fatalf("PING through the proxy: %v %v", v, err)
	}
	if p.Accepted() != 1 || p.Active() != 1 {
		t.Fatalf("Accepted %d Active %d, want 1 1", p.Accepted(), p.Active())
	}
	// An in-flight command (a blocking pop that would wait 10 s) fails at the cut, at once.
	if err := c.Send("BLPOP", "nothing", "10"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	cut := time.Now()
	p.Cut()
	_, err = c.Receive()
	if err == nil || isTimeout(err) || time.Since(cut) > 2*time.Second {
		t.Fatalf("in-flight BLPOP after Cut: %v after %s, want a broken connection at once", err, time.Since(cut))
	}
	t.Logf("after Cut: %v", err)
	waitActive(t, p, 0)
	// The server saw its side go too.
	for deadline := time.Now().Add(5 * time.Second); ; {
		info, err := s.Info("clients")
		if err == nil && info["blocked_clients"] == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still has the blocked client: %v %v", info["blocked_clients"], err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// New connections go through.
	c2, err := Dial(p.Addr(), s.DialOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if v, err := c2.Do("PING"); err != nil || v != "PONG" {
		t.Fatalf("PING after Cut: %v %v", v, err)
	}
	if p.Accepted() != 2 {
		t.Fatalf("Accepted %d, want 2", p.Accepted())
	}
}

func TestProxyBlock(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	p := NewProxy(t, s.Addr())
	c, err := Dial(p.Addr(), DialOptions{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Do("SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	p.Block()
	if _, err := c.Do("GET", "k"); !isTimeout(err) {
		t.Fatalf("GET on a blocked connection: %v, want a timeout", err)
	}
	// A new connection is accepted (TCP connects) but its commands time out too.
	c2, err := Dial(p.Addr(), DialOptions{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("dial while blocked: %v", err)
	}
	defer c2.Close()
	if _, err := c2.Do("PING"); !isTimeout(err) {
		t.Fatalf("PING on a new blocked connection: %v, want a timeout", err)
	}
	p.Unblock()
	// The held PING is delivered after Unblock, as TCP would retransmit it.
	c2.SetTimeout(5 * time.Second)
	if v, err := c2.Receive(); err != nil || v != "PONG" {
		t.Fatalf("held PING after Unblock: %v %v", v, err)
	}
	if v, err := s.DoString("GET", "k"); err != nil || v != "v" {
		t.Fatal(v, err)
	}
}

func TestProxyRefuse(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	p := NewProxy(t, s.Addr())
	p.Refuse()
	c, err := Dial(p.Addr(), DialOptions{Timeout: 2 * time.Second})
	if err == nil {
		_, err = c.Do("PING")
		c.Close()
	}
	if err == nil || isTimeout(err) {
		t.Fatalf("PING through a refusing proxy: %v, want a reset", err)
	}
	p.Unblock()
	c, err = Dial(p.Addr(), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.Do("PING"); err != nil || v != "PONG" {
		t.Fatalf("PING after Unblock: %v %v", v, err)
	}
}

func TestProxyDelayAndTLS(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{TLS: true, Password: "pw"})
	p := NewProxy(t, s.Addr())
	c, err := Dial(p.Addr(), s.DialOptions()) // the certificate names 127.0.0.1: the proxy's address too
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p.Delay(250 * time.Millisecond)
	start := time.Now()
	if v, err := c.Do("PING"); err != nil || v != "PONG" {
		t.Fatalf("PING: %v %v", v, err)
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("PING with 250 ms each way took %s", d)
	}
	p.Delay(0)
	start = time.Now()
	if _, err := c.Do("PING"); err != nil || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("PING without delay: %v in %s", err, time.Since(start))
	}
}

func TestProxyRetargetAndClose(t *testing.T) {
	t.Parallel()
	a := NewServer(t, Options{})
	b := NewServer(t, Options{})
	if _, err := b.Do("SET", "who", "b"); err != nil {
		t.Fatal(err)
	}
	p, err := StartProxy(a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	ca, err := Dial(p.Addr(), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	if _, err := ca.Do("PING"); err != nil { // the proxy has accepted it and dialled a
		t.Fatal(err)
	}
	p.Retarget(b.Addr())
	cb, err := Dial(p.Addr(), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	if v, err := cb.Do("GET", "who"); err != nil || v != "b" {
		t.Fatalf("GET through the retargeted proxy: %v %v", v, err)
	}
	if v, err := ca.Do("GET", "who"); err != nil || v != nil {
		t.Fatalf("GET on the connection made before Retarget: %v %v, want nil from a", v, err)
	}
	p.Block() // Close must not hang on a blocked connection
	p.Close()
	p.Close()
	if _, err := ca.Do("PING"); err == nil {
		t.Fatal("PING after Close answered")
	}
	if _, err := Dial(p.Addr(), DialOptions{Timeout: time.Second}); err == nil {
		t.Fatal("dial after Close succeeded")
	}
}
