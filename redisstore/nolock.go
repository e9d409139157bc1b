//go:build tokctl_nolock

// This file exists only for tests: built with -tags tokctl_nolock, Lock takes no lock in Redis
// and saves are not fenced, so the fleet tests can build a lock-less binary and show that they
// fail without the lock. Release builds never set the tag.

package redisstore

// lockDisabled makes Lock return at once and Save write unconditionally.
const lockDisabled = true
