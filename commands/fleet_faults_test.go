package commands_test

// Fleet faults, with real processes against a real redis-server, tokctl talking to it through
// redistest's fault proxy where the fault is on the network: a lock holder SIGKILLed
// mid-refresh, the connection cut or partitioned mid-refresh, Redis restarted mid-burst.

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
	"github.com/tokctl/tokctl/redistest"
)

// fleetLease is the short lease of the fault tests (the minimum a URL may ask for).
const fleetLease = 2 * time.Second

// waitLockHeld waits until someone holds profile "work"'s lock in Redis.
func waitLockHeld(t *testing.T, do redisDo) {
	t.Helper()
	waitFor(t, func() bool { v, err := do("EXISTS", fleetLockKey); return err == nil && v == int64(1) })
}

// TestFleetKilledHolderLeaseHandoff: the lock holder is SIGKILLed while the provider holds its
// refresh request. Nobody releases the lock; a waiter on another host takes it when the lease
// runs out — not before (it must not break a live lease), and not much after — and refreshes.
//
// What the strict provider says: the killed holder's request, held by the Slow fault, is
// dropped unprocessed when its connection dies with the process, so the refresh token it
// carried is still current; the waiter presents that same token (PresentedTwice = 1, the one
// window a lease cannot close: the provider, not tokctl, decides whether the dead holder's
// request counted) and the refresh succeeds: 1 refresh, no reuse, the family alive.
func TestFleetKilledHolderLeaseHandoff(t *testing.T) {
	r := newTestRedis(t, randomPassword())
	audit := newFleetAudit(t, r.Password)
	proxy := redistest.NewProxy(t, r.Addr)
	bin := tokctlBinary(t, "")
	srv := oauthtest.NewServer(oauthtest.Options{})
	t.Cleanup(srv.Close)
	url := proxy.URL(false) + "/0?lease=" + fleetLease.String()
	a, b, c := newFleetHost(t, bin, r, srv, url), newFleetHost(t, bin, r, srv, url), newFleetHost(t, bin, r, srv, url)
	a.importFresh(srv, -time.Minute)
	old := storedCredential(t, r.Do)
	audit.redisValues(r.Do)
	b.clearEvents()
	srv.ResetStats()
	srv.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: 20 * time.Second})

	holder := a.start("", nil, "token", "--profile", "work")
	waitFor(t, func() bool { return srv.Stats().TokenRequests == 1 }) // the holder is mid-refresh
	waiter := b.start("", nil, "token", "--profile", "work", "--lock-timeout", "15s")
	waitFor(t, func() bool { // the waiter is subscribed to the profile's channel: it waits
		v, err := r.Do("PUBSUB", "NUMSUB", fleetChannel)
		n, _ := v.([]any)
		return err == nil && len(n) == 2 && n[1] == int64(1)
	})
	pttlAt := time.Now()
	v, err := r.Do("PTTL", fleetLockKey)
	pttl, _ := v.(int64)
	if err != nil || pttl <= 0 {
		t.Fatalf("the holder's lock: PTTL %v %v", v, err)
	}
	leaseEnd := pttlAt.Add(time.Duration(pttl) * time.Millisecond)
	killed := time.Now()
	if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	hr := holder.wait()
	waitFor(t, func() bool { return srv.Stats().TokenRequests == 2 })
	reached := time.Now()
	wr := waiter.wait()
	audit.stderr(hr, wr)
	handoff := reached.Sub(killed)

	stored := storedCredential(t, r.Do)
	audit.redisValues(r.Do)
	st := srv.Stats()
	if wr.code != 0 || wr.stderr != "" || stored == nil || wr.token() != stored.AccessToken {
		t.Fatalf("the waiter: exit %d, stderr %q; want exit 0 and the stored token", wr.code, wr.stderr)
	}
	// The waiter's own account (its event log): when it had the lock, when its request left.
	var acquired, sent time.Time
	for _, e := range b.events() {
		switch {
		case e.Kind == "lock_wait" && e.Outcome == "acquired" && e.HolderPID == hr.pid:
			acquired = e.Time
		case e.Kind == "refresh" && e.Outcome == "success":
			sent = e.Time.Add(-time.Duration(e.DurationMS * float64(time.Millisecond)))
		}
	}
	if acquired.IsZero() || sent.IsZero() {
		t.Fatalf("the waiter's event log has no lock_wait acquired from the killed holder (pid %d) and refresh: %+v", hr.pid, b.events())
	}
	figures := fmt.Sprintf("lease %s; lock PTTL at the kill %d ms; kill → the waiter has the lock %s (PTTL + %s), → its request leaves %s, → reaches the provider %s (PTTL + %s); waiter done %s after the kill; load average %s",
		fleetLease, pttl, ms(acquired.Sub(killed)), ms(acquired.Sub(leaseEnd)), ms(sent.Sub(killed)), ms(handoff), ms(reached.Sub(leaseEnd)), ms(wr.end.Sub(killed)), loadAverage())
	if reached.Before(leaseEnd.Add(-25 * time.Millisecond)) {
		t.Fatalf("the waiter's refresh reached the provider %s before the dead holder's lease ran out: it broke a live lease (%s)", ms(leaseEnd.Sub(reached)), figures)
	}
	// A dead holder blocks the fleet for what is left of its lease, plus a waiter's poll
	// (≤ 250 ms) and its own lock, re-read, renewal and request.
	if bound := fleetLease + time.Second; handoff > bound {
		t.Fatalf("handoff (kill → the waiter's refresh at the provider) took %s, want ≤ lease + 1 s = %s (%s)", ms(handoff), ms(bound), figures)
	}
	if st.TokenRequests != 2 || st.Refreshes != 1 || st.PresentedTwice != 1 || st.ReuseDetected != 0 || st.FamiliesRevoked != 0 {
		t.Fatalf("provider: %+v; want 2 token requests (the killed holder's, dropped unprocessed, and the waiter's), 1 refresh, the old refresh token presented twice, no reuse detected, no family revoked", st)
	}
	if srv.Active(old.RefreshToken) || !srv.Active(stored.RefreshToken) {
		t.Fatalf("after the handoff: old refresh token active %v, stored one active %v; want false, true", srv.Active(old.RefreshToken), srv.Active(stored.RefreshToken))
	}
	if v, _ := r.Do("EXISTS", fleetLockKey); v != int64(0) {
		t.Fatal("the waiter did not release the lock")
	}
	if got := strings.TrimSpace(c.must("token", "--profile", "work")); got != stored.AccessToken {
		t.Fatal("a third host does not get the stored token")
	}
	fleetLogf(t, "killed holder: %s", figures)
	fleetLogf(t, "killed holder: provider %d token requests, %d refresh, %d presented twice (the dead holder's request was dropped unprocessed; the waiter re-sent its refresh token), %d reuse detected, %d families revoked; family alive; waiter exit %d, holder exit %d (SIGKILL)",
		st.TokenRequests, st.Refreshes, st.PresentedTwice, st.ReuseDetected, st.FamiliesRevoked, wr.code, hr.code)
}

// partitionFixture is a fleet where host A reaches Redis through the fault proxy and hosts B
// and C directly, with the short lease, on an expired credential.
type partitionFixture struct {
	r       *testRedis
	proxy   *redistest.Proxy
	srv     *oauthtest.Server
	audit   *fleetAudit
	a, b, c *fleetHost
	old     string // the stored credential's refresh token before the refresh
	version string // and its version
}

func newPartitionFixture(t *testing.T, tags string) *partitionFixture {
	t.Helper()
	f := &partitionFixture{r: newTestRedis(t, randomPassword())}
	f.audit = newFleetAudit(t, f.r.Password)
	f.proxy = redistest.NewProxy(t, f.r.Addr)
	bin := tokctlBinary(t, tags)
	f.srv = oauthtest.NewServer(oauthtest.Options{})
	t.Cleanup(f.srv.Close)
	lease := "?lease=" + fleetLease.String()
	f.a = newFleetHost(t, bin, f.r, f.srv, f.proxy.URL(false)+"/0"+lease)
	f.b = newFleetHost(t, bin, f.r, f.srv, f.r.URL()+lease)
	f.c = newFleetHost(t, bin, f.r, f.srv, f.r.URL()+lease)
	f.b.importFresh(f.srv, -time.Minute)
	f.old, f.version = storedCredential(t, f.r.Do).RefreshToken, storedVersion(t, f.r.Do)
	f.audit.redisValues(f.r.Do)
	f.srv.ResetStats()
	return f
}

// TestFleetConnectionCutMidRefresh: the holder's connection to Redis fails while the provider
// holds its refresh request (the provider then rotates the refresh token and answers).
//
//   - cut: the connections are reset, new ones get through. The holder saves on a new
//     connection within its lease: exit 0, one refresh, the family alive.
//   - partition: every byte is held (Block) until the holder's lease has run out in Redis; its
//     fenced save, already sent, reaches Redis only then and is refused: the holder exits 5 and
//     writes nothing, whether or not a newer credential was stored meanwhile. The refresh token
//     the provider rotated for it is lost with it — the one window no lock can close: with a
//     new login meanwhile ("then-login") nothing is lost that matters; with nobody stepping
//     in ("then-nobody") the next caller presents the rotated-away token, the provider detects
//     reuse and revokes the family, and every host is asked to log in (exit 3), with one
//     request in all.
func TestFleetConnectionCutMidRefresh(t *testing.T) {
	t.Run("cut", func(t *testing.T) {
		f := newPartitionFixture(t, "")
		f.srv.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: 500 * time.Millisecond})
		holder := f.a.start("", nil, "token", "--profile", "work")
		waitFor(t, func() bool { return f.srv.Stats().TokenRequests == 1 })
		before := f.proxy.Accepted()
		f.proxy.Cut()
		cut := time.Now()
		hr := holder.wait()
		f.audit.stderr(hr)
		stored := storedCredential(t, f.r.Do)
		f.audit.redisValues(f.r.Do)
		st := f.srv.Stats()
		if hr.code != 0 || hr.stderr != "" || hr.token() != stored.AccessToken {
			t.Fatalf("holder after a cut: exit %d, stderr %q; want exit 0 and the stored token", hr.code, hr.stderr)
		}
		if st.Refreshes != 1 || st.PresentedTwice != 0 || !f.srv.Active(stored.RefreshToken) {
			t.Fatalf("provider after a cut: %+v, stored refresh token active %v", st, f.srv.Active(stored.RefreshToken))
		}
		fleetLogf(t, "cut mid-refresh: holder exit 0 %s after the cut, saved on a new connection (%d new connections through the proxy); %d refresh, %d presented twice, family alive; version %s → %s",
			ms(hr.end.Sub(cut)), f.proxy.Accepted()-before, st.Refreshes, st.PresentedTwice, f.version, storedVersion(t, f.r.Do))
	})
	for _, newLogin := range []bool{true, false} {
		name := "partition-then-nobody"
		if newLogin {
			name = "partition-then-login"
		}
		t.Run(name, func(t *testing.T) { partitionMidRefresh(t, newLogin, "") })
	}
	// Teeth: built without the lock and the fence, the same partition lets the holder's late
	// save land over the login stored meanwhile.
	t.Run("partition-then-login-without-fence", func(t *testing.T) { partitionMidRefresh(t, true, "tokctl_nolock") })
}

func partitionMidRefresh(t *testing.T, newLogin bool, tags string) {
	f := newPartitionFixture(t, tags)
	// The provider answers after 500 ms: before the holder's first renewal (lease/3), so its
	// fenced save is the next command on its connection, sent into the partition and waiting
	// there for its reply until the 3 s I/O timeout — long after the 2 s lease has run out.
	f.srv.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: 500 * time.Millisecond})
	holder := f.a.start("", nil, "token", "--profile", "work")
	waitFor(t, func() bool { return f.srv.Stats().TokenRequests == 1 })
	f.proxy.Block()
	blocked := time.Now()
	waitFor(t, func() bool { return f.srv.Stats().Refreshes == 1 }) // rotated: the answer is on its way to A
	rotated := time.Now()
	want := storedCredential(t, f.r.Do)
	var login *fleetProc
	if newLogin { // a new login on B, started now: it waits for the lock, taking it when A's lease runs out
		path, _ := f.b.freshResponse(f.srv, time.Hour)
		login = f.b.start("", nil, "import", "--profile", "work", path)
	}
	waitFor(t, func() bool { v, err := f.r.Do("EXISTS", fleetLockKey); return err == nil && v == int64(0) })
	expired := time.Now()
	if newLogin {
		if run := login.wait(); run.code != 0 {
			t.Fatalf("the new login during the partition: exit %d\n%s", run.code, run.stderr)
		}
		want = storedCredential(t, f.r.Do)
		f.audit.redisValues(f.r.Do)
	}
	wantVersion := storedVersion(t, f.r.Do)
	if _, err := f.r.Do("CONFIG", "RESETSTAT"); err != nil {
		t.Fatal(err)
	}
	if !alive(holder.run.pid) {
		t.Fatal("the holder ended before the partition healed")
	}
	f.proxy.Unblock()
	healed := time.Now()
	hr := holder.wait()
	f.audit.stderr(hr)
	stats := commandStats(t, f.r)
	stored := storedCredential(t, f.r.Do)
	st := f.srv.Stats()
	if tags != "" {
		if stored == nil || stored.AccessToken == want.AccessToken {
			t.Fatalf("built without the fence, the partitioned holder's late save did not land (exit %d): the partition test cannot tell a fenced save from an unfenced one\n%s", hr.code, hr.stderr)
		}
		fleetLogf(t, "partition without the fence (-tags tokctl_nolock; as expected, broken): the holder's late save landed when the partition healed and overwrote the login stored meanwhile; holder exit %d %s after healing, printed the token now stored: %v; Redis ran %v after healing",
			hr.code, ms(hr.end.Sub(healed)), hr.token() == stored.AccessToken, stats)
		return
	}

	if hr.code != 5 || hr.stdout != "" {
		t.Fatalf("the partitioned holder: exit %d, stdout %q; want exit 5 and no token\n%s", hr.code, hr.stdout, hr.stderr)
	}
	if !strings.Contains(hr.stderr, "ran out and another host may hold the lock") || !strings.Contains(hr.stderr, "lost the fleet lock") {
		t.Fatalf("the holder's save was not refused by the fence (it should reach Redis after the lease ran out); stderr:\n%s", hr.stderr)
	}
	if stored == nil || stored.AccessToken != want.AccessToken || stored.RefreshToken != want.RefreshToken || storedVersion(t, f.r.Do) != wantVersion {
		t.Fatal("the partitioned holder's late save changed the stored credential")
	}
	if stats["evalsha"]+stats["eval"] == 0 {
		t.Fatalf("none of the holder's delayed scripts reached Redis after the partition (%v): the fence was not exercised", stats)
	}
	if stats["set"] != 0 || stats["incr"] != 0 {
		t.Fatalf("after the partition healed Redis ran %v: something was written", stats)
	}
	fleetLogf(t, "partition mid-refresh: blocked %s after the holder started (its request held by the provider); the provider rotated %s after the block; the lease ran out in Redis %s after the block; healed %s after the block; holder exit %d %s after healing (fenced: its save reached Redis late and was refused); Redis ran %v after healing, no write",
		ms(blocked.Sub(hr.start)), ms(rotated.Sub(blocked)), ms(expired.Sub(blocked)), ms(healed.Sub(blocked)), hr.code, ms(hr.end.Sub(healed)), stats)

	if newLogin {
		if got := strings.TrimSpace(f.c.must("token", "--profile", "work")); got != want.AccessToken {
			t.Fatal("after the partition, another host does not get the newly logged-in token")
		}
		st = f.srv.Stats()
		if st.Refreshes != 1 || st.ReuseDetected != 0 || f.srv.Active(f.old) || !f.srv.Active(want.RefreshToken) {
			t.Fatalf("provider: %+v; old refresh token active %v, new login's active %v", st, f.srv.Active(f.old), f.srv.Active(want.RefreshToken))
		}
		fleetLogf(t, "partition then login: the old family's rotated refresh token was lost with the holder (%d refresh, old token rotated away, its successor never stored); the newer credential stored meanwhile (version %s) was kept and serves the fleet; %d reuse detected, new family alive",
			st.Refreshes, wantVersion, st.ReuseDetected)
		return
	}
	// Nobody stepped in: the store still holds the refresh token the provider rotated away.
	if stored.RefreshToken != f.old {
		t.Fatal("the stored refresh token changed")
	}
	f.srv.ResetStats()
	runs := fleetBurst(t, []*fleetHost{f.b, f.c}, nil, 4, "token", "--profile", "work")
	f.audit.stderr(runs...)
	f.audit.redisValues(f.r.Do)
	after := f.srv.Stats()
	for _, r := range runs {
		if r.code != 3 || r.stdout != "" {
			t.Fatalf("a caller after the lost rotation: exit %d, stdout %q; want exit 3 (log in)\n%s", r.code, r.stdout, r.stderr)
		}
	}
	if after.TokenRequests != 1 || after.ReuseDetected != 1 || after.FamiliesRevoked != 1 {
		t.Fatalf("provider after the lost rotation: %+v; want 1 request, reuse detected once, the family revoked", after)
	}
	fleetLogf(t, "partition then nobody: the holder's refresh (%d) rotated the stored refresh token away and the successor was lost with the holder; the next burst of %d callers on 2 hosts: %s, %d token request, %d reuse detected, %d family revoked (family lost: a login is required)",
		st.Refreshes, len(runs), exitCounts(runs), after.TokenRequests, after.ReuseDetected, after.FamiliesRevoked)
}

// TestFleetRedisRestartDuringBurst: Redis (append-only file, an fsync per write) is killed
// while a burst waits for a holder whose refresh the provider holds, callers arrive while it
// is down, and it comes back on the same port. Every caller either prints the token finally
// stored or exits 5 with the "unreachable" hint — none prints anything else; the waiters ride
// out the restart; the lock survived it (no second refresh), and so did the credential.
func TestFleetRedisRestartDuringBurst(t *testing.T) {
	pw := randomPassword()
	s := redistest.NewServer(t, redistest.Options{Password: pw, AppendOnly: true})
	r := &testRedis{Addr: s.Addr(), Password: pw, srv: s}
	audit := newFleetAudit(t, pw)
	proxy := redistest.NewProxy(t, s.Addr())
	bin := tokctlBinary(t, "")
	srv := oauthtest.NewServer(oauthtest.Options{Latency: 3 * time.Second}) // room for every waiter to subscribe, under load too
	t.Cleanup(srv.Close)
	url := proxy.URL(false) + "/0"
	hosts := []*fleetHost{newFleetHost(t, bin, r, srv, url), newFleetHost(t, bin, r, srv, url), newFleetHost(t, bin, r, srv, url)}
	hosts[0].importFresh(srv, -time.Minute)
	version := storedVersion(t, r.Do)
	audit.redisValues(r.Do)
	srv.ResetStats()

	burst := make(chan []fleetRun)
	go func() { burst <- fleetBurst(t, hosts, nil, 8, "token", "--profile", "work") }()
	waitFor(t, func() bool { return srv.Stats().TokenRequests == 1 }) // the holder is mid-refresh
	waitFor(t, func() bool {                                          // and the 23 others have read the credential and wait for the lock
		v, err := r.Do("PUBSUB", "NUMSUB", fleetChannel)
		n, _ := v.([]any)
		return err == nil && len(n) == 2 && n[1] == int64(3*8-1)
	})
	killed := time.Now()
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	var outage []*fleetProc // callers that start while Redis is down
	for _, h := range hosts {
		outage = append(outage, h.start("", nil, "token", "--profile", "work"), h.start("", nil, "token", "--profile", "work"))
	}
	outageRuns := make(chan fleetRun, len(outage)) // reaped as they end, for their end times
	for _, p := range outage {
		go func() { outageRuns <- p.wait() }()
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	runs := <-burst
	for range outage {
		runs = append(runs, <-outageRuns)
	}
	audit.stderr(runs...)
	stored := storedCredential(t, r.Do)
	audit.redisValues(r.Do)
	st := srv.Stats()
	if stored == nil {
		t.Fatal("the credential did not survive the restart")
	}
	ok, unavailable, burstOK := 0, 0, 0
	var lastFail time.Duration
	message := ""
	for i, run := range runs {
		switch {
		case run.code == 0 && run.token() == stored.AccessToken && run.stderr == "":
			ok++
			if i < len(runs)-len(outage) {
				burstOK++
			}
		case run.code == 5 && run.stdout == "" && strings.Contains(run.stderr, "is unreachable: check it is running") && !strings.Contains(run.stderr, "panic"):
			unavailable++
			lastFail = max(lastFail, run.end.Sub(killed))
			message = run.stderr
		default:
			t.Fatalf("a caller around the restart: exit %d, printed the stored token: %v, stderr:\n%s", run.code, run.token() == stored.AccessToken, run.stderr)
		}
	}
	if st.TokenRequests != 1 || st.Refreshes != 1 || st.PresentedTwice != 0 || st.ReuseDetected != 0 {
		t.Fatalf("provider: %+v; want one request, one refresh: the lock and the credential survive a restart with the append-only file", st)
	}
	if !srv.Active(stored.RefreshToken) {
		t.Fatal("the stored refresh token is not active: the family is lost")
	}
	if burst := len(runs) - len(outage); burstOK != burst {
		// Every burst caller had read the credential and was waiting (subscribed) when Redis
		// went down: a waiter rides out an outage shorter than the lease.
		t.Fatalf("%d of the %d burst callers printed the token; waiters must ride out a %s restart", burstOK, burst, ms(up.Sub(killed)))
	}
	got := storedVersion(t, r.Do)
	if got == version {
		t.Fatal("the refresh was not saved")
	}
	if tok := strings.TrimSpace(hosts[2].must("token", "--profile", "work")); tok != stored.AccessToken {
		t.Fatal("after the restart a host does not get the stored token")
	}
	fleetLogf(t, "redis restart mid-burst: down %s (kill → answering again), %d callers (24 in the burst, 6 started while down): %d printed the stored token, %d exit 5 with the unreachable hint, 0 other; provider %d token request, %d refresh, %d presented twice, %d reuse; credential survived (version %s → %s), family alive",
		ms(up.Sub(killed)), len(runs), ok, unavailable, st.TokenRequests, st.Refreshes, st.PresentedTwice, st.ReuseDetected, version, got)
	fleetLogf(t, "redis restart mid-burst: %d of the %d burst callers (all waiting for the lock when it went down) rode out the restart; the last exit 5 came %s after the kill; the message:\n%s", burstOK, len(runs)-len(outage), ms(lastFail), message)
}

// loadAverage is the machine's 1-minute load average, for figures measured under load.
func loadAverage() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// alive reports whether process pid is running (not gone, not a zombie).
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}
