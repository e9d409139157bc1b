package commands_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

// The many-hosts burst: 8 hosts, each with its own TOKCTL_HOME and its own hostname (every
// process in a UTS namespace of its own), 25 "tokctl token" each, all started together on an
// expired credential in one Redis, against the strict provider with 1 s of latency. Starting 200
// Go processes takes a 2-core machine one to two seconds of CPU, so with 150 ms the holder could
// be done before most callers had read Redis (seen once at a load average of 86: no caller
// waited); 1 s keeps the race window open for the whole burst.
const (
	manyHosts        = 8
	manyHostsPerHost = 25
	manyHostsLatency = time.Second
)

type manyHostsOutcome struct {
	runs   []fleetRun
	stats  oauthtest.Stats
	stored *creds.Credential
	srv    *oauthtest.Server
	hosts  []*fleetHost
	names  []string
	took   time.Duration
}

func manyHostsBurst(t *testing.T, tags string) manyHostsOutcome {
	t.Helper()
	requireUTS(t)
	r := newTestRedis(t, randomPassword())
	audit := newFleetAudit(t, r.Password)
	bin := tokctlBinary(t, tags)
	srv := oauthtest.NewServer(oauthtest.Options{Latency: manyHostsLatency})
	t.Cleanup(srv.Close)
	o := manyHostsOutcome{srv: srv}
	for i := range manyHosts {
		o.hosts = append(o.hosts, newFleetHost(t, bin, r, srv, r.URL()))
		o.names = append(o.names, fmt.Sprintf("host-%d", i+1))
	}
	o.hosts[0].importFresh(srv, -time.Minute)
	for _, h := range o.hosts {
		h.clearEvents()
	}
	srv.ResetStats()
	start := time.Now()
	o.runs = fleetBurst(t, o.hosts, o.names, manyHostsPerHost, "token", "--profile", "work")
	o.took = time.Since(start)
	o.stats = srv.Stats()
	o.stored = storedCredential(t, r.Do)
	audit.redisValues(r.Do)
	audit.stderr(o.runs...)
	return o
}

// TestFleetManyHosts: 200 processes on 8 hosts find the shared credential expired at once.
// Exactly one request reaches the provider; all 200 print the token that is then stored, with
// nothing on stderr; no refresh token is presented twice; the family stays alive. The event logs
// prove the hosts were distinct: every record in host N's home was written by "host-N", and
// waiters on some host waited for a holder on another one (the holder's host comes from the
// lock's owner record in Redis).
func TestFleetManyHosts(t *testing.T) {
	o := manyHostsBurst(t, "")
	st := o.stats
	if broken := burstVerdict(callerResults(o.runs), st); len(broken) > 0 {
		t.Fatalf("the promise broke across %d hosts: %v (%s)\nfirst stderr: %s", manyHosts, broken, exitCounts(o.runs), firstStderr(callerResults(o.runs)))
	}
	if o.stored == nil {
		t.Fatal("no credential in Redis after the burst")
	}
	for _, r := range o.runs {
		if r.token() != o.stored.AccessToken {
			t.Fatalf("a caller on %s printed a token that is not the stored one", r.host)
		}
	}
	if !o.srv.Active(o.stored.RefreshToken) {
		t.Fatal("the stored refresh token is not active at the provider: the family is lost")
	}

	// The event logs: who refreshed, who waited for whom.
	var refresher string
	refreshes, waits, cross := 0, 0, 0
	waitedHosts, holderHosts := map[string]bool{}, map[string]bool{}
	outcomes := map[string]int{}
	for i, h := range o.hosts {
		for _, e := range h.events() {
			if e.Host != o.names[i] {
				t.Fatalf("host %s's event log has a record written by host %q: the processes did not have their own hostname", o.names[i], e.Host)
			}
			switch e.Kind {
			case "refresh":
				refreshes++
				refresher = e.Host
			case "lock_wait":
				waits++
				outcomes[e.Outcome]++
				if e.HolderHost == "" {
					continue
				}
				holderHosts[e.HolderHost] = true
				if !strings.HasPrefix(e.HolderHost, "host-") {
					t.Fatalf("a waiter on %s saw a holder on %q, not one of the simulated hosts", e.Host, e.HolderHost)
				}
				if e.HolderHost != e.Host {
					cross++
					waitedHosts[e.Host] = true
				}
			}
		}
	}
	if refreshes != 1 {
		t.Fatalf("%d refresh records in the event logs, want 1", refreshes)
	}
	if cross == 0 {
		t.Fatalf("no waiter waited for a holder on another host (%d lock waits): the burst did not exercise the lock across hosts", waits)
	}
	fleetLogf(t, "many hosts: %d hosts × %d = %d processes in %s: %d token request, %d refresh, %d presented twice, %d reuse detected, %d distinct token printed (the stored one), %d with stderr; family alive; max concurrent token requests %d",
		manyHosts, manyHostsPerHost, len(o.runs), ms(o.took), st.TokenRequests, st.Refreshes, st.PresentedTwice, st.ReuseDetected, 1, 0, st.MaxConcurrent)
	fleetLogf(t, "many hosts: refreshed on %s; %d lock waits (%v), %d of them on another host than the holder's, from %d hosts; holders seen: %v",
		refresher, waits, outcomes, cross, len(waitedHosts), sortedKeys(holderHosts))
}

// TestFleetManyHostsWithoutLockBreaks proves TestFleetManyHosts has teeth: the same burst with
// tokctl built without the fleet lock (-tags tokctl_nolock: Lock takes nothing in Redis, saves
// are not fenced) must break the promise.
func TestFleetManyHostsWithoutLockBreaks(t *testing.T) {
	o := manyHostsBurst(t, "tokctl_nolock")
	broken := burstVerdict(callerResults(o.runs), o.stats)
	if len(broken) == 0 {
		t.Fatal("200 processes on 8 hosts without the lock kept the promise: the many-hosts test cannot tell a lock from no lock")
	}
	familyAlive := o.stored != nil && o.srv.Active(o.stored.RefreshToken)
	printed, active := map[string]bool{}, 0
	for _, r := range o.runs {
		if r.code == 0 && !printed[r.token()] {
			printed[r.token()] = true
			if o.srv.Active(r.token()) {
				active++
			}
		}
	}
	fleetLogf(t, "many hosts without the lock (as expected, broken): %v; %d token requests, %d refreshes, %d presented twice, %d reuse detected, %d families revoked; outcomes %s; %d distinct tokens printed, %d of them still active at the provider; family alive: %v",
		broken, o.stats.TokenRequests, o.stats.Refreshes, o.stats.PresentedTwice, o.stats.ReuseDetected, o.stats.FamiliesRevoked, exitCounts(o.runs), len(printed), active, familyAlive)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
