package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
)

// arrivalListener hands oauthtest's own server its connections and stamps the moment the
// first bytes of each one arrive: every tokctl process opens a connection of its own and sends
// its token request at once, so that is when the server sees the request, before oauthtest
// parses, sleeps or processes anything.
type arrivalListener struct {
	net.Listener
	arrivals chan time.Time
}

func (l *arrivalListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &arrivalConn{Conn: c, arrivals: l.arrivals}, nil
}

type arrivalConn struct {
	net.Conn
	arrivals chan time.Time
	once     sync.Once
}

func (c *arrivalConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.once.Do(func() {
			select {
			case c.arrivals <- time.Now():
			default:
			}
		})
	}
	return n, err
}

// nextArrival waits up to d for the next request's arrival.
func nextArrival(arrivals <-chan time.Time, d time.Duration) (time.Time, error) {
	select {
	case t := <-arrivals:
		return t, nil
	case <-time.After(d):
		return time.Time{}, errors.New("no token request arrived")
	}
}

// handoff is scenario 4: a holder is mid-refresh (the server stalls its request for 30 s), one
// waiter polls the lock, the holder is SIGKILLed; measured is the time from the kill to the
// arrival of the waiter's own token request at the server.
func (b *bench) handoff() (outcome, error) {
	var o outcome
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return o, err
	}
	arrivals := make(chan time.Time, 64)
	srv, err := oauthtest.Serve(context.Background(), &arrivalListener{Listener: ln, arrivals: arrivals}, oauthtest.Options{})
	if err != nil {
		return o, err
	}
	defer srv.Close()
	f, err := newFixture(b.root, "handoff", b.bin, srv, "")
	if err != nil {
		return o, err
	}
	var toRequest, toDone sample
	var early, missing, waiterBad, refreshes, lockLeft []int
	for range b.n.handoffIters {
		for len(arrivals) > 0 { // connections of the previous iteration
			<-arrivals
		}
		if _, err := f.store(-time.Minute); err != nil {
			return o, err
		}
		srv.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: 30 * time.Second})
		holder, _, _ := command(b.bin.tokctl, f.tokctlArgs()...)
		if err := holder.Start(); err != nil {
			return o, err
		}
		if _, err := nextArrival(arrivals, 10*time.Second); err != nil {
			holder.Process.Kill()
			holder.Wait()
			return o, fmt.Errorf("handoff: the holder never reached the server: %w", err)
		}
		waiter, wout, werr := command(b.bin.tokctl, f.tokctlArgs("--lock-timeout", "10s")...)
		if err := waiter.Start(); err != nil {
			holder.Process.Kill()
			holder.Wait()
			return o, err
		}
		time.Sleep(100 * time.Millisecond) // the waiter is up and polling the lock
		select {
		case <-arrivals: // the waiter did not wait for the holder
			early = append(early, 1)
		default:
			early = append(early, 0)
		}
		killed := time.Now()
		if err := holder.Process.Signal(syscall.SIGKILL); err != nil {
			waiter.Process.Kill()
			waiter.Wait()
			return o, fmt.Errorf("handoff: kill the holder: %w", err)
		}
		arrived, arrErr := nextArrival(arrivals, 10*time.Second)
		holder.Wait()
		code, err := exitCode(waiter.Wait())
		done := time.Since(killed)
		if err != nil {
			return o, err
		}
		missing = append(missing, btoi(arrErr != nil))
		if arrErr != nil {
			o.notef("handoff: no token request after the kill (waiter exit %d, stderr %q)", code, strings.TrimSpace(werr.String()))
		} else {
			toRequest, toDone = append(toRequest, arrived.Sub(killed)), append(toDone, done)
		}
		stored, err := f.stored()
		ok := err == nil && code == 0 && werr.Len() == 0 && wout.String() == stored.AccessToken+"\n"
		waiterBad = append(waiterBad, btoi(!ok))
		refreshes = append(refreshes, srv.Stats().Refreshes)
		_, statErr := os.Stat(f.lockPath())
		lockLeft = append(lockLeft, btoi(statErr == nil))
	}
	o.checkAll("handoff: waiter requests before the holder was killed", early, 0)
	o.checkAll("handoff: no waiter request reached the server after the kill", missing, 0)
	o.checkAll("handoff: waiter failed or printed a token that is not the stored one", waiterBad, 0)
	o.checkAll("handoff: refreshes performed (the killed holder's request is dropped)", refreshes, 1)
	o.checkAll("handoff: lock file left behind", lockLeft, 0)
	o.rows = append(o.rows, row{
		scenario: fmt.Sprintf("4. handoff after SIGKILL: kill of the holder → waiter's token request at the server (%s)", plural(len(toRequest), "iteration")),
		measured: toRequest.medP90(),
		baseline: "—",
		ratio:    "—",
		target:   "≤ 50 ms",
		met:      met(toRequest.median() <= 50*time.Millisecond),
	})
	o.notef("handoff: kill → waiter exited with the new token: %s; arrival is stamped when the first bytes of the waiter's connection reach the server (a listener wrapped around oauthtest's own), before oauthtest parses or processes anything.", toDone.medP90())
	return o, nil
}
