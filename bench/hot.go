package main

import (
	"debug/elf"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokctl/tokctl/bench/internal/measure"
	"github.com/tokctl/tokctl/oauthtest"
)

// contender is one program of the hot-path rotation and what each of its runs measured.
type contender struct {
	name, what, bin string
	args, env       []string // env: added to the child's environment
	took, cpu       measure.Sample
	minflt          []float64
	last            measure.Result   // this round's run
	outs            []measure.Result // every run, warm-up included, for the correctness checks
}

// hotPath is scenario 1: "tokctl token" on a valid token, the same call of tokctl built as "go
// install" builds it, the floors (floor, clifloor, linkedfloor), and the kubectl credential
// plugin's answer from tokctl and from kubelogin (when it was built), each run once per round in
// a rotating order so that none always runs first, right after another warmed the page cache or
// the CPU's frequency. A ratio is taken within each round (a "pair": the two runs were at most a
// few milliseconds apart), then the median of those ratios is reported.
func (b *bench) hotPath() (outcome, error) {
	var o outcome
	// kubelogin's redirect URI is http://127.0.0.1:PORT, with an empty path.
	srv := oauthtest.NewServer(oauthtest.Options{RedirectPaths: []string{""}})
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
	kubeEnv := []string{"KUBERNETES_EXEC_INFO=" + execInfo}
	tok := &contender{name: "`tokctl token`, release build", what: "`" + releaseCommand + "`", bin: b.bin.tokctl, args: tokArgs}
	plain := &contender{name: "`tokctl token`, `go install` build", what: "`" + plainCommand + "` (default CGO setting" + linkage(b.bin.plain) + "; no -trimpath, -ldflags or -tags)", bin: b.bin.plain, args: tokArgs}
	floor := &contender{name: "floor", what: "bench/floor: read the file, decode the JSON, print the token", bin: b.bin.floor, args: floorArgs}
	cli := &contender{name: "clifloor", what: "floor + net/http and urfave/cli linked in, never run (bench/clifloor)", bin: b.bin.cli, args: floorArgs}
	linked := &contender{name: "linkedfloor", what: "floor + all of tokctl linked in, never run (bench/linkedfloor)", bin: b.bin.linked, args: floorArgs}
	kube := &contender{name: "`tokctl kubectl`, release build", what: "the kubectl credential plugin: `tokctl token`'s work, an ExecCredential printed", bin: b.bin.tokctl, args: []string{"kubectl", "--home", f.home}, env: kubeEnv}
	all := []*contender{floor, cli, linked, tok, plain, kube}
	var peer *contender
	var kl *kubelogin
	if b.kubelogin != "" {
		if kl, err = seedKubelogin(b.kubelogin, srv.URL(), "tokctl-test", filepath.Join(b.root, "kubelogin-cache")); err != nil {
			return o, fmt.Errorf("hot path: %v", err)
		}
		srv.ResetStats()
		peer = &contender{name: "`kubelogin get-token` " + kubeloginVersion, what: "`" + kubeloginCommand + "`: its token cache on disk (one file, a flock), an ExecCredential printed", bin: b.kubelogin, args: kl.args, env: kubeEnv}
		all = append(all, peer)
	}
	for i := range b.n.hotWarm + b.n.hotPairs {
		for k := range all {
			r := all[(i+k)%len(all)]
			res, err := runOneEnv(r.env, r.bin, r.args...)
			if err != nil {
				return o, fmt.Errorf("hot path: %v", err)
			}
			r.last = res
			r.outs = append(r.outs, res)
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
	var printed []measure.Result
	for _, r := range []*contender{floor, cli, linked, tok, plain} {
		printed = append(printed, r.outs...)
	}
	t := measure.TallyTokens(printed, c.AccessToken)
	o.checkInt("hot path: failed runs (tokctl and floor)", t.Failed, 0)
	o.checkInt("hot path: runs printing another token than the stored one", t.Wrong, 0)
	failed, wrong := tallyExecCredentials(kube.outs, c.AccessToken)
	o.checkInt("hot path: `tokctl kubectl` runs that failed or printed no ExecCredential with the stored token", failed+wrong, 0)
	if peer != nil {
		failed, wrong := tallyExecCredentials(peer.outs, kl.idToken)
		o.checkInt("hot path: `kubelogin get-token` runs that failed or printed no ExecCredential with its cached ID token", failed+wrong, 0)
	}
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
	if peer != nil {
		vsPeer := ratios(kube, peer)
		o.rows = append(o.rows, row{
			scenario: fmt.Sprintf("1c. kubectl credential plugin, valid token cached: `tokctl kubectl` vs `kubelogin get-token` %s, per call (%s)", kubeloginVersion, measure.Plural(len(kube.took), "pair")),
			measured: kube.took.MedP90(),
			baseline: peer.took.MedP90(),
			ratio:    fmt.Sprintf("%s (median of per-pair ratios; p90 %s; ratio of medians %s)", measure.Times(measure.MedianF(vsPeer)), measure.Times(measure.PctF(vsPeer, 90)), measure.Times(ratioOfMedians(kube, peer))),
			target:   "reported (issue 11)",
			met:      "—",
		})
	}
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
	for _, r := range all {
		vf, vc := ratios(r, floor), ratios(r, cli)
		fmt.Fprintf(&md, "| %s | %s | %s | %s | %s (%s) | %s (%s) | %s | %.0f |\n", r.name, r.what, b.bin.mib(r.bin), r.took.MedP90(),
			measure.Times(measure.MedianF(vf)), measure.Times(measure.PctF(vf, 90)), measure.Times(measure.MedianF(vc)), measure.Times(measure.PctF(vc, 90)), measure.Ms(r.cpu.Median()), measure.MedianF(r.minflt))
	}
	pr := ratios(plain, tok)
	fmt.Fprintf(&md, "\nThe `go install` build vs the release build: %s per pair (p90 %s), %s vs %s.\n", measure.Times(measure.MedianF(pr)), measure.Times(measure.PctF(pr, 90)), b.bin.mib(b.bin.plain), b.bin.mib(b.bin.tokctl))
	fmt.Fprintf(&md, "\n%s\n", b.peersNote(peer != nil))
	o.sections = append(o.sections, md.String())
	return o, nil
}

// peersNote says how the peers were put in the side-by-side table, or why they are not.
func (b *bench) peersNote(kubelogin bool) string {
	var s string
	if kubelogin {
		s = "Peer: kubelogin (" + kubeloginModule + " " + kubeloginVersion + ", a widely used kubectl credential plugin for OIDC clusters), fetched from the Go module proxy and built as its release workflow builds it. " +
			"Its token cache was filled by its own login against the same oauthtest server (authorization code with PKCE, loopback redirect, this benchmark as the browser); each `get-token` then takes its flock on the cache, reads the cached ID token, checks its expiry and prints an ExecCredential, without the network — the job `tokctl kubectl` does, so row 1c compares the two. " +
			"Both get the KUBERNETES_EXEC_INFO kubectl sends."
	} else {
		s = "Peer: kubelogin (" + kubeloginModule + " " + kubeloginVersion + ") is not in this run: " + b.kubeloginWhy + "."
	}
	return s + " oauth2l (`oauth2l fetch --cache`, github.com/google/oauth2l) is not in the table: the Go module proxy this machine reaches refuses that module (403 \"This module version is not available\" for v1.0.0 to v1.3.2 and for its version list, 2026-12-05), and nothing else may be fetched here."
}

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
