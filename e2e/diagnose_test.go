package e2e

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokctl/tokctl/diagnose"
)

// TestDiagnoseHydrasLogOfABurst captures the real Hydra's server log during a burst without the
// lock and during one with it, and checks what "tokctl diagnose" makes of each: the naive burst
// is a race (Hydra revokes the family on reuse: every later refresh fails), tokctl's is none.
// The burst's own event log (events.jsonl) is diagnosed too. Hydra logs each request only at
// level info: TOKCTL_E2E_HYDRA_LOG=info (JSON lines); at the default level the test checks the
// event log and skips Hydra's.
func TestDiagnoseHydrasLogOfABurst(t *testing.T) {
	for _, c := range []struct {
		name, tags string
		race       bool
	}{{"naive", lockless, true}, {"tokctl", releaseBuild, false}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHome(t)
			login := h.importLogin(t)
			sleepUntil(login.Expiry)
			from := logSize(t)
			bin := tokctlBinary(t, c.tags)
			h.burst(t, bin, callers)
			h.run(t, bin, "token", "--min-ttl", "2h") // does the family still work?
			time.Sleep(200 * time.Millisecond)        // Hydra's log is written asynchronously
			part := filepath.Join(t.TempDir(), "hydra-"+c.name+".log")
			copyLogSince(t, from, part)

			server := diagnoseFile(t, part)
			own := diagnoseFile(t, filepath.Join(h.dir, "events.jsonl"))
			t.Logf("%s burst: hydra log %+v → %s", c.name, server.Inputs[0], describe(server))
			t.Logf("%s burst: event log %+v → %s", c.name, own.Inputs[0], describe(own))
			if got := own.Races() > 0; got != c.race {
				t.Errorf("tokctl's event log: races found = %v, want %v", got, c.race)
			}
			if server.Inputs[0].Outcomes["success"] == 0 {
				t.Skip("Hydra logs warnings only: run with TOKCTL_E2E_HYDRA_LOG=info to diagnose its request log")
			}
			if got := server.Races() > 0; got != c.race {
				t.Errorf("hydra's log: races found = %v, want %v\n%s", got, c.race, head(t, part))
			}
		})
	}
}

func logSize(t *testing.T) int64 {
	st, err := os.Stat(stack.logPath)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// copyLogSince copies what Hydra logged after offset from to path.
func copyLogSince(t *testing.T, from int64, path string) {
	src, err := os.Open(stack.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	src.Seek(from, io.SeekStart)
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	io.Copy(dst, src)
}

func diagnoseFile(t *testing.T, path string) *diagnose.Report {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := diagnose.New(diagnose.Options{})
	if err := a.Read(diagnose.Input{Name: filepath.Base(path), R: f})[0]; err != nil {
		t.Fatal(err)
	}
	return a.Report()
}

func describe(r *diagnose.Report) string {
	var v []string
	for _, inc := range r.Incidents {
		v = append(v, inc.Verdict)
	}
	return "[" + strings.Join(v, ", ") + "]"
}

func head(t *testing.T, path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 4000 {
		data = data[:4000]
	}
	return string(data)
}
