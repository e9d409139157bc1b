package creds

import (
	"errors"
	"fmt"
)

// Store keeps one credential. Implementations must make Save atomic: a reader sees the old
// credential or the new one, never a mix, and a failed Save leaves the old one in place.
// Stores do no locking of their own; Source serialises writers with the lock file.
type Store interface {
	// Load returns the stored credential, or an error wrapping ErrNotFound when there is none.
	Load() (*Credential, error)
	// Save replaces the stored credential.
	Save(c *Credential) error
	// Delete removes the credential; deleting a missing one is not an error.
	Delete() error
	// Location names the credential for messages, e.g. a path or "keyring tokctl/work".
	Location() string
}

// Stamper is implemented by stores that can tell cheaply whether the credential may have
// changed (a file's size, mtime and inode). Source uses it to watch for a sibling's refresh
// while it waits for the lock without re-reading the credential on every poll.
type Stamper interface {
	Stamp() string
}

// ErrNotFound means the store holds no credential.
var ErrNotFound = errors.New("no credential stored")

// CorruptError reports a credential that exists but cannot be read as one. The file is left
// exactly as it was found.
type CorruptError struct {
	Location string
	Err      error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("credential %s is corrupt: %v", e.Location, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// PermissionError reports a credential file that group or others may read.
type PermissionError struct {
	Path string
	Mode uint32
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("credential %s has mode %04o: readable by group or others", e.Path, e.Mode)
}
