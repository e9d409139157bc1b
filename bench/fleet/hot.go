package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tokctl/tokctl/bench/internal/measure"
	"github.com/tokctl/tokctl/oauthtest"
)

// side is one program of a paired comparison and what its runs measured.
type side struct {
	bin    string
	args   []string
	env    []string // nil: the fleet's
	took   measure.Sample
	cpu    measure.Sample
	minflt []float64
	outs   []measure.Result
}

// pairedRuns runs a and b once per round, alternating which goes first, and keeps the rounds
// after warm.
func (f *fleet) pairedRuns(a, b *side, warm, rounds int) error {
	for i := range warm + rounds {
		order := []*side{a, b}
		if i%2 == 1 {
			order = []*side{b, a}
		}
		var got [2]measure.Result
		for k, s := range order {
			r, err := f.runOne(s.bin, s.env, s.args...)
			if err != nil {
				return err
			}
			got[k] = r
			s.outs = append(s.outs, r)
		}
		if i < warm {
			continue
		}
		for k, s := range order {
			s.took = append(s.took, got[k].Took)
			s.cpu = append(s.cpu, got[k].CPU)
			s.minflt = append(s.minflt, float64(got[k].Minflt))
		}
	}
	return nil
}

func (s *side) pairsWith(o *side) *measure.Pairs    { return &measure.Pairs{A: s.took, B: o.took} }
func (s *side) cpuPairsWith(o *side) *measure.Pairs { return &measure.Pairs{A: s.cpu, B: o.cpu} }

// hotPath is scenario a: tokctl token on a valid credential in Redis vs in the file store.
func (f *fleet) hotPath() error {
	srv := oauthtest.NewServer(oauthtest.Options{})
	defer srv.Close()
	fh, err := f.newHome("hot-file", srv.TokenURL(), "")
	if err != nil {
		return err
	}
	rh, err := f.newHome("hot-redis", srv.TokenURL(), f.redisURL(""))
	if err != nil {
		return err
	}
	fc, err := fh.put(srv, time.Hour)
	if err != nil {
		return err
	}
	rc, err := rh.put(srv, time.Hour)
	if err != nil {
		return err
	}
	before, err := f.commandStats()
	if err != nil {
		return err
	}
	file := &side{bin: f.tokctl, args: fh.args()}
	red := &side{bin: f.tokctl, args: rh.args()}
	if err := f.pairedRuns(red, file, f.n.hotWarm, f.n.hotPairs); err != nil {
		return fmt.Errorf("hot path: %w", err)
	}
	after, err := f.commandStats()
	if err != nil {
		return err
	}
	tr, tf := measure.TallyTokens(red.outs, rc.AccessToken), measure.TallyTokens(file.outs, fc.AccessToken)
	o := &f.out
	o.checkInt("a. hot path: failed runs (Redis + file)", tr.Failed+tf.Failed, 0)
	o.checkInt("a. hot path: runs printing another token than the stored one", tr.Wrong+tf.Wrong, 0)
	o.checkInt("a. hot path: token-endpoint calls", srv.Stats().TokenRequests, 0)
	p := red.pairsWith(file)
	o.rows = append(o.rows, row{
		scenario: fmt.Sprintf("a. hot path: `tokctl token` on a valid credential, Redis store vs file store, wall per call (%s)", measure.Plural(len(p.A), "pair")),
		measured: "Redis " + red.took.MedP90(),
		baseline: "file " + file.took.MedP90(),
		ratio:    p.RatioText() + fmt.Sprintf("; difference %s (p90 %s)", measure.Ms(p.Diffs().Median()), measure.Ms(p.Diffs().Pct(90))),
	})
	cp := red.cpuPairsWith(file)
	runs := len(red.outs)
	o.notef("a. hot path: CPU time (user+sys) per call Redis %s vs file %s (%s per pair); minor page faults per call %.0f vs %.0f; %s discarded.",
		measure.Ms(red.cpu.Median()), measure.Ms(file.cpu.Median()), measure.Times(measure.MedianF(cp.Ratios())), measure.MedianF(red.minflt), measure.MedianF(file.minflt), measure.Plural(f.n.hotWarm, "warm-up pair"))
	o.notef("a. hot path: Redis commands per `tokctl token` on the Redis store (INFO commandstats over %d runs, warm-up included): %s. The file store reads the profile and the credential file.",
		runs, perCall(before, after, runs))
	return nil
}

// commandStats returns the server's calls per command (INFO commandstats).
func (f *fleet) commandStats() (map[string]int, error) {
	info, err := f.redis.Info("commandstats")
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for k, v := range info {
		name, ok := strings.CutPrefix(k, "cmdstat_")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
		out[name], _ = strconv.Atoi(calls)
	}
	return out, nil
}

// perCall formats the commands sent between two commandstats snapshots, per run.
func perCall(before, after map[string]int, runs int) string {
	var names []string
	for k := range after {
		if after[k]-before[k] > 0 && k != "info" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s %.2f", strings.ToUpper(k), float64(after[k]-before[k])/float64(max(runs, 1))))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
