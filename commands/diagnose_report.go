package commands

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokctl/tokctl/diagnose"
)

// timelineWidth is the width of an incident's timeline strip.
const timelineWidth = 40

// writeDiagnosis prints the human report: inputs, incidents with a timeline, a summary.
func writeDiagnosis(w io.Writer, r *diagnose.Report) error {
	p := &printer{w: w}
	for _, in := range r.Inputs {
		format := in.Format
		if format == "" {
			format = "-"
		}
		p.printf("read %s (%s): %d records, %d about refreshes%s\n", in.Name, format, in.Records, in.Entries, outcomes(in.Outcomes))
	}
	for _, inc := range r.Incidents {
		p.printf("\n%s  %s  %s\n", strings.ToUpper(inc.Verdict), stamp(inc.Start), actor(inc))
		p.printf("  %s\n", inc.Reason)
		p.printf("  timeline %s  |%s|\n", span(inc), strip(inc))
		for _, e := range inc.Evidence {
			mark := map[diagnose.Outcome]string{diagnose.Success: "ok", diagnose.Failure: "refused", diagnose.Reuse: "REUSE", diagnose.Revoked: "revoked", diagnose.Note: "note"}[e.Outcome]
			p.printf("    %+8.0fms  %-8s %-22s %s\n", float64(e.Time.Sub(inc.Start).Microseconds())/1000, mark, e.Code, e.Where)
		}
		p.printf("  fix: %s\n", inc.Fix)
	}
	p.printf("\n%s\n", summary(r))
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func outcomes(m map[string]int) string {
	var parts []string
	for _, k := range []string{"success", "failure", "reuse-detected", "revoked", "note"} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000Z") }

func span(inc diagnose.Incident) string {
	return fmt.Sprintf("%-7s", inc.End.Sub(inc.Start).Round(time.Millisecond).String())
}

// actor names who the incident concerns, and from where.
func actor(inc diagnose.Incident) string {
	var parts []string
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, label+" "+v)
		}
	}
	add("realm", inc.Actor.Realm)
	add("client", inc.Actor.Client)
	add("user", inc.Actor.User)
	add("session", inc.Actor.Session)
	add("profile", inc.Actor.Profile)
	add("ip", strings.Join(inc.IPs, ","))
	add("hosts", strings.Join(inc.Hosts, ","))
	if len(inc.PIDs) > 0 {
		parts = append(parts, fmt.Sprintf("%d process(es)", len(inc.PIDs)))
	}
	return strings.Join(parts, "  ")
}

// strip draws the incident's records across its time span: o success, x refused, R reuse
// detected, ! revoked.
func strip(inc diagnose.Incident) string {
	line := []byte(strings.Repeat(".", timelineWidth))
	d := inc.End.Sub(inc.Start)
	for _, e := range inc.Evidence {
		i := 0
		if d > 0 {
			i = int(float64(e.Time.Sub(inc.Start)) / float64(d) * (timelineWidth - 1))
		}
		c := map[diagnose.Outcome]byte{diagnose.Success: 'o', diagnose.Failure: 'x', diagnose.Reuse: 'R', diagnose.Revoked: '!', diagnose.Note: '-'}[e.Outcome]
		if line[i] == '.' || c == 'R' || c == 'o' {
			line[i] = c
		}
	}
	return string(line)
}

func summary(r *diagnose.Report) string {
	if len(r.Incidents) == 0 && r.Omitted == 0 {
		return "no refused refreshes found: no race."
	}
	var parts []string
	for _, v := range []string{diagnose.Race, diagnose.ReuseRevocation, diagnose.RevokedExpired, diagnose.Unknown} {
		parts = append(parts, fmt.Sprintf("%d %s", r.Verdicts[v], v))
	}
	s := "incidents: " + strings.Join(parts, ", ")
	if r.Omitted > 0 {
		s += fmt.Sprintf(" (%d not listed)", r.Omitted)
	}
	return s + fmt.Sprintf("  [window %s, skew %s]", r.Window, r.Skew)
}
