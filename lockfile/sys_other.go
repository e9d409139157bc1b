//go:build !unix

package lockfile

import (
	"os"
	"time"
)

// This file keeps the package building where flock(2) does not exist
// (Windows). There every lock is a lease: the holder heartbeats the file's
// mtime and judges go by age alone, since a pid cannot be probed here.

// oNoFollow has no portable equivalent; the lock path is opened as given.
const oNoFollow = 0

// lockExclusive always reports that the filesystem cannot flock.
func lockExclusive(*os.File) error { return errFlockUnsupported }

// tryLockShared always reports that the filesystem cannot flock.
func tryLockShared(*os.File) (bool, error) { return false, errFlockUnsupported }

// canProbePIDs is false: judges go by the lock file's age instead.
const canProbePIDs = false

// pidAlive is never consulted here (see canProbePIDs).
func pidAlive(int) bool { return true }

// changed returns the lock file's modification time.
func changed(_ *os.File, fi os.FileInfo) time.Time { return fi.ModTime() }

// touch sets the lock file's mtime to now, by path.
func touch(_ *os.File, path string) error {
	now := time.Now()
	return os.Chtimes(path, now, now)
}

// unlinkBeforeClose is false where open files cannot be removed: Release
// closes first and then removes the path.
const unlinkBeforeClose = false

// unsupportedErr is never true here: the guard uses LockFileEx, which works.
func unsupportedErr(error) bool { return false }
