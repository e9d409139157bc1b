//go:build !tokctl_faults

package commands

// faultPoint marks a moment a crash test wants to kill tokctl at. It does nothing in the
// shipped binary; the tokctl_faults build (faultpoint_faults.go) can stop there.
func faultPoint(string) {}
