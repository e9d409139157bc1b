package commands_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokctl/tokctl/diagnose"
	"github.com/tokctl/tokctl/oauthtest"
)

// serverLog is an oauthtest request log as a provider would write it: one line per request,
// with an RFC 3339 time, refresh tokens only as fingerprints.
type serverLog struct {
	mu   sync.Mutex
	path string
}

func (l *serverLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s oauthtest: %s\n", time.Now().UTC().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
}

// diagnoseFiles runs the analysis "tokctl diagnose FILE…" runs.
func diagnoseFiles(t *testing.T, paths ...string) *diagnose.Report {
	t.Helper()
	a := diagnose.New(diagnose.Options{})
	var inputs []diagnose.Input
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		inputs = append(inputs, diagnose.Input{Name: filepath.Base(p), R: f})
	}
	for _, err := range a.Read(inputs...) {
		if err != nil {
			t.Fatal(err)
		}
	}
	return a.Report()
}

func verdictList(r *diagnose.Report) string {
	var v []string
	for _, inc := range r.Incidents {
		v = append(v, inc.Verdict)
	}
	return strings.Join(v, ", ")
}

// TestDiagnoseTellsANaiveBurstFromTokctl runs real bursts of real processes against the strict
// server and diagnoses what they left behind: the server's request log and tokctl's own event
// log. Without the lock (build tag tokctl_nolock) both logs show the race, and the server's
// shows the reuse detection that revoked the family; with tokctl's lock neither shows a race.
func TestDiagnoseTellsANaiveBurstFromTokctl(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tokctl twice and runs two bursts")
	}
	for _, c := range []struct {
		name, tags  string
		wantServer  string // verdicts on the server's log
		wantEvents  string // verdicts on tokctl's event log
		wantRefresh int    // successful refreshes in tokctl's event log: the burst's and the later one
	}{
		{name: "naive", tags: "tokctl_nolock", wantServer: diagnose.ReuseRevocation, wantEvents: diagnose.ReuseRevocation + "|" + diagnose.Race},
		{name: "tokctl", tags: "", wantServer: "", wantEvents: "", wantRefresh: 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			bin := tokctlBinary(t, c.tags)
			log := &serverLog{path: filepath.Join(t.TempDir(), "server.log")}
			f := newFixture(t, oauthtest.Options{Latency: 100 * time.Millisecond, Logf: log.logf})
			f.storeExpired(t)
			f.burst(t, bin, 30)
			events := filepath.Join(f.home, "events.jsonl")
			// Later refreshes, a minute on: the server sees whether the family survived.
			f.burst(t, bin, 1, "--min-ttl", "2h")

			server := diagnoseFiles(t, log.path)
			if got := verdictList(server); !matches(got, c.wantServer) {
				t.Errorf("server log: verdicts %q, want %q\n%s", got, c.wantServer, dump(t, log.path))
			}
			own := diagnoseFiles(t, events)
			if got := verdictList(own); !matches(got, c.wantEvents) {
				t.Errorf("event log: verdicts %q, want %q\n%s", got, c.wantEvents, dump(t, events))
			}
			if c.wantRefresh > 0 && own.Inputs[0].Outcomes["success"] != c.wantRefresh {
				t.Errorf("event log: %v, want %d successful refreshes", own.Inputs[0].Outcomes, c.wantRefresh)
			}
			t.Logf("%s burst: server log %v → %q; event log %v → %q", c.name,
				server.Inputs[0].Outcomes, verdictList(server), own.Inputs[0].Outcomes, verdictList(own))
		})
	}
}

// matches reports whether the verdict list is empty when want is, else whether its first
// verdict is one of want's |-separated verdicts.
func matches(got, want string) bool {
	if want == "" || got == "" {
		return got == want
	}
	first, _, _ := strings.Cut(got, ", ")
	return strings.Contains("|"+want+"|", "|"+first+"|")
}

func dump(t *testing.T, path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 3000 {
		data = data[:3000]
	}
	return string(data)
}
