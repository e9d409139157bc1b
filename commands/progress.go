package commands

import (
	"fmt"
	"os"
	"time"
)

// progress shows "waiting … 12s" on stderr, rewritten in place every second, while a person
// is expected to act; only when stderr is a terminal (never in logs, pipes or cron mail).
// The returned func stops it and clears the line.
func (u *ui) progress(what string) (stop func()) {
	f, ok := u.stderr.(*os.File)
	if !ok {
		return func() {}
	}
	// A character device: a terminal or console on every OS (or /dev/null, where the
	// progress line harmlessly disappears); never a file, pipe or socket.
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(f, "\r\033[K")
				return
			case <-tick.C:
				fmt.Fprintf(f, "\r\033[K%s … %s", what, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() { close(done); <-finished }
}
