//go:build !tokctl_nolock

package redisstore

// lockDisabled is false in every real build: Lock really locks and saves are fenced.
// nolock.go, built only with -tags tokctl_nolock, turns both off so that the fleet tests can
// prove they fail without them. Release builds never set that tag.
const lockDisabled = false
