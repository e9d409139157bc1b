package commands_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/flows"
	"github.com/tokctl/tokctl/lockfile"
	"github.com/tokctl/tokctl/oauthtest"
)

// A Go program using package creds and "tokctl token" processes share one credential: the
// library's Sources, opened on the profile with config.Paths.OpenStore, and the CLI must take
// part in one and the same refresh.

// raceLatency is how long the server holds each token request: every caller, goroutine or
// process, has started and read the expired credential before the first refresh can land.
const raceLatency = time.Second

// libraryRace is one race on an expired credential.
type libraryRace struct {
	shared    int    // goroutines calling Token on one shared Source
	separate  int    // goroutines each with its own Source and store value, as separate processes
	processes int    // "tokctl token --profile default" processes
	leader    string // who starts first: "goroutines" or "processes"
}

// countingRefresher counts the refresh requests this process's Sources send, so that a broken
// promise says which side sent the extra ones.
type countingRefresher struct {
	creds.Refresher
	n *atomic.Int32
}

func (r countingRefresher) Refresh(ctx context.Context, c *creds.Credential) (*creds.Credential, error) {
	r.n.Add(1)
	return r.Refresher.Refresh(ctx, c)
}

// raceOutcome is what one caller got.
type raceOutcome struct {
	who   string
	token string
	fail  string // the error, or the exit status and stderr; "" on success
}

// TestGoProgramAndTokctlRefreshOnce: goroutines on one Source, goroutines each on their own
// Source and real tokctl processes race on the same expired credential against the strict
// server; the provider sees one refresh, everyone gets the same new token, the login survives.
// Run with -tags tokctl_nolock it must fail (the test binary's Sources and the tokctl binary
// it builds then have no lock), on the goroutine side and on the process side.
func TestGoProgramAndTokctlRefreshOnce(t *testing.T) {
	tags := ""
	if lockDisabledInThisBinary(t) {
		tags = "tokctl_nolock"
		t.Log("this test binary was built with -tags tokctl_nolock: Source has no lock, and neither has the tokctl built for the race; this test must fail")
	}
	bin := tokctlBinary(t, tags)
	for _, tc := range []struct {
		name string
		race libraryRace
	}{
		{"goroutines", libraryRace{shared: 6, separate: 6, leader: "goroutines"}},
		{"processes", libraryRace{processes: 12, leader: "processes"}},
		{"mixed, a goroutine refreshes", libraryRace{shared: 6, separate: 6, processes: 12, leader: "goroutines"}},
		{"mixed, a process refreshes", libraryRace{shared: 6, separate: 6, processes: 12, leader: "processes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, oauthtest.Options{Latency: raceLatency})
			old := f.storeExpired(t)
			outcomes, inProcess := tc.race.run(t, f, bin)
			if broken := raceVerdict(t, f, old, outcomes, inProcess); len(broken) > 0 {
				t.Errorf("the promise broke (%d callers):\n  %s", len(outcomes), strings.Join(broken, "\n  "))
			}
		})
	}
}

// TestGoProgramAndLocklessTokctlBreaks proves the race above can tell a lock from no lock on
// the process side in every run: the same mixed race, with tokctl built without the lock
// (-tags tokctl_nolock), must break the promise.
func TestGoProgramAndLocklessTokctlBreaks(t *testing.T) {
	bin := tokctlBinary(t, "tokctl_nolock")
	f := newFixture(t, oauthtest.Options{Latency: raceLatency})
	old := f.storeExpired(t)
	race := libraryRace{shared: 6, separate: 6, processes: 12, leader: "processes"}
	outcomes, inProcess := race.run(t, f, bin)
	broken := raceVerdict(t, f, old, outcomes, inProcess)
	if len(broken) == 0 {
		t.Fatal("tokctl processes without the lock kept the promise: the race cannot tell a lock from no lock")
	}
	t.Logf("with lock-less tokctl processes, as expected:\n  %s", strings.Join(broken, "\n  "))
}

// run starts the race and returns every caller's outcome. The leader starts, its first token
// request reaches the server, and only then do the others start: all of them find the
// credential expired while the refresh is in flight, so each must wait for it, not make its own.
func (r libraryRace) run(t *testing.T, f *fixture, bin string) (outcomes []raceOutcome, inProcess int) {
	t.Helper()
	p := config.Paths{Config: f.home, State: f.home} // what "tokctl --home f.home" uses
	prof, err := p.LoadProfile("default")
	if err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int32
	newSource := func() *creds.Source {
		store, lockPath, err := p.OpenStore(prof)
		if err != nil {
			t.Fatal(err)
		}
		if want := f.credPath() + ".lock"; lockPath != want {
			t.Fatalf("OpenStore's lock path is %s, tokctl's is %s", lockPath, want)
		}
		return &creds.Source{
			Store:     store,
			LockPath:  lockPath,
			Refresher: countingRefresher{&flows.Refresher{TokenURL: prof.TokenURL, ClientID: prof.ClientID, AuthStyle: oauth2.AuthStyleInParams}, &sent},
			Command:   "library_race_test",
		}
	}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	add := func(o raceOutcome) {
		mu.Lock()
		defer mu.Unlock()
		outcomes = append(outcomes, o)
	}
	goroutine := func(who string, src oauth2.TokenSource) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tok, err := src.Token()
			if err != nil {
				add(raceOutcome{who: who, fail: err.Error()})
				return
			}
			add(raceOutcome{who: who, token: tok.AccessToken})
		}()
	}
	shared := newSource()
	for i := range r.shared {
		goroutine(fmt.Sprintf("goroutine %d on the shared Source", i), shared)
	}
	for i := range r.separate {
		goroutine(fmt.Sprintf("goroutine %d on its own Source", i), newSource())
	}
	startProcesses := func() {
		for i := range r.processes {
			who := fmt.Sprintf("tokctl process %d", i)
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, "token", "--home", f.home, "--profile", "default")
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := cmd.Wait()
				if err != nil || stderr.Len() > 0 {
					add(raceOutcome{who: who, fail: fmt.Sprintf("%v: %s", err, strings.TrimSpace(stderr.String()))})
					return
				}
				add(raceOutcome{who: who, token: strings.TrimSpace(stdout.String())})
			}()
		}
	}
	firstRequest := func() {
		deadline := time.Now().Add(10 * time.Second)
		for f.srv.Stats().TokenRequests == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	began := time.Now()
	if r.leader == "processes" && r.processes > 0 {
		startProcesses()
		firstRequest()
		close(start)
	} else {
		close(start)
		if r.shared+r.separate > 0 {
			firstRequest()
		}
		startProcesses()
	}
	if late := time.Since(began); late > raceLatency/2 {
		t.Logf("warning: starting every caller took %s, the race window is %s", late.Round(time.Millisecond), raceLatency)
	}
	wg.Wait()
	return outcomes, int(sent.Load())
}

// raceVerdict checks the promise and says what broke, naming the callers.
func raceVerdict(t *testing.T, f *fixture, old *creds.Credential, outcomes []raceOutcome, inProcess int) []string {
	t.Helper()
	var broken []string
	st := f.srv.Stats()
	if st.TokenRequests != 1 || st.Refreshes != 1 {
		broken = append(broken, fmt.Sprintf("token endpoint calls: %d (%d from this process's goroutines, %d from tokctl processes; %d succeeded), want 1",
			st.TokenRequests, inProcess, st.TokenRequests-inProcess, st.Refreshes))
	}
	if st.InvalidGrants != 0 || st.ReuseDetected != 0 || st.PresentedTwice != 0 {
		broken = append(broken, fmt.Sprintf("invalid_grant answers: %d, reuse detected: %d, refresh tokens presented twice: %d; want none",
			st.InvalidGrants, st.ReuseDetected, st.PresentedTwice))
	}
	if st.FamiliesRevoked != 0 {
		broken = append(broken, "the token family was revoked: the user is logged out")
	}
	stored, err := creds.NewFileStore(f.credPath()).Load()
	if err != nil {
		return append(broken, "stored credential: "+err.Error())
	}
	switch {
	case stored.RefreshToken == old.RefreshToken:
		broken = append(broken, "the stored refresh token is the old one, not the rotated one")
	case !f.srv.Active(stored.RefreshToken):
		broken = append(broken, "the stored refresh token is not the current one of a live family")
	}
	if stored.AccessToken == old.AccessToken || !f.srv.Active(stored.AccessToken) {
		broken = append(broken, "the stored access token is not a new, active one")
	}
	failed, wrong := map[string]int{}, map[string]int{}
	for _, o := range outcomes {
		side := strings.Fields(o.who)[0] // "goroutine" or "tokctl"
		switch {
		case o.fail != "":
			failed[side]++
			if failed[side] == 1 {
				broken = append(broken, o.who+" failed: "+o.fail)
			}
		case o.token != stored.AccessToken:
			wrong[side]++
			if wrong[side] == 1 {
				broken = append(broken, o.who+" got another access token than the stored one")
			}
		}
	}
	for _, side := range []string{"goroutine", "tokctl"} {
		if failed[side]+wrong[side] > 1 {
			broken = append(broken, fmt.Sprintf("%s callers in all: %d failed, %d got another token", side, failed[side], wrong[side]))
		}
	}
	return broken
}

// lockDisabledInThisBinary reports whether this test binary was built with -tags tokctl_nolock:
// then a second Acquire of a held lock file succeeds at once.
func lockDisabledInThisBinary(t *testing.T) bool {
	t.Helper()
	path := filepath.Join(t.TempDir(), "probe.lock")
	first, err := lockfile.Acquire(context.Background(), path, lockfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	second, err := lockfile.Acquire(ctx, path, lockfile.Options{})
	if err == nil {
		second.Release()
		return true
	}
	if !errors.Is(err, lockfile.ErrTimeout) {
		t.Fatal(err)
	}
	return false
}
