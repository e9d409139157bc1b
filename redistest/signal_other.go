//go:build !unix

package redistest

import "os"

// Freeze and Thaw need job-control signals; elsewhere they fail.
var sigStop, sigCont os.Signal = os.Interrupt, os.Interrupt
