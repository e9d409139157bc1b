package engine

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Summary adds bursts up for the report.
type Summary struct {
	Bursts, Killed, Callers, Kills int
	CallsClean                     map[int]int // token-endpoint calls per burst without kills -> bursts
	CallsKilled                    int         // token-endpoint calls in bursts with kills
	PresentedTwiceClean            int         // refresh tokens presented twice in bursts without kills
	PresentedTwiceKilled           int         // the same in bursts with kills (a dropped request re-sent)
	ReuseUnexplained, ReuseLoss    int         // rotated refresh tokens presented again
	Failed, LoginRequired          int
	Corrupt, Hung                  int
	Accepted                       map[string]int // loss window -> bursts
	Unexplained                    int            // losses with no kill in the window
	StaleEnd, StaleStart           int
	StaleStartBroken               int // bursts that began on a stale lock and broke the promise
	TempFiles                      int
	KillsAt                        map[string]map[string]int // moment -> last phase -> kills
	Broken                         []string                  // first few broken bursts, described
	BrokenBursts                   int
	Wall                           []time.Duration
}

// NewSummary returns an empty Summary.
func NewSummary() *Summary {
	return &Summary{CallsClean: map[int]int{}, Accepted: map[string]int{}, KillsAt: map[string]map[string]int{}}
}

// Add counts one burst.
func (s *Summary) Add(b Burst) {
	s.Bursts++
	s.Callers += b.N
	s.Wall = append(s.Wall, b.Wall)
	if b.Moment == "" {
		s.CallsClean[b.Counts.Calls]++
		s.PresentedTwiceClean += b.Counts.PresentedTwice
	} else {
		s.Killed++
		s.CallsKilled += b.Counts.Calls
		s.PresentedTwiceKilled += b.Counts.PresentedTwice
		if s.KillsAt[b.Moment] == nil {
			s.KillsAt[b.Moment] = map[string]int{}
		}
		for ph, n := range b.KilledAt {
			s.KillsAt[b.Moment][ph] += n
		}
	}
	s.Kills += b.Killed
	if b.Accepted != "" {
		s.ReuseLoss += b.Counts.Reuse
		s.Accepted[b.Accepted]++
	} else {
		s.ReuseUnexplained += b.Counts.Reuse
	}
	s.Failed += b.Failed
	s.LoginRequired += b.LoginRequired
	s.Corrupt += btoi(b.Corrupt != "")
	s.Hung += btoi(b.Hung)
	s.Unexplained += btoi(b.Lost && b.Accepted == "")
	s.StaleEnd += btoi(b.StaleLockAtEnd)
	s.StaleStart += btoi(b.StaleLockAtStart)
	s.StaleStartBroken += btoi(b.StaleLockAtStart && len(b.Broken) > 0)
	s.TempFiles += b.TempFilesLeft
	if len(b.Broken) > 0 {
		s.BrokenBursts++
		if len(s.Broken) < 10 {
			s.Broken = append(s.Broken, fmt.Sprintf("burst %d (%d callers, kill %q): %s", b.Seq, b.N, b.Moment, strings.Join(b.Broken, "; ")))
		}
	}
}

// OK reports whether every burst kept the promise.
func (s *Summary) OK() bool { return s.BrokenBursts == 0 && s.Bursts > 0 }

// Header describes a run for the report.
type Header struct {
	Title, Command, Date, Machine, Binary, Provider string
	// Store describes the credential store when it is not a file (e.g. "Redis …"); "" for the
	// file store.
	Store   string
	Took    time.Duration
	Partial string // e.g. "412 of 2000 bursts so far"; "" when done
}

// Markdown writes the summary table.
func (s *Summary) Markdown(w io.Writer, h Header) {
	fmt.Fprintf(w, "## %s\n\n", h.Title)
	if h.Partial != "" {
		fmt.Fprintf(w, "**In progress: %s.**\n\n", h.Partial)
	}
	fmt.Fprintf(w, "- Command: `%s`\n- Date: %s (took %s)\n- Machine: %s\n- tokctl: %s\n- Provider: %s\n",
		h.Command, h.Date, h.Took.Round(time.Second), h.Machine, h.Binary, h.Provider)
	if h.Store != "" {
		fmt.Fprintf(w, "- Store: %s\n", h.Store)
	}
	fmt.Fprintln(w)
	credential, saveEnd := "credential file", "the rename"
	if h.Store != "" {
		credential, saveEnd = "credential", "the save"
	}
	killedCallers := fmt.Sprintf("%d callers killed", s.Kills)
	fmt.Fprintf(w, "| figure | value | must be | ok? |\n|---|---|---|---|\n")
	row := func(what, got, want string, ok bool) {
		mark := "yes"
		if !ok {
			mark = "**NO**"
		}
		if want == "" {
			want, mark = "—", "—"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", what, got, want, mark)
	}
	row("bursts (with kills)", fmt.Sprintf("%d (%d)", s.Bursts, s.Killed), "", true)
	row("callers started", fmt.Sprintf("%d; %s", s.Callers, killedCallers), "", true)
	row("burst wall median (max)", fmt.Sprintf("%s (%s)", median(s.Wall), slicesMax(s.Wall)), "", true)
	row("token-endpoint calls per burst without kills", countsOf(s.CallsClean), "1", len(s.CallsClean) == 1 && s.CallsClean[1] > 0)
	row("token-endpoint calls in bursts with kills (total)", strconv.Itoa(s.CallsKilled), "", true)
	row("refresh tokens presented twice, bursts without kills", strconv.Itoa(s.PresentedTwiceClean), "0", s.PresentedTwiceClean == 0)
	row("refresh tokens presented twice, bursts with kills (request dropped unprocessed with its killed sender, then sent by the next holder)", strconv.Itoa(s.PresentedTwiceKilled), "", true)
	row("rotated refresh tokens presented again (provider's reuse detection), not caused by an accepted loss", strconv.Itoa(s.ReuseUnexplained), "0", s.ReuseUnexplained == 0)
	row("callers not killed that failed, or printed a token other than the stored one or one the provider no longer honours", strconv.Itoa(s.Failed), "0", s.Failed == 0)
	row(credential+" unreadable after a burst", strconv.Itoa(s.Corrupt), "0", s.Corrupt == 0)
	row("bursts hung", strconv.Itoa(s.Hung), "0", s.Hung == 0)
	row("refresh token lost, no kill between rotation and save", strconv.Itoa(s.Unexplained), "0", s.Unexplained == 0)
	acc := 0
	for _, n := range s.Accepted {
		acc += n
	}
	row("refresh token lost by a kill between the provider's rotation and "+saveEnd+" (accepted)", fmt.Sprintf("%d burst(s)%s", acc, windowsOf(s.Accepted)), "", true)
	row("callers answered \"login required\" (exit 3) after an accepted loss", strconv.Itoa(s.LoginRequired), "", true)
	if h.Store != "" {
		row("lock still held by a killed holder at burst end (its lease not yet run out)", strconv.Itoa(s.StaleEnd), "", true)
	} else {
		row("stale lock left by a killed holder at burst end", strconv.Itoa(s.StaleEnd), "", true)
	}
	row("bursts that began on a stale lock / of those broken", fmt.Sprintf("%d / %d", s.StaleStart, s.StaleStartBroken), "x / 0", s.StaleStartBroken == 0)
	if h.Store == "" {
		row("temporary files left by killed saves (not swept)", strconv.Itoa(s.TempFiles), "", true)
	}
	row("bursts that broke the promise", strconv.Itoa(s.BrokenBursts), "0", s.BrokenBursts == 0)

	if len(s.KillsAt) > 0 {
		fmt.Fprintf(w, "\nKills by planned moment → last phase the victim reached (\"waiting\": it never held the lock):\n\n")
		fmt.Fprintf(w, "| moment | kills | last phase reached |\n|---|---|---|\n")
		for _, m := range allMoments {
			at := s.KillsAt[m]
			if at == nil {
				continue
			}
			total := 0
			for _, n := range at {
				total += n
			}
			fmt.Fprintf(w, "| %s | %d | %s |\n", m, total, countsOfS(at))
		}
	}
	if len(s.Broken) > 0 {
		fmt.Fprintf(w, "\nBroken bursts (first %d):\n\n", len(s.Broken))
		for _, b := range s.Broken {
			fmt.Fprintf(w, "- %s\n", b)
		}
	}
}

func countsOf(m map[int]int) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d in %d bursts", k, m[k]))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

func countsOfS(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func windowsOf(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	return ": " + countsOfS(m)
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	c := slices.Clone(d)
	slices.Sort(c)
	return c[len(c)/2].Round(time.Millisecond)
}

func slicesMax(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return slices.Max(d).Round(time.Millisecond)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
