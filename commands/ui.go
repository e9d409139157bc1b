package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/tokctl/tokctl/eventlog"
)

// ui owns everything tokctl writes: data to stdout, messages to stderr.
type ui struct {
	stdin           io.Reader
	stdout, stderr  io.Writer
	verbose, quiet  bool
	commandNotFound string
	noEventLog      bool          // --no-event-log
	events          *eventlog.Log // opened on the first event (eventlog.go)
}

// fail reports err on stderr with its hint and returns the exit code.
func (u *ui) fail(err error) int {
	code, hint := classify(err)
	if code == ExitInterrupted {
		fmt.Fprintln(u.stderr, "tokctl: interrupted")
		return code
	}
	fmt.Fprintf(u.stderr, "tokctl: error: %s\n", oneLine(err.Error()))
	if hint != "" && !u.quiet {
		fmt.Fprintf(u.stderr, "tokctl: hint: %s\n", hint)
	}
	return code
}

func (u *ui) warnf(format string, args ...any) {
	if u.quiet {
		return
	}
	fmt.Fprintf(u.stderr, "tokctl: warning: "+format+"\n", args...)
}

func (u *ui) hintf(format string, args ...any) {
	if u.quiet {
		return
	}
	fmt.Fprintf(u.stderr, "tokctl: hint: "+format+"\n", args...)
}

func (u *ui) debugf(format string, args ...any) {
	if u.verbose {
		fmt.Fprintf(u.stderr, "tokctl: debug: "+format+"\n", args...)
	}
}

// infof writes progress meant for a person (stderr).
func (u *ui) infof(format string, args ...any) {
	if u.quiet {
		return
	}
	fmt.Fprintf(u.stderr, format+"\n", args...)
}

// oneLine keeps a provider's multi-line message from spilling over the terminal.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
