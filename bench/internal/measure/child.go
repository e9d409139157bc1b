package measure

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Result is what one child process did.
type Result struct {
	Code           int // -1: killed by a signal
	Stdout, Stderr string
	Took           time.Duration // Start to the end of Wait (single runs only)
	CPU            time.Duration // user + system CPU time (single runs only)
	Minflt         int64         // minor page faults (single runs only)
}

// RecordUsage sets r's CPU time and minor page faults from ps; a nil ps leaves them zero.
func (r *Result) RecordUsage(ps *os.ProcessState) {
	if ps == nil {
		return
	}
	r.CPU = ps.UserTime() + ps.SystemTime()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		r.Minflt = ru.Minflt
	}
}

// ExitCode turns Wait's error into an exit code (-1 for a process killed by a signal); other
// errors (could not wait at all) are returned as they are.
func ExitCode(err error) (int, error) {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		return ee.ExitCode(), nil
	}
	return -1, err
}
