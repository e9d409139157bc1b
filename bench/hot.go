package main

import (
	"debug/elf"
	"fmt"
	"strings"
	"time"

	"github.com/tokctl/tokctl/bench/internal/measure"
	"github.com/tokctl/tokctl/oauthtest"
)

// contender is one program of the hot-path rotation and what each of its runs measured.
type contender struct {
	name, what, bin string
	args            []string
	took, cpu       measure.Sample
	minflt          []float64
	last            measure.Result // this round's run
}

// hotPath is scenario 1: "tokctl token" on a valid token, the same call of tokctl built as "go
// install" builds it, and the floors (floor, clifloor, linkedfloor), each run once per round in
// a rotating order so that none always runs first, right after another warmed the page cache or
// the CPU's frequency. A ratio is taken within each round (a "pair": the two runs were at most a
// few milliseconds apart), then the median of those ratios is reported.
func (b *bench) hotPath() (outcome, error) {
	var o outcome
	srv := oauthtest.NewServer(oauthtest.Options{})
	defer srv.Close()
	f, err := newFixture(b.root, "hot", b.bin, srv, "")
	if err != nil {
		return o, err
	}
	c, err := f.store(time.Hour)
	if err != nil {
		return o, err
	}
	tokArgs, floorArgs := f.tokctlArgs(), []string{f.credPath()}
	tok := &contender{name: "`tokctl token`, release build", what: "`" + releaseCommand + "`", bin: b.bin.tokctl, args: tokArgs}
	plain := &contender{name: "`tokctl token`, `go install` build", what: "`" + plainCommand + "` (default CGO setting" + linkage(b.bin.plain) + "; no -trimpath, -ldflags or -tags)", bin: b.bin.plain, args: tokArgs}
	floor := &contender{name: "floor", what: "bench/floor: read the file, decode the JSON, print the token", bin: b.bin.floor, args: floorArgs}
	cli := &contender{name: "clifloor", what: "floor + net/http and urfave/cli linked in, never run (bench/clifloor)", bin: b.bin.cli, args: floorArgs}
	linked := &contender{name: "linkedfloor", what: "floor + all of tokctl linked in, never run (bench/linkedfloor)", bin: b.bin.linked, args: floorArgs}
	all := []*contender{floor, cli, linked, tok, plain}
	var outs []measure.Result
	for i := range b.n.hotWarm + b.n.hotPairs {
		for k := range all {
			r := all[(i+k)%len(all)]
			res, err := runOne(r.bin, r.args...)
			if err != nil {
				return o, fmt.Errorf("hot path: %v", err)
			}
			r.last = res
			outs = append(outs, res)
		}
		if i < b.n.hotWarm {
			continue
		}
		for _, r := range all {
			r.took = append(r.took, r.last.Took)
			r.cpu = append(r.cpu, r.last.CPU)
			r.minflt = append(r.minflt, float64(r.last.Minflt))
		}
	}
	t := measure.TallyTokens(outs, c.AccessToken)
	o.checkInt("hot path: failed runs (tokctl and floor)", t.Failed, 0)
	o.checkInt("hot path: runs printing another token than the stored one", t.Wrong, 0)
	o.checkInt("hot path: token-endpoint calls", srv.Stats().TokenRequests, 0)

	vsFloor, vsCli := ratios(tok, floor), ratios(tok, cli)
	o.rows = append(o.rows, row{
		scenario: fmt.Sprintf("1. hot path: `tokctl token` vs floor, per call (%s)", measure.Plural(len(tok.took), "pair")),
		measured: tok.took.MedP90(),
		baseline: floor.took.MedP90(),
		ratio:    fmt.Sprintf("%s (median of per-pair ratios; p90 %s; ratio of medians %s)", measure.Times(measure.MedianF(vsFloor)), measure.Times(measure.PctF(vsFloor, 90)), measure.Times(ratioOfMedians(tok, floor))),
		target:   "≤ 1.30×",
		met:      met(measure.MedianF(vsFloor) <= 1.3),
	}, row{
		scenario: fmt.Sprintf("1b. hot path: `tokctl token` vs clifloor (floor + net/http + urfave/cli), per call (%s)", measure.Plural(len(tok.took), "pair")),
		measured: tok.took.MedP90(),
		baseline: cli.took.MedP90(),
		ratio:    fmt.Sprintf("%s (median of per-pair ratios; p90 %s; ratio of medians %s)", measure.Times(measure.MedianF(vsCli)), measure.Times(measure.PctF(vsCli, 90)), measure.Times(ratioOfMedians(tok, cli))),
		target:   "≤ 1.10× (issue 11)",
		met:      met(measure.MedianF(vsCli) <= 1.1),
	})
	o.notef("hot path, where the time goes: the floor linked with all of tokctl (bench/linkedfloor: same work, tokctl's dependency set) takes %s vs floor %s (%s per pair), before tokctl does anything; tokctl token vs that linked floor: %s per pair — the part tokctl's own code adds.",
		measure.Ms(linked.took.Median()), measure.Ms(floor.took.Median()), measure.Times(measure.MedianF(ratios(linked, floor))), measure.Times(measure.MedianF(ratios(tok, linked))))
	o.notef("hot path, the least any tokctl costs: the floor linked with net/http and urfave/cli only (bench/clifloor, both referenced, never run) takes %s vs floor %s (%s per pair) — the start-up price of the two libraries the design prescribes, before any of tokctl's own dependencies or code.",
		measure.Ms(cli.took.Median()), measure.Ms(floor.took.Median()), measure.Times(measure.MedianF(ratios(cli, floor))))
	o.notef("hot path: %s discarded; each figure is Start→Wait of one process, stdout checked against the stored token.", measure.Plural(b.n.hotWarm, "warm-up round"))
	o.notef("hot path, where the time goes: CPU time (user+sys) per call tokctl %s vs floor %s (%s); minor page faults per call %.0f vs %.0f.",
		measure.Ms(tok.cpu.Median()), measure.Ms(floor.cpu.Median()), measure.Times(measure.MedianF(cpuRatios(tok, floor))), measure.MedianF(tok.minflt), measure.MedianF(floor.minflt))

	var md strings.Builder
	fmt.Fprintf(&md, "## Hot path, side by side\n\n")
	fmt.Fprintf(&md, "One valid token on disk; every program below ran once per round, %s, in a rotating order; a ratio is taken within each round, then the median of those is shown (p90 in brackets).\n\n", measure.Plural(len(tok.took), "round"))
	fmt.Fprintf(&md, "| program | what it is | size | wall median (p90) | vs floor | vs clifloor | CPU (user+sys) | minor faults |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range []*contender{floor, cli, linked, tok, plain} {
		vf, vc := ratios(r, floor), ratios(r, cli)
		fmt.Fprintf(&md, "| %s | %s | %s | %s | %s (%s) | %s (%s) | %s | %.0f |\n", r.name, r.what, b.bin.mib(r.bin), r.took.MedP90(),
			measure.Times(measure.MedianF(vf)), measure.Times(measure.PctF(vf, 90)), measure.Times(measure.MedianF(vc)), measure.Times(measure.PctF(vc, 90)), measure.Ms(r.cpu.Median()), measure.MedianF(r.minflt))
	}
	pr := ratios(plain, tok)
	fmt.Fprintf(&md, "\nThe `go install` build vs the release build: %s per pair (p90 %s), %s vs %s.\n", measure.Times(measure.MedianF(pr)), measure.Times(measure.PctF(pr, 90)), b.bin.mib(b.bin.plain), b.bin.mib(b.bin.tokctl))
	fmt.Fprintf(&md, "\n%s\n", peersNote)
	o.sections = append(o.sections, md.String())
	return o, nil
}

// peersNote says why kubelogin and oauth2l are not in the side-by-side table.
const peersNote = `Peers: kubelogin (` + "`kubelogin get-token`" + `, github.com/int128/kubelogin) and oauth2l (` + "`oauth2l fetch --cache`" + `,
github.com/google/oauth2l) were to run in this rotation, each built from the Go module proxy the way
its releases are built and answering from its own on-disk cache. They are not: the Go module proxy
this machine reaches refuses both modules (403 "This module version is not available" for
github.com/int128/kubelogin@v1.36.1, github.com/google/oauth2l@v1.3.2 and both modules' version
lists, 2026-12-05), and nothing else may be fetched here. See bench/README.md.`

// ratios returns a's wall time over b's, round by round.
func ratios(a, b *contender) []float64 {
	p := measure.Pairs{A: a.took, B: b.took}
	return p.Ratios()
}

// cpuRatios returns a's CPU time over b's, round by round.
func cpuRatios(a, b *contender) []float64 {
	p := measure.Pairs{A: a.cpu, B: b.cpu}
	return p.Ratios()
}

func ratioOfMedians(a, b *contender) float64 {
	p := measure.Pairs{A: a.took, B: b.took}
	return p.RatioOfMedians()
}

// linkage says whether the binary at path is linked dynamically (cgo, libc) or statically.
func linkage(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return ", here: dynamically linked, cgo on"
		}
	}
	return ", here: statically linked"
}

// hotBurst is scenario 2: 100 concurrent "tokctl token" processes on a valid token against 100
// concurrent floor processes, in pairs of bursts with alternating order.
func (b *bench) hotBurst() (outcome, error) {
	var o outcome
	const n = 100
	srv := oauthtest.NewServer(oauthtest.Options{})
	defer srv.Close()
	f, err := newFixture(b.root, "hotburst", b.bin, srv, "")
	if err != nil {
		return o, err
	}
	c, err := f.store(time.Hour)
	if err != nil {
		return o, err
	}
	var p measure.Pairs
	var failed, wrong int
	for i := range b.n.burstWarm + b.n.burstPairs {
		var tw, fw time.Duration
		var tres, fres []measure.Result
		var terr, ferr error
		if i%2 == 0 {
			tw, tres, terr = f.tokctlBurst(n)
			fw, fres, ferr = f.floorBurst(n)
		} else {
			fw, fres, ferr = f.floorBurst(n)
			tw, tres, terr = f.tokctlBurst(n)
		}
		if terr != nil || ferr != nil {
			return o, fmt.Errorf("hot burst: %v %v", terr, ferr)
		}
		t := measure.TallyTokens(append(tres, fres...), c.AccessToken)
		failed, wrong = failed+t.Failed, wrong+t.Wrong
		if i >= b.n.burstWarm {
			p.Add(tw, fw)
		}
	}
	o.checkInt("hot burst: failed processes", failed, 0)
	o.checkInt("hot burst: processes printing another token than the stored one", wrong, 0)
	o.checkInt("hot burst: token-endpoint calls", srv.Stats().TokenRequests, 0)
	ratio := p.RatioOfMedians()
	r := p.Ratios()
	o.rows = append(o.rows, row{
		scenario: fmt.Sprintf("2. hot burst: %d concurrent `tokctl token` vs %d floor, burst wall (%s)", n, n, measure.Plural(len(p.A), "pair")),
		measured: p.A.MedP90(),
		baseline: p.B.MedP90(),
		ratio:    fmt.Sprintf("%s (ratio of medians; per-pair median %s, p90 %s)", measure.Times(ratio), measure.Times(measure.MedianF(r)), measure.Times(measure.PctF(r, 90))),
		target:   "≤ 1.20×",
		met:      met(ratio <= 1.2),
	})
	o.notef("hot burst: %s discarded; wall = just before the first Start to the last process reaped.", measure.Plural(b.n.burstWarm, "warm-up pair"))
	return o, nil
}
