package diagnose

import (
	"slices"
	"time"
)

// maxEvidence bounds the evidence listed per incident.
const maxEvidence = 12

// Report is the analysis of everything read.
type Report struct {
	Window    time.Duration  `json:"-"`
	Skew      time.Duration  `json:"-"`
	Inputs    []InputStats   `json:"inputs"`
	Incidents []Incident     `json:"incidents"`
	Verdicts  map[string]int `json:"verdicts"` // incidents by verdict, omitted ones included
	Omitted   int            `json:"omitted"`  // incidents beyond the report's limit, only counted
}

// Races counts incidents caused by concurrent refreshes (race and reuse-revocation).
func (r *Report) Races() int { return r.Verdicts[Race] + r.Verdicts[ReuseRevocation] }

// Report judges every burst and returns the incidents in time order.
func (a *Analyzer) Report() *Report {
	a.sweep(true)
	r := &Report{Window: a.opt.Window, Skew: a.opt.Skew, Verdicts: map[string]int{}, Incidents: []Incident{}}
	for _, s := range a.inputs {
		r.Inputs = append(r.Inputs, *s)
	}
	for _, c := range a.pending {
		inc := a.judge(c)
		inc.Evidence = evidence(c.kept)
		r.Incidents = append(r.Incidents, inc)
		r.Verdicts[inc.Verdict]++
	}
	for v, n := range a.omitted {
		r.Verdicts[v] += n
		r.Omitted += n
	}
	slices.SortStableFunc(r.Incidents, func(x, y Incident) int { return x.Start.Compare(y.Start) })
	return r
}

// evidence lists a burst's records in time order: the first maxEvidence, and always the first
// success and reuse detection.
func evidence(kept []Entry) []Evidence {
	es := slices.Clone(kept)
	slices.SortStableFunc(es, func(x, y Entry) int { return x.Time.Compare(y.Time) })
	var out []Evidence
	seen := map[Outcome]bool{}
	for i, e := range es {
		first := !seen[e.Outcome] && (e.Outcome == Success || e.Outcome == Reuse)
		seen[e.Outcome] = true
		if i >= maxEvidence && !first {
			continue
		}
		out = append(out, Evidence{Time: e.Time, Outcome: e.Outcome, Code: e.Code, Host: e.Host, Where: e.Where, Text: redact(e.Text)})
	}
	return out
}
