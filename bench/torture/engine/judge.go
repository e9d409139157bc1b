package engine

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tokctl/tokctl/creds"
)

// Burst is one burst's record and verdict.
type Burst struct {
	Seq, N int
	Moment string // "" when nobody was killed
	Wall   time.Duration
	Hung   bool // still running at Config.Timeout: every caller was killed
	Counts Counts

	Killed   int
	KilledAt map[string]int // last phase the victim reached ("waiting": none) -> kills
	Failed   int            // callers not killed that failed, or printed a token other than the stored, live one
	FirstErr string         // the first such failure, for the report (never a token)
	// LoginRequired counts callers that exited 3 because an accepted loss (below) killed the
	// family: the provider saw the refresh token the killed holder had rotated away.
	LoginRequired int

	Corrupt          string // why the credential file could not be read, "" when it could
	Lost             bool   // the stored refresh token is no longer current at the provider
	Accepted         string // for a loss caused by a kill between rotation and save: that window
	UnsavedRotations int    // rotations the provider performed that never reached the file

	StaleLockAtStart, StaleLockAtEnd bool
	TempFilesLeft                    int // new temporary files left in the credential dir

	Broken []string // what broke the promise; empty when the burst kept it
}

// inWindow names the kills that can lose a rotation: the victim's request may have been
// processed (its last phase was before-post and the kill came from a timer or from outside), or
// was (after-response), and its save never renamed the new file into place.
func inWindow(moment, last string) (string, bool) {
	switch {
	case last == "after-response":
		return "after the response, before the save", true
	case last == "save-temp-synced":
		return "during the save (temp file synced, not renamed)", true
	case last == "before-post" && moment != "before-post":
		return "during the POST, after the provider rotated", true
	}
	return "", false
}

// judge fills in the verdict of a finished burst.
func (r *Runner) judge(b *Burst, callers []*caller) {
	cnt, err := r.cfg.Provider.Counts()
	if err != nil {
		b.Broken = append(b.Broken, "provider counts: "+err.Error())
	}
	b.Counts = cnt
	stored, err := r.store().Load()
	if err != nil {
		var ce *creds.CorruptError
		if errors.As(err, &ce) {
			b.Corrupt = ce.Err.Error()
		} else {
			b.Corrupt = err.Error()
		}
		b.Broken = append(b.Broken, "credential unreadable: "+b.Corrupt)
	} else if ok, err := r.cfg.Provider.Active(stored.RefreshToken); err != nil {
		b.Broken = append(b.Broken, "provider active check: "+err.Error())
	} else {
		b.Lost = !ok
	}
	// A caller succeeds when it printed the stored access token and the provider still honours
	// it (lock-less siblings can leave a token in the file whose family they got revoked).
	atLive := false
	if stored != nil {
		ok, err := r.cfg.Provider.Active(stored.AccessToken)
		atLive = ok && err == nil
	}

	saved, windows := 0, map[string]int{}
	inWin := 0
	b.KilledAt = map[string]int{}
	for _, c := range callers {
		last := "waiting"
		if len(c.phases) > 0 {
			last = c.phases[len(c.phases)-1]
		}
		// The file store reports save-renamed then saved, Redis saved alone: one save each.
		if slices.Contains(c.phases, "save-renamed") || slices.Contains(c.phases, "saved") {
			saved++
		}
		if c.killed {
			b.Killed++
			b.KilledAt[last]++
			if w, ok := inWindow(b.Moment, last); ok {
				inWin++
				windows[w]++
			}
		}
	}
	b.UnsavedRotations = cnt.Rotations - saved
	if b.Lost && b.UnsavedRotations >= 1 && inWin >= b.UnsavedRotations {
		ws := slices.Sorted(maps.Keys(windows))
		b.Accepted = strings.Join(ws, " + ")
	}

	for _, c := range callers {
		if c.killed {
			continue
		}
		if atLive && c.code == 0 && c.stderr.Len() == 0 && c.stdout.String() == stored.AccessToken+"\n" {
			continue
		}
		if b.Accepted != "" && c.code == 3 {
			b.LoginRequired++
			continue
		}
		b.Failed++
		if b.FirstErr == "" {
			last := "waiting"
			if len(c.phases) > 0 {
				last = c.phases[len(c.phases)-1]
			}
			b.FirstErr = fmt.Sprintf("exit %d after %s, last phase %s: %s", c.code, c.took.Round(time.Millisecond), last, firstLine(c.stderr.String()))
			if c.code == 0 {
				b.FirstErr = "exit 0 but printed a token that is not the stored, live one"
			}
		}
	}
	if held, err := r.lockHeld(); err != nil {
		b.Broken = append(b.Broken, "look at the lock: "+err.Error())
	} else {
		b.StaleLockAtEnd = held
	}
	b.TempFilesLeft = r.newTempFiles()

	switch {
	case b.Hung:
		b.Broken = append(b.Broken, "burst hung")
	case b.Lost && b.Accepted == "":
		b.Broken = append(b.Broken, fmt.Sprintf("refresh token lost without a kill between rotation and save (unsaved rotations %d)", b.UnsavedRotations))
	}
	if cnt.Reuse > 0 && b.Accepted == "" {
		b.Broken = append(b.Broken, fmt.Sprintf("%d rotated refresh token(s) presented again", cnt.Reuse))
	}
	if b.Moment == "" && cnt.PresentedTwice > 0 {
		b.Broken = append(b.Broken, fmt.Sprintf("%d refresh token(s) presented twice", cnt.PresentedTwice))
	}
	if b.Moment == "" && cnt.Calls != 1 {
		b.Broken = append(b.Broken, fmt.Sprintf("%d token-endpoint calls, want 1", cnt.Calls))
	}
	if b.Failed > 0 {
		b.Broken = append(b.Broken, fmt.Sprintf("%d caller(s) not killed failed (%s)", b.Failed, b.FirstErr))
	}
}

// newTempFiles counts temporary files a killed save left in the credential directory since
// the last call. tokctl does not sweep them; neither does the harness.
func (r *Runner) newTempFiles() int {
	if r.cfg.Store != nil {
		return 0
	}
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(r.cfg.CredPath), "."+filepath.Base(r.cfg.CredPath)+".tmp*"))
	n := len(m) - r.temps
	r.temps = len(m)
	return max(n, 0)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
