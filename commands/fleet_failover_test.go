package commands_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
	"github.com/tokctl/tokctl/redistest"
)

// TestFleetSentinelFailover: a primary, a replica and three sentinels; three hosts whose profile
// names the sentinels (redis+sentinel://…, the password in TOKCTL_REDIS_PASSWORD). Bursts of
// 3 hosts × 10 "tokctl token" on an expired credential, round after round; in one round the
// primary is SIGKILLed while the provider holds the holder's refresh request. The lock was on
// the replica before the refresh started (WAIT), so the promoted replica refuses it to the
// others, and the holder's fenced save lands there: no second refresh, no reuse, nothing lost.
// No caller prints a token other than the one finally stored (or a still-valid older one);
// after recovery, a burst on the credential that survived the failover refreshes exactly once.
func TestFleetSentinelFailover(t *testing.T) {
	pw := randomPassword()
	f := redistest.NewFailover(t, redistest.FailoverOptions{Password: pw})
	audit := newFleetAudit(t, pw)
	bin := tokctlBinary(t, "")
	srv := oauthtest.NewServer(oauthtest.Options{Latency: 200 * time.Millisecond})
	t.Cleanup(srv.Close)
	primaryDo := func(args ...string) (any, error) {
		p, err := f.Primary()
		if err != nil {
			return nil, err
		}
		return p.Do(args...)
	}
	r := &testRedis{Password: pw}
	hosts := []*fleetHost{newFleetHost(t, bin, r, srv, f.URL()), newFleetHost(t, bin, r, srv, f.URL()), newFleetHost(t, bin, r, srv, f.URL())}

	var totals oauthtest.Stats
	lost := 0
	// round runs a burst on the stored (expired) credential, with during run once the holder's
	// request is at the provider, and checks what every caller printed.
	round := func(name string, during func()) ([]fleetRun, oauthtest.Stats) {
		t.Helper()
		srv.ResetStats()
		done := make(chan []fleetRun)
		go func() { done <- fleetBurst(t, hosts, nil, 10, "token", "--profile", "work") }()
		var extra []fleetRun
		if during != nil {
			waitFor(t, func() bool { return srv.Stats().TokenRequests >= 1 })
			extra = probeAfter(t, hosts, during)
		}
		runs := append(<-done, extra...)
		audit.stderr(runs...)
		st := srv.Stats()
		totals.TokenRequests += st.TokenRequests
		totals.Refreshes += st.Refreshes
		totals.ReuseDetected += st.ReuseDetected
		totals.PresentedTwice += st.PresentedTwice
		stored := storedCredential(t, primaryDo)
		audit.redisValues(primaryDo)
		isLost := stored == nil || !srv.Active(stored.RefreshToken)
		if isLost {
			lost++
		}
		withStderr, stderrs := 0, map[string]int{}
		for _, run := range runs {
			if run.stderr != "" {
				withStderr++
				stderrs[firstLine(run.stderr)]++
			}
			if run.code != 0 {
				continue
			}
			if tok := run.token(); stored == nil || tok != stored.AccessToken && !srv.Active(tok) {
				t.Errorf("round %s: a caller printed a token that is neither the stored one nor still valid", name)
			}
		}
		fleetLogf(t, "failover round %q: %d callers: %s, %d with stderr %v; provider %d token requests, %d refreshes, %d presented twice, %d reuse detected; credential lost: %v",
			name, len(runs), exitCounts(runs), withStderr, stderrs, st.TokenRequests, st.Refreshes, st.PresentedTwice, st.ReuseDetected, isLost)
		return runs, st
	}
	strict := func(name string, runs []fleetRun, st oauthtest.Stats) {
		t.Helper()
		if broken := burstVerdict(callerResults(runs), st); len(broken) > 0 {
			t.Fatalf("round %s: the promise broke: %v (%s)\n%s", name, broken, exitCounts(runs), firstStderr(callerResults(runs)))
		}
	}

	hosts[0].importFresh(srv, -time.Minute)
	runs, st := round("steady", nil)
	strict("steady", runs, st)

	hosts[0].importFresh(srv, -time.Minute)
	var killed, failedOver time.Time
	var old, promoted *redistest.Server
	runs, st = round("primary killed mid-refresh", func() {
		var err error
		if old, err = f.KillPrimary(); err != nil {
			t.Error(err)
			return
		}
		killed = time.Now()
		go func() {
			defer func() { failedOver = time.Now() }()
			if promoted, err = f.WaitFailover(old, 30*time.Second); err != nil {
				t.Error(err)
			}
		}()
	})
	if t.Failed() {
		t.FailNow()
	}
	waitFor(t, func() bool { return !failedOver.IsZero() })
	recovered := time.Duration(0)
	for _, run := range runs {
		if run.code == 0 && run.end.After(killed) && (recovered == 0 || run.end.Sub(killed) < recovered) {
			recovered = run.end.Sub(killed)
		}
	}
	if recovered == 0 {
		t.Fatal("no tokctl token succeeded after the primary was killed")
	}
	for _, run := range runs {
		if run.code != 0 {
			t.Fatalf("a caller during the failover: exit %d (callers wait through a Sentinel failover within their lock timeout)\n%s", run.code, run.stderr)
		}
	}
	if st.Refreshes != 1 || st.ReuseDetected != 0 || lost != 0 {
		t.Fatalf("the failover mid-refresh: %d refreshes, %d reuse detected, %d credentials lost; want 1, 0, 0", st.Refreshes, st.ReuseDetected, lost)
	}
	if v, err := promoted.Do("GET", fleetCredKey); err != nil || v == nil {
		t.Fatalf("the promoted primary has no credential: %v", err)
	}
	fleetLogf(t, "failover: primary %s killed while the provider held the holder's request; the sentinels agreed on %s %s later; first successful tokctl token %s after the kill",
		old.Addr(), promoted.Addr(), ms(failedOver.Sub(killed)), ms(recovered))

	// After recovery: the credential that survived, made to look expired, refreshes once.
	for i := range 2 {
		ageStored(t, primaryDo)
		name := []string{"after recovery", "after recovery, again"}[i]
		runs, st = round(name, nil)
		strict(name, runs, st)
	}
	fleetLogf(t, "failover: 4 rounds of 30 callers (+ probes): %d token requests, %d refreshes, %d presented twice, %d reuse detected, %d credentials lost",
		totals.TokenRequests, totals.Refreshes, totals.PresentedTwice, totals.ReuseDetected, lost)
}

// probeAfter runs during, then starts a "tokctl token" every 100 ms, one host after another,
// until one has succeeded (or 30 s passed), and returns how they all ended.
func probeAfter(t *testing.T, hosts []*fleetHost, during func()) []fleetRun {
	during()
	var (
		mu   sync.Mutex
		runs []fleetRun
		ok   bool
		wg   sync.WaitGroup
	)
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		mu.Lock()
		stop := ok
		mu.Unlock()
		if stop {
			break
		}
		p := hosts[i%len(hosts)].start("", nil, "token", "--profile", "work")
		wg.Add(1)
		go func() {
			defer wg.Done()
			run := p.wait()
			mu.Lock()
			defer mu.Unlock()
			runs = append(runs, run)
			ok = ok || run.code == 0
		}()
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	return runs
}

// ageStored rewrites the stored credential with an access token that expired a minute ago (the
// provider's token is unchanged), bumping the version as any save does.
func ageStored(t *testing.T, do redisDo) {
	t.Helper()
	c := storedCredential(t, do)
	if c == nil {
		t.Fatal("no credential to age")
	}
	c.Expiry = time.Now().Add(-time.Minute)
	data, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := do("SET", fleetCredKey, string(data)); err != nil {
		t.Fatal(err)
	}
	if _, err := do("INCR", fleetVersionKey); err != nil {
		t.Fatal(err)
	}
}
