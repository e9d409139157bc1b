package redisstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/tokctl/tokctl/redisconn"
)

// waitTimeout bounds how long a WAIT for a replica's acknowledgement may take.
const waitTimeout = time.Second

// subscription delivers a wake-up on c for each change published on the profile's channel. A
// subscription that could not be set up never fires: its waiter polls.
type subscription struct {
	c      chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// subscribe listens on the profile's channel on a connection of its own. It returns once the
// server confirmed the subscription (or the attempt failed), so that every change after that
// moment wakes the waiter.
func (s *Store) subscribe() *subscription {
	ctx, cancel := context.WithCancel(context.Background())
	sub := &subscription{c: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	setup, stop := context.WithTimeout(ctx, orDefault(s.cfg.IOTimeout, redisconn.DefaultIOTimeout))
	defer stop()
	conn, err := s.dial(setup)
	if err == nil {
		if _, err = conn.Do(setup, "SUBSCRIBE", s.keys.channel); err != nil {
			conn.Close()
		}
	}
	if err != nil {
		close(sub.done)
		return sub
	}
	go func() {
		defer close(sub.done)
		defer conn.Close()
		for {
			v, err := conn.Receive(ctx)
			if err != nil {
				return // closed, or the connection broke: the waiter polls on
			}
			if msg, ok := v.([]any); ok && len(msg) == 3 && msg[0] == "message" {
				select {
				case sub.c <- struct{}{}:
				default:
				}
			}
		}
	}()
	return sub
}

func (sub *subscription) close() {
	if sub == nil {
		return
	}
	sub.cancel()
	<-sub.done
}

// connectedReplicas returns how many replicas the server reports connected.
func (s *Store) connectedReplicas(ctx context.Context) (int, error) {
	info, err := s.info(ctx, "replication")
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(info["connected_slaves"])
	return n, nil
}

// wait asks for one replica's acknowledgement of this connection's writes so far.
func (s *Store) wait(ctx context.Context) (int, error) {
	v, err := s.do(ctx, noRetry, func(c *redisconn.Conn) (any, error) {
		return c.Do(ctx, "WAIT", "1", itoa(int(waitTimeout.Milliseconds())))
	})
	n, _ := v.(int64)
	return int(n), err
}

// info returns one INFO section as key → value.
func (s *Store) info(ctx context.Context, section string) (map[string]string, error) {
	v, err := s.do(ctx, retryStale, func(c *redisconn.Conn) (any, error) { return c.Do(ctx, "INFO", section) })
	if err != nil {
		return nil, err
	}
	text, _ := v.(string)
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, val, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.HasPrefix(k, "#") {
			out[k] = val
		}
	}
	return out, nil
}
