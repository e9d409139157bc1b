package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/redisconn"
)

// held is a lock taken in Redis.
type held struct {
	s     *Store
	val   string // the owner record: what the lock must still hold
	lease time.Duration

	mu        sync.Mutex
	confirmed time.Time // the lease's end as last confirmed by the server
	lost      bool      // the server said the lock is no longer ours
	version   string    // the credential's version as read under the lock
	loaded    bool
	replicas  int  // replicas connected when the lock was taken
	unlocked  bool // built with tokctl_nolock: nothing to renew, fence or release

	stop, done chan struct{}
}

// margin is how long before the confirmed end of the lease a token request must be finished:
// room for the fenced write and for the clocks of this host and the server running at
// slightly different rates.
func (h *held) margin() time.Duration { return max(h.lease/5, 200*time.Millisecond) }

// replicate makes sure the lock is on a replica before the refresh starts, when there are
// replicas: after a failover, the promoted replica must already refuse the lock to others.
func (h *held) replicate(ctx context.Context) error {
	n, err := h.s.connectedReplicas(ctx)
	if err != nil {
		return err
	}
	h.replicas = n
	if n == 0 {
		return nil
	}
	acked, err := h.s.wait(ctx)
	if err != nil {
		return err
	}
	if acked < 1 {
		return &creds.StoreUnavailableError{Location: h.s.Location(), Err: fmt.Errorf("no replica acknowledged the lock within %s; a failover now could give it to another host, so no refresh was started", waitTimeout)}
	}
	return nil
}

func (h *held) startRenewal() {
	h.stop, h.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(h.done)
		t := time.NewTicker(h.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.renew()
			}
		}
	}()
}

// renew extends the lease if the lock is still ours.
func (h *held) renew() {
	ctx, cancel := context.WithTimeout(context.Background(), h.lease/3)
	defer cancel()
	sent := time.Now()
	v, err := h.s.do(ctx, retryOutage, func(c *redisconn.Conn) (any, error) {
		return renew.run(ctx, c, []string{h.s.keys.lock}, h.val, itoa(int(h.lease.Milliseconds())))
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil: // unreachable: the lease confirmed so far still bounds the refresh
	case v == int64(1):
		if end := sent.Add(h.lease); end.After(h.confirmed) {
			h.confirmed = end
		}
	default:
		h.lost = true
	}
}

// Deadline implements creds.Held: it renews the lease first, so that a token request gets
// nearly a whole lease.
func (h *held) Deadline() time.Time {
	if h.unlocked {
		return time.Time{}
	}
	h.renew()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost {
		return time.Now().Add(-time.Nanosecond)
	}
	return h.confirmed.Add(-h.margin())
}

// Load implements creds.Held: the credential and its version in one MGET.
func (h *held) Load() (*creds.Credential, error) {
	ctx, cancel := h.s.opContext()
	defer cancel()
	v, err := h.s.do(ctx, retryStale, func(c *redisconn.Conn) (any, error) {
		return c.Do(ctx, "MGET", h.s.keys.cred, h.s.keys.version)
	})
	if err != nil {
		return nil, err
	}
	pair, _ := v.([]any)
	if len(pair) != 2 {
		return nil, h.s.wrap(fmt.Errorf("%w: MGET answered %d values", redisconn.ErrProtocol, len(pair)))
	}
	h.mu.Lock()
	h.version, _ = pair[1].(string)
	if h.version == "" {
		h.version = "0"
	}
	h.loaded = true
	h.mu.Unlock()
	return h.s.parse(pair[0])
}

// Save implements creds.Held: the fenced write, then (with replicas) a WAIT so that the new
// credential survives a failover before the token is handed out.
func (h *held) Save(c *creds.Credential) error {
	h.mu.Lock()
	loaded := h.loaded
	h.mu.Unlock()
	if !loaded {
		if _, err := h.Load(); err != nil && !errors.Is(err, creds.ErrNotFound) {
			var corrupt *creds.CorruptError
			if !errors.As(err, &corrupt) {
				return err
			}
		}
	}
	data, err := c.Encode()
	if err != nil {
		return fmt.Errorf("encode credential: %w", err)
	}
	if h.unlocked {
		return h.s.Save(c)
	}
	h.mu.Lock()
	expected := h.version
	h.mu.Unlock()
	n, err := h.fencedSave(string(data), expected)
	if err != nil {
		return err
	}
	switch {
	case n > 0:
		h.mu.Lock()
		h.version = itoa(int(n))
		h.mu.Unlock()
	case n == 0:
		h.mu.Lock()
		h.lost = true
		h.mu.Unlock()
		return fmt.Errorf("%w: the lease in %s ran out and another host may hold the lock; the stored credential was left as it is", creds.ErrFenced, h.s.Location())
	default:
		return fmt.Errorf("%w: the credential in %s changed while the lock was held (the lease ran out and another host refreshed); it was left as it is", creds.ErrFenced, h.s.Location())
	}
	if h.replicas > 0 {
		ctx, cancel := h.s.opContext()
		defer cancel()
		if acked, err := h.s.wait(ctx); err != nil || acked < 1 {
			h.s.warnf("the new credential is stored on the primary of %s but no replica confirmed it within %s; a failover now would lose it", h.s.Location(), waitTimeout)
		}
	}
	return nil
}

// fencedSave runs the fenced write: the new version, 0 (the lock is not ours) or -1 (the
// version moved). The provider has already rotated the refresh token being saved, so a write
// that fails on the network is tried again, on new connections, for as long as the lease is
// ours: the fence keeps every try safe. A try whose write landed but whose reply was lost is
// recognised by reading the credential back.
func (h *held) fencedSave(data, expected string) (int64, error) {
	k := h.s.keys
	backoff := 50 * time.Millisecond
	for {
		ctx, cancel := h.s.opContext()
		v, err := h.s.do(ctx, noRetry, func(conn *redisconn.Conn) (any, error) {
			return fencedSave.run(ctx, conn, []string{k.lock, k.version, k.cred}, h.val, expected, data, k.channel)
		})
		cancel()
		n, _ := v.(int64)
		var unavailable *creds.StoreUnavailableError
		switch {
		case err == nil && n >= 0:
			return n, nil
		case err == nil || errors.As(err, &unavailable):
			if ver, ok := h.s.storedAs(data); ok {
				return ver, nil // an earlier try's write landed
			}
			if err == nil {
				return n, nil
			}
		default:
			return 0, err
		}
		h.mu.Lock()
		end := h.confirmed.Add(-h.margin() / 2)
		h.mu.Unlock()
		if time.Now().Add(backoff).After(end) {
			return 0, fmt.Errorf("the refreshed credential could not be saved before the lease ran out; the provider has rotated the refresh token, so the one in the store no longer works and the next refresh will ask for a login: %w", err)
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// Release implements creds.Held: compare-and-delete, waking the waiters.
func (h *held) Release() {
	if h.unlocked {
		return
	}
	if h.stop != nil {
		close(h.stop)
		<-h.done
	}
	ctx, cancel := h.s.opContext()
	defer cancel()
	h.s.do(ctx, retryStale, func(c *redisconn.Conn) (any, error) {
		return release.run(ctx, c, []string{h.s.keys.lock}, h.val, h.s.keys.channel)
	})
}

// storedAs reads the credential and its version back on a new connection: the version, and
// true when the stored credential is exactly data.
func (s *Store) storedAs(data string) (int64, bool) {
	ctx, cancel := s.opContext()
	defer cancel()
	c, err := s.dial(ctx)
	if err != nil {
		return 0, false
	}
	defer c.Close()
	v, err := c.Do(ctx, "MGET", s.keys.cred, s.keys.version)
	pair, _ := v.([]any)
	if err != nil || len(pair) != 2 || pair[0] != data {
		return 0, false
	}
	ver, _ := pair[1].(string)
	n, err := strconv.ParseInt(ver, 10, 64)
	return n, err == nil && n > 0
}
