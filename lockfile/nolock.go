//go:build tokctl_nolock

// This file exists only for tests: built with -tags tokctl_nolock, Acquire
// returns a no-op Lock at once, so the repository's concurrency tests can
// build a lock-less binary and show that they fail without the lock. This
// package's own exclusivity tests fail under the tag too, by design.
// Release builds never set the tag.

package lockfile

// lockDisabled makes Acquire return a no-op Lock immediately.
const lockDisabled = true
