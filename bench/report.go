package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// row is one line of the results table.
type row struct {
	scenario, measured, baseline, ratio, target, met string
}

// check is one correctness figure: a wrong one makes the benchmark exit non-zero.
type check struct {
	what, got, want string
	ok              bool
}

// outcome is what one scenario contributes to the report.
type outcome struct {
	rows     []row
	checks   []check
	notes    []string
	sections []string // Markdown sections of their own, after the main table
}

func (o *outcome) add(other outcome) {
	o.rows = append(o.rows, other.rows...)
	o.checks = append(o.checks, other.checks...)
	o.notes = append(o.notes, other.notes...)
	o.sections = append(o.sections, other.sections...)
}

// checkInt records a correctness figure that must equal want.
func (o *outcome) checkInt(what string, got, want int) {
	o.checks = append(o.checks, check{what, strconv.Itoa(got), strconv.Itoa(want), got == want})
}

// checkAll records a figure that must hold in every iteration: got lists the distinct values
// seen (e.g. "1" or "1, 2"), want the one allowed.
func (o *outcome) checkAll(what string, got []int, want int) {
	seen := map[int]bool{}
	var vals []string
	ok := true
	for _, g := range got {
		if g != want {
			ok = false
		}
		if !seen[g] {
			seen[g] = true
			vals = append(vals, strconv.Itoa(g))
		}
	}
	o.checks = append(o.checks, check{what + " (every iteration)", strings.Join(vals, ", "), strconv.Itoa(want), ok && len(got) > 0})
}

func (o *outcome) notef(format string, args ...any) {
	o.notes = append(o.notes, fmt.Sprintf(format, args...))
}

func met(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// correct reports whether every correctness figure holds.
func (o *outcome) correct() bool {
	for _, c := range o.checks {
		if !c.ok {
			return false
		}
	}
	return true
}

// header describes the run.
type header struct {
	date    time.Time
	command string
	machine machine
	bin     *binaries
	quick   bool
	tags    string // extra tokctl build tags, normally none
	only    string // -scenarios, when not all of them ran
	took    time.Duration
}

// writeMarkdown renders the report.
func writeMarkdown(w io.Writer, h header, o *outcome) {
	fmt.Fprintf(w, "# tokctl benchmark results\n\n")
	if h.quick {
		fmt.Fprintf(w, "**Quick run (-quick): few iterations, timings are indicative only.**\n\n")
	}
	if h.tags != "" {
		fmt.Fprintf(w, "**tokctl built with extra tags %q: not a release build.**\n\n", h.tags)
	}
	if h.only != "" {
		fmt.Fprintf(w, "**Only scenarios %s ran (-scenarios).**\n\n", h.only)
	}
	fmt.Fprintf(w, "- Date: %s (run took %s)\n", h.date.UTC().Format(time.RFC3339), h.took.Round(time.Second))
	fmt.Fprintf(w, "- Command: `%s`\n", h.command)
	fmt.Fprintf(w, "- Machine: %s\n", h.machine)
	fmt.Fprintf(w, "- Binaries: `%s` — tokctl %.1f MiB, floor %.1f MiB; tokctl also as `go install` builds it (`%s`): %s\n\n",
		releaseCommand, float64(h.bin.tokctlSize)/(1<<20), float64(h.bin.floorSize)/(1<<20), plainCommand, h.bin.mib(h.bin.plain))

	fmt.Fprintf(w, "| scenario | measured median (p90) | baseline median (p90) | ratio | target | met? |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|\n")
	for _, r := range o.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.scenario, r.measured, r.baseline, r.ratio, r.target, r.met)
	}
	fmt.Fprintf(w, "\nTiming targets are reported, never enforced. Measurements are paired and interleaved "+
		"(see bench/README.md): a ratio is computed within each pair, so machine noise that hits both "+
		"sides of a pair cancels out.\n\n")
	for _, s := range o.sections {
		fmt.Fprintf(w, "%s\n", s)
	}

	fmt.Fprintf(w, "## Correctness (any wrong figure makes the benchmark exit 1)\n\n")
	fmt.Fprintf(w, "| check | got | want | ok? |\n|---|---|---|---|\n")
	for _, c := range o.checks {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", c.what, c.got, c.want, met(c.ok))
	}
	if len(o.notes) > 0 {
		fmt.Fprintf(w, "\n## Notes\n\n")
		for _, n := range o.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}
