// Command bench measures tokctl against a floor and checks the concurrency promise while doing
// so (design.md §4, §5).
//
//	go run ./bench [-quick] [-out bench/RESULTS.md]
//
// It builds tokctl and bench/floor (a minimal Go program that prints the access_token field of
// a credential file) with the release flags, and the peer kubelogin from the Go module proxy
// (peers.go; not with -quick), then runs six scenarios against the in-process strict
// authorization server oauthtest: the hot path (beside kubelogin), a hot burst of 100
// processes, a burst of 200 callers on an expired token, the lock handoff after the holder is
// SIGKILLed, 50 callers on a revoked refresh token, and the hot path on the keychain store. Every timed side is measured paired and interleaved with
// its baseline (ABAB…), because the machine is noisy. Results go to stdout and, as Markdown,
// to -out.
//
// The exit status is 1 when a correctness figure is wrong (token-endpoint calls, failures,
// distinct tokens, exit codes) or the benchmark could not run; timing targets are reported,
// never enforced. -quick runs few iterations, for a CI smoke test under a minute.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tokctl/tokctl/bench/internal/measure"
	"github.com/tokctl/tokctl/bench/torture/engine"
)

// counts are the iterations of each scenario.
type counts struct {
	hotWarm, hotPairs       int
	burstWarm, burstPairs   int
	refreshWarm             int // unmeasured fresh-token bursts before scenarios 3 and 5
	expiredPairs, deadPairs int
	handoffIters            int
}

var (
	fullCounts  = counts{hotWarm: 20, hotPairs: 300, burstWarm: 2, burstPairs: 20, refreshWarm: 1, expiredPairs: 13, deadPairs: 11, handoffIters: 25}
	quickCounts = counts{hotWarm: 3, hotPairs: 30, burstWarm: 0, burstPairs: 2, refreshWarm: 0, expiredPairs: 1, deadPairs: 1, handoffIters: 3}
)

// bench is one run: the binaries under test, a scratch directory and the iteration counts.
type bench struct {
	bin  *binaries
	root string
	n    counts
	// kubelogin is the peer's binary, "" when it was not built: kubeloginWhy says why.
	kubelogin, kubeloginWhy string
}

func main() {
	if os.Getenv(browserEnv) == "1" { // kubelogin's browser during seedKubelogin
		os.Exit(openURL(os.Args[1:]))
	}
	os.Exit(run())
}

func run() int {
	quick := flag.Bool("quick", false, "few iterations (CI smoke test); still fails on wrong correctness figures")
	out := flag.String("out", "", "write the Markdown report to `FILE` (default bench/RESULTS.md in the module)")
	tags := flag.String("tokctl-tags", "", "extra build `TAGS` for tokctl only (tokctl_nolock proves the checks fail)")
	only := flag.String("scenarios", "", "run only these scenarios, comma-separated `NUMBERS` (\"1\": the hot path; default all)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected argument %q\n", flag.Arg(0))
		return 2
	}
	began := time.Now()
	root, err := engine.ModuleRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	if *out == "" {
		*out = filepath.Join(root, "bench", "RESULTS.md")
	}
	scratch, err := os.MkdirTemp("", "tokctl-bench-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	defer os.RemoveAll(scratch)

	fmt.Fprintf(os.Stderr, "bench: building tokctl and floor (%s; extra tokctl tags %q)\n", releaseCommand, *tags)
	bin, err := build(root, filepath.Join(scratch, "bin"), *tags)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	b := &bench{bin: bin, root: scratch, n: fullCounts}
	if *quick {
		b.n = quickCounts
	}
	var all outcome
	want, err := chosen(*only, 6)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: -scenarios: %v\n", err)
		return 2
	}
	switch {
	case !want[1]:
	case *quick:
		b.kubeloginWhy = "not built in -quick runs"
	default:
		fmt.Fprintf(os.Stderr, "bench: building the peer %s@%s from the Go module proxy\n", kubeloginModule, kubeloginVersion)
		if b.kubelogin, err = buildKubelogin(filepath.Join(scratch, "bin")); err != nil {
			b.kubeloginWhy = err.Error()
			fmt.Fprintf(os.Stderr, "bench: %v (the hot path runs without it)\n", err)
		} else if bin.size[b.kubelogin], err = measure.Settle(b.kubelogin); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
	}
	scenarios := []struct {
		name string
		run  func() (outcome, error)
	}{
		{"1 hot path", b.hotPath},
		{"2 hot burst", b.hotBurst},
		{"3 expired burst", b.expiredBurst},
		{"4 handoff after SIGKILL", b.handoff},
		{"5 dead refresh token", b.deadToken},
		{"6 keychain hot path", b.keyringHotPath},
	}
	for i, s := range scenarios {
		if !want[i+1] {
			continue
		}
		t := time.Now()
		fmt.Fprintf(os.Stderr, "bench: scenario %s …", s.name)
		o, err := s.run()
		if err != nil {
			fmt.Fprintf(os.Stderr, "\nbench: scenario %s: %v\n", s.name, err)
			return 1
		}
		fmt.Fprintf(os.Stderr, " %s\n", time.Since(t).Round(100*time.Millisecond))
		all.add(o)
	}

	h := header{date: began, command: commandLine(), machine: describeMachine(), bin: bin, quick: *quick, tags: *tags, only: *only, took: time.Since(began)}
	var md bytes.Buffer
	writeMarkdown(&md, h, &all)
	os.Stdout.Write(md.Bytes())
	// Its own section only: bench/layers and the diagnose benchmark keep theirs in the same file.
	if err := engine.WriteSection(*out, "bench", md.String()); err != nil {
		fmt.Fprintf(os.Stderr, "bench: write report: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "bench: report written to %s\n", *out)
	if !all.correct() {
		fmt.Fprintln(os.Stderr, "bench: FAIL: a correctness figure is wrong (see the Correctness table)")
		return 1
	}
	return 0
}

// chosen parses -scenarios: nil error and every scenario 1…n when list is empty.
func chosen(list string, n int) (map[int]bool, error) {
	want := map[int]bool{}
	if list == "" {
		for i := 1; i <= n; i++ {
			want[i] = true
		}
		return want, nil
	}
	for _, f := range strings.Split(list, ",") {
		i, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || i < 1 || i > n {
			return nil, fmt.Errorf("%q is not a scenario number (1–%d)", f, n)
		}
		want[i] = true
	}
	return want, nil
}

// commandLine reconstructs how the benchmark was invoked ("go run ./bench …").
func commandLine() string {
	args := []string{"go run ./bench"}
	for _, a := range os.Args[1:] {
		if strings.ContainsAny(a, " \t'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		args = append(args, a)
	}
	return strings.Join(args, " ")
}
