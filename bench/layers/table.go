package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// cell collects the bursts of one contender at one N.
type cell struct{ runs []outcome }

func (c *cell) add(o outcome) { c.runs = append(c.runs, o) }

// promiseKept: every burst made one call, no caller failed, the family survived, the file is
// readable.
func (c *cell) promiseKept() bool {
	if c == nil || len(c.runs) == 0 {
		return false
	}
	for _, o := range c.runs {
		if o.calls != 1 || o.failed != 0 || !o.survived || o.corrupt {
			return false
		}
	}
	return true
}

type header struct {
	command, date, machine string
	took, latency          time.Duration
	reps                   int
}

// writeTable renders the layer-by-layer table as Markdown.
func writeTable(w io.Writer, cs []contender, sizes []int, cells map[string]*cell, h header) {
	fmt.Fprintf(w, "## Why each layer matters, measured\n\n")
	fmt.Fprintf(w, "- Command: `%s` (took %s)\n- Date: %s\n- Machine: %s\n", h.command, h.took.Round(time.Second), h.date, h.machine)
	fmt.Fprintf(w, "- Provider: oauthtest, strict rotation, family revoked on reuse (no grace unless the row says so), %s latency; every burst starts from a new login whose access token expired a minute ago; %d bursts per cell, contenders interleaved\n\n", h.latency, h.reps)
	fmt.Fprintf(w, "| contender | layers | N | token-endpoint calls per burst | failed callers | family survived | corrupt files |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|\n")
	for _, c := range cs {
		for _, n := range sizes {
			cl := cells[fmt.Sprintf("%s/%d", c.key, n)]
			if cl == nil {
				continue
			}
			var calls []string
			failed, callers, survived, corrupt, killed := 0, 0, 0, 0, 0
			for _, o := range cl.runs {
				calls = append(calls, strconv.Itoa(o.calls))
				failed += o.failed
				killed += o.killed
				callers += n - o.killed
				survived += btoi(o.survived)
				corrupt += btoi(o.corrupt)
			}
			sort.Slice(calls, func(i, j int) bool { a, _ := strconv.Atoi(calls[i]); b, _ := strconv.Atoi(calls[j]); return a < b })
			fail := fmt.Sprintf("%d of %d", failed, callers)
			if killed > 0 {
				fail += fmt.Sprintf(" (+%d killed)", killed)
			}
			fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %d of %d |\n", c.name, c.layers, n, strings.Join(calls, ", "), fail,
				yesNo(survived, len(cl.runs)), corrupt, len(cl.runs))
		}
	}
	fmt.Fprintf(w, "\nA failed caller exited non-zero or printed an access token the provider no longer honours. "+
		"\"Family survived\": the refresh token in the file is still current at the provider (never, for a file that cannot be read). "+
		"Killed callers SIGKILL themselves at the named moment (the first caller to get there), which is what kill -9 from outside "+
		"does, minus the guesswork of timing it. The variants live only in bench/layers/variant; the tokctl rows run the release "+
		"build, except \"kill -9 mid-save\", which needs the tokctl_torture hooks to die at that exact moment.\n")
}

func yesNo(n, of int) string {
	switch n {
	case of:
		return fmt.Sprintf("yes (%d of %d)", n, of)
	case 0:
		return fmt.Sprintf("no (0 of %d)", of)
	}
	return fmt.Sprintf("%d of %d", n, of)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
