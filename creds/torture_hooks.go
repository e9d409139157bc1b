//go:build tokctl_torture && unix

// This file exists only for the torture harness (bench/torture, e2e TestTorture): built with
// -tags tokctl_torture, the refresh transaction reports the moments it reaches and can be
// killed exactly there. Release builds never set the tag: torture_hooks_off.go then makes every
// tortureAt call an empty, inlined function, and the shipped binary carries none of this.
//
// Environment (read once):
//
//	TOKCTL_TORTURE_TRACE_FD=3       write "PID PHASE\n" to fd 3 at every phase (one write each,
//	                                shorter than PIPE_BUF, so lines of many processes never mix)
//	TOKCTL_TORTURE_KILL=PHASE       SIGKILL this process when it reaches PHASE; the special
//	                                phase "during-post" arms a timer at "before-post" instead
//	TOKCTL_TORTURE_DELAY=DURATION   the during-post timer (e.g. 37ms)
//	TOKCTL_TORTURE_SLOTS=P1:P2      die only if one of these marker files can be created
//	                                exclusively: the first len(slots) processes that reach
//	                                PHASE die, later ones carry on
//
// Phases, in order: before-post (lock held, the refresh request is about to be sent),
// after-response (the provider answered with new tokens, nothing saved yet), save-temp-synced
// (the temporary file is written and fsynced, not yet renamed) and save-renamed (renamed over the
// credential, directory not yet fsynced), both only on the file store, and saved (the store
// holds the new credential, the lock is not released yet: on a fleet store a holder killed here
// keeps the others waiting until its lease runs out).

package creds

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var torture struct {
	once  sync.Once
	trace *os.File
	kill  string
	delay time.Duration
	slots []string
}

// tortureAt marks that the refresh transaction reached phase (see the file comment).
func tortureAt(phase string) {
	torture.once.Do(func() {
		if fd, err := strconv.Atoi(os.Getenv("TOKCTL_TORTURE_TRACE_FD")); err == nil && fd > 2 {
			torture.trace = os.NewFile(uintptr(fd), "torture-trace")
		}
		torture.kill = os.Getenv("TOKCTL_TORTURE_KILL")
		torture.delay, _ = time.ParseDuration(os.Getenv("TOKCTL_TORTURE_DELAY"))
		if s := os.Getenv("TOKCTL_TORTURE_SLOTS"); s != "" {
			torture.slots = strings.Split(s, ":")
		}
	})
	if torture.trace != nil {
		torture.trace.WriteString(strconv.Itoa(os.Getpid()) + " " + phase + "\n")
	}
	switch {
	case torture.kill == "during-post" && phase == "before-post" && claimSlot():
		time.AfterFunc(torture.delay, die)
	case torture.kill == phase && claimSlot():
		die()
	}
}

// claimSlot reports whether this process may die: no slots configured, or one marker file
// created exclusively.
func claimSlot() bool {
	if len(torture.slots) == 0 {
		return true
	}
	for _, p := range torture.slots {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			return true
		}
	}
	return false
}

// die ends the process as abruptly as kill -9 from outside would.
func die() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}
