//go:build !tokctl_nolock

package lockfile

// lockDisabled is false in every real build: Acquire really locks.
// nolock.go, built only with -tags tokctl_nolock, turns the lock off so that
// concurrency tests can prove they fail without it. Release builds never
// set that tag.
const lockDisabled = false
