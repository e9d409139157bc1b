package creds

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// maxCredentialSize bounds what Load reads; no credential file is anywhere near it.
const maxCredentialSize = 1 << 20

// FileStore keeps a credential as JSON in one file, mode 0600 in a 0700 directory.
// Save writes a temporary file in the same directory, fsyncs, closes, renames it over the old
// file and fsyncs the directory, so a crash leaves the old file or the new one.
//
// Path must name the file itself: Load and Save refuse a symbolic link (*SymlinkError) rather
// than read a credential from, or write tokens to, wherever the link points, and rather than
// silently replace the link with a regular file on the first save. A caller that means to
// follow a link (tokctl token --creds-file) resolves it first and gives the target's path,
// so that the lock, the temporary file and the rename all happen beside the real file.
type FileStore struct {
	Path string
	// Now stamps expires_in-shaped files on Save; nil means time.Now.
	Now func() time.Time
	// failAfter, when set by tests, makes Save fail after writing this many bytes.
	failAfter int
}

// NewFileStore returns the store for the credential at path.
func NewFileStore(path string) *FileStore { return &FileStore{Path: path} }

// Location implements Store.
func (s *FileStore) Location() string { return s.Path }

// Load implements Store. A zero-byte, truncated or non-JSON file is a *CorruptError, a file
// readable by group or others a *PermissionError; neither is ever read as "no credential".
func (s *FileStore) Load() (*Credential, error) { return s.load(0) }

// maxReplacedRetries bounds how often load looks again at a file replaced under it.
const maxReplacedRetries = 100

func (s *FileStore) load(retries int) (*Credential, error) {
	lst, err := os.Lstat(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNotFound, s.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("read credential: %w", err)
	}
	if lst.Mode()&fs.ModeSymlink != 0 {
		return nil, symlinkError(s.Path)
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, fmt.Errorf("read credential: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read credential: %w", err)
	}
	if !os.SameFile(lst, st) { // replaced between the two looks (a sibling's save, or a link)
		if retries < maxReplacedRetries {
			return s.load(retries + 1)
		}
		return nil, fmt.Errorf("read credential %s: it keeps being replaced while read", s.Path)
	}
	if !st.Mode().IsRegular() {
		return nil, &CorruptError{s.Path, fmt.Errorf("not a regular file (%s)", st.Mode().Type())}
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, &PermissionError{s.Path, uint32(perm)}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCredentialSize+1))
	if err != nil {
		return nil, fmt.Errorf("read credential %s: %w", s.Path, err)
	}
	switch {
	case len(data) == 0:
		return nil, &CorruptError{s.Path, errors.New("the file is empty")}
	case len(data) > maxCredentialSize:
		return nil, &CorruptError{s.Path, fmt.Errorf("larger than %d bytes", maxCredentialSize)}
	}
	c, err := parseCredential(data, st.ModTime())
	if err != nil {
		return nil, &CorruptError{s.Path, err}
	}
	return c, nil
}

// Stamp implements Stamper: it changes whenever the file is replaced or rewritten.
func (s *FileStore) Stamp() string {
	st, err := os.Stat(s.Path)
	if err != nil {
		return ""
	}
	return strconv.FormatUint(inode(st), 10) + "/" + strconv.FormatInt(st.Size(), 10) + "/" + strconv.FormatInt(st.ModTime().UnixNano(), 10)
}

// Save implements Store with the atomic sequence: temp file, write, fsync, close, rename,
// fsync the directory. The directory is created 0700 when missing.
func (s *FileStore) Save(c *Credential) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	data, err := c.encode(now())
	if err != nil {
		return fmt.Errorf("encode credential: %w", err)
	}
	if st, err := os.Lstat(s.Path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return symlinkError(s.Path)
	}
	dir := filepath.Dir(s.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save credential: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(s.Path)+".tmp*")
	if err != nil {
		return fmt.Errorf("save credential: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if err := s.write(tmp, append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save credential %s: %w", s.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save credential %s: %w", s.Path, err)
	}
	tortureAt("save-temp-synced")
	if err := os.Rename(tmp.Name(), s.Path); err != nil {
		return fmt.Errorf("save credential: %w", err)
	}
	tortureAt("save-renamed")
	s.sweepTemps()
	return syncDir(dir)
}

// sweepTemps removes the temporary files of saves that were killed before their rename: each
// holds an old copy of the credential. Only files a minute old go, so a save that is running
// right now (possible only for a caller that skipped the lock) keeps its own.
func (s *FileStore) sweepTemps() {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(s.Path), "."+filepath.Base(s.Path)+".tmp*"))
	for _, m := range matches {
		if st, err := os.Lstat(m); err == nil && st.Mode().IsRegular() && time.Since(st.ModTime()) > time.Minute {
			os.Remove(m)
		}
	}
}

func (s *FileStore) write(f *os.File, data []byte) error {
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if s.failAfter > 0 && s.failAfter < len(data) {
		f.Write(data[:s.failAfter])
		return errors.New("injected write failure")
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}

// Delete implements Store.
func (s *FileStore) Delete() error {
	if err := os.Remove(s.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete credential: %w", err)
	}
	return syncDir(filepath.Dir(s.Path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// SymlinkError reports a credential path that is a symbolic link; see FileStore.
type SymlinkError struct {
	Path   string
	Target string // what the link points to, as read; empty if unreadable
}

func (e *SymlinkError) Error() string {
	return fmt.Sprintf("credential %s is a symbolic link to %q; tokctl does not follow links to credentials", e.Path, e.Target)
}

func symlinkError(path string) error {
	target, _ := os.Readlink(path)
	return &SymlinkError{Path: path, Target: target}
}
