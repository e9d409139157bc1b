package measure

import (
	"errors"
	"net"
	"sync"
	"time"
)

// ArrivalListener hands oauthtest's own server its connections and stamps the moment the first
// bytes of each one arrive: every tokctl process opens a connection of its own and sends its
// token request at once, so that is when the server sees the request, before oauthtest parses,
// sleeps or processes anything. Pass it to oauthtest.Serve.
type ArrivalListener struct {
	net.Listener
	Arrivals chan time.Time // one stamp per connection; a stamp is dropped when 64 are waiting
}

// ListenArrivals listens on a random port of 127.0.0.1.
func ListenArrivals() (*ArrivalListener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &ArrivalListener{Listener: ln, Arrivals: make(chan time.Time, 64)}, nil
}

// Accept wraps the next connection so that its first bytes are stamped.
func (l *ArrivalListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &arrivalConn{Conn: c, arrivals: l.Arrivals}, nil
}

// Next waits up to d for the next request's arrival.
func (l *ArrivalListener) Next(d time.Duration) (time.Time, error) {
	select {
	case t := <-l.Arrivals:
		return t, nil
	case <-time.After(d):
		return time.Time{}, errors.New("no token request arrived")
	}
}

// Drain drops the stamps nobody took (the connections of a previous iteration).
func (l *ArrivalListener) Drain() {
	for len(l.Arrivals) > 0 {
		<-l.Arrivals
	}
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
