//go:build tokctl_faults

package commands

import (
	"fmt"
	"os"
	"time"
)

// faultPoint, in the tokctl_faults test build, stops at the point named by TOKCTL_FAULT_PAUSE:
// it says "fault point NAME" on stderr and sleeps, so that a test can SIGKILL the process at
// exactly that moment.
func faultPoint(name string) {
	if os.Getenv("TOKCTL_FAULT_PAUSE") == name {
		fmt.Fprintf(os.Stderr, "fault point %s\n", name)
		time.Sleep(time.Minute)
	}
}
