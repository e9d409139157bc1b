package diagnose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// analyze reads the named fixtures together, as "tokctl diagnose A B …" does.
func analyze(t *testing.T, opt Options, names ...string) *Report {
	t.Helper()
	if opt.Year == 0 {
		opt.Year = 2026
	}
	a := New(opt)
	var inputs []Input
	for _, n := range names {
		f, err := os.Open(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		inputs = append(inputs, Input{Name: n, R: f})
	}
	for _, err := range a.Read(inputs...) {
		if err != nil {
			t.Fatal(err)
		}
	}
	return a.Report()
}

// verdicts lists "verdict who" per incident, in time order.
func verdicts(r *Report) string {
	var out []string
	for _, inc := range r.Incidents {
		var parts []string
		for _, p := range []string{inc.Actor.Client, inc.Actor.User, inc.Actor.Profile} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		who := strings.Join(parts, "/")
		if who == "" {
			who = inc.Actor.IP
		}
		out = append(out, inc.Verdict+" "+who)
	}
	return strings.Join(out, "; ")
}

func malformed(r *Report) int64 {
	var n int64
	for _, in := range r.Inputs {
		n += in.Malformed
	}
	return n
}

// Each fixture is a hard case of its own; the comments say what makes it hard.
func TestFixturesAreClassified(t *testing.T) {
	cases := []struct {
		name      string
		files     []string
		want      string
		malformed int64
		format    string
	}{{
		// A pretty-printed JSON array; bob refreshes fine all along (interleaved users); alice
		// races; carol's race trips reuse detection; an authorization code grant is no refresh.
		name: "okta", files: []string{"okta_export.json"}, format: "okta",
		want: "race 0oa1cli/alice@example.com; reuse-revocation 0oa1cli/carol@example.com",
	}, {
		// Newest first, +02:00, a log-stream wrapper, refused refreshes without a user, a broken
		// line; gina's revoked token fails in the middle of frank's busy period.
		name: "auth0", files: []string{"auth0_tenant.jsonl"}, format: "auth0", malformed: 1,
		want: "reuse-revocation aB3cli/auth0|erin; revoked/expired zZ9svc/auth0|gina",
	}, {
		// Second-resolution times in -0700; two races of one client two seconds apart; another
		// client's refreshes in between; a relevant line without a time.
		name: "nginx", files: []string{"nginx_access.log"}, format: "text", malformed: 1,
		want: "race 10.0.0.5; race 10.0.0.5",
	}, {
		// syslog (no year) and epoch milliseconds; alice raced, bob's grant was revoked at the
		// same moment; binary junk.
		name: "syslog", files: []string{"app_syslog.log"}, format: "text", malformed: 1,
		want: "race reports/alice; revoked/expired reports/bob",
	}, {
		// host-b's clock is 600 ms behind: its refusal is logged 350 ms before host-a's success.
		name: "skew", files: []string{"skew_host_a.jsonl", "skew_host_b.jsonl"}, format: "json",
		want: "race sync/svc-sync",
	}, {
		// A tokctl burst (one refresh, nine waits) is no incident; a program outside the lock
		// is; a revoked grant is permanent.
		name: "tokctl", files: []string{"tokctl_events.jsonl"}, format: "tokctl",
		want: "race cli/work; revoked/expired cli/work",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := analyze(t, Options{}, c.files...)
			if got := verdicts(r); got != c.want {
				t.Errorf("verdicts:\n got %s\nwant %s", got, c.want)
			}
			if got := malformed(r); got != c.malformed {
				t.Errorf("%d malformed records, want %d", got, c.malformed)
			}
			if got := r.Inputs[0].Format; got != c.format {
				t.Errorf("format %q, want %q", got, c.format)
			}
			for _, inc := range r.Incidents {
				if len(inc.Evidence) == 0 || inc.Fix == "" || inc.Reason == "" {
					t.Errorf("incident without evidence, reason or fix: %+v", inc)
				}
			}
		})
	}
}

// Without the skew tolerance, the skewed hosts' race falls apart: the test above depends on it.
func TestSkewToleranceIsWhatJoinsTheHosts(t *testing.T) {
	r := analyze(t, Options{Skew: -1}, "skew_host_a.jsonl", "skew_host_b.jsonl")
	if got := verdicts(r); strings.HasPrefix(got, "race") {
		t.Fatalf("with no skew tolerance: %s; want no race", got)
	}
}

// A narrow window splits what a wide one joins.
func TestWindowDecidesWhatIsOneBurst(t *testing.T) {
	r := analyze(t, Options{Window: 3 * time.Second}, "nginx_access.log")
	if got := verdicts(r); got != "race 10.0.0.5" {
		t.Fatalf("with a 3s window: %s; want the two races as one", got)
	}
}
