//go:build !tokctl_torture || !unix

package creds

// tortureAt is a no-op in every real build; torture_hooks.go (built only with -tags
// tokctl_torture) reports phases to the torture harness and kills the process on request.
func tortureAt(string) {}
