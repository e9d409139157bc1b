package creds

import (
	"context"
	"errors"
)

// Replace stores c as the new credential (after a login or an import) under the lock, so that
// it cannot interleave with a refresh in flight, and forgets any recorded refresh failure.
func (s *Source) Replace(ctx context.Context, c *Credential) error {
	return s.Locked(ctx, func(h Held) error {
		if _, err := h.Load(); err != nil && !errors.Is(err, ErrNotFound) {
			var corrupt *CorruptError
			if !errors.As(err, &corrupt) { // a corrupt credential is what a login repairs
				return err
			}
		}
		if err := h.Save(c); err != nil {
			return err
		}
		s.failures().clear()
		return nil
	})
}

// Delete removes the stored credential under the lock, with its recorded refresh failure.
func (s *Source) Delete(ctx context.Context) error {
	return s.Locked(ctx, func(Held) error {
		s.failures().clear()
		return s.Store.Delete()
	})
}

// Locked runs fn holding the Source's lock (and its single-flight mutex), for changes to the
// stored credential that must not interleave with a refresh: a login, an import, a move
// between stores. fn reads and writes the credential through h (see Held). It waits at most
// LockTimeout.
func (s *Source) Locked(ctx context.Context, fn func(h Held) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lctx, cancel := context.WithTimeout(ctx, s.lockTimeout())
	defer cancel()
	held, err := s.lock(lctx, nil, nil)
	if err != nil {
		return err
	}
	defer held.Release()
	return fn(held)
}
