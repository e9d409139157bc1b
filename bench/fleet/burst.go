package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tokctl/tokctl/bench/internal/measure"
	"github.com/tokctl/tokctl/eventlog"
	"github.com/tokctl/tokctl/oauthtest"
)

// The expired burst: 8 hosts × 25 callers on the Redis store vs 200 callers on one host's file
// store, the provider adding 50 ms to each token request (as bench's scenario 3).
const (
	burstHosts   = 8
	burstPerHost = 25
	burstLatency = 50 * time.Millisecond
)

// burstSide is what one side of a pair did.
type burstSide struct {
	wall, spawn         time.Duration
	cpu                 time.Duration // the callers' user+sys CPU time, summed (wrappers included)
	redisCPU            time.Duration // redis-server's user+sys CPU time during the burst
	commands            string        // Redis commands per caller (Redis side)
	calls, refreshes    int
	presentedTwice      int
	failed, wrong, dist int
	crossHostWaits      int            // lock_wait records whose holder was on another host (Redis side)
	waits               int            // lock_wait records
	acquiredAfterWait   int            // lock_wait records "acquired": a caller waited, then took the lock itself
	waited              measure.Sample // the lock_wait records' durations
	firstErr            string
}

// expiredBurst is scenario b.
func (f *fleet) expiredBurst() error {
	srv := oauthtest.NewServer(oauthtest.Options{Latency: burstLatency})
	defer srv.Close()
	var hosts []*home
	for i := range burstHosts {
		h, err := f.newHome(fmt.Sprintf("burst-host-%d", i+1), srv.TokenURL(), f.redisURL(""))
		if err != nil {
			return err
		}
		hosts = append(hosts, h)
	}
	fileHome, err := f.newHome("burst-file", srv.TokenURL(), "")
	if err != nil {
		return err
	}
	n := burstHosts * burstPerHost

	redisSide := func() (burstSide, error) {
		if _, err := hosts[0].put(srv, -time.Minute); err != nil {
			return burstSide{}, err
		}
		for _, h := range hosts {
			os.Remove(filepath.Join(h.dir, eventlog.FileName))
		}
		gateR, gateW, err := os.Pipe()
		if err != nil {
			return burstSide{}, err
		}
		procs := make([]*proc, 0, n)
		for i := range n { // host by host in turn
			h := i % burstHosts
			procs = append(procs, f.newGatedProc(fmt.Sprintf("host-%d", h+1), gateR, f.tokctl, hosts[h].args()...))
		}
		before, err := f.commandStats()
		if err != nil {
			return burstSide{}, err
		}
		s, err := f.judgeBurst(procs, gateR, gateW, srv, hosts[0])
		if err != nil {
			return s, err
		}
		after, err := f.commandStats()
		if err != nil {
			return burstSide{}, err
		}
		s.commands = perCall(before, after, n)
		for _, h := range hosts {
			for _, r := range readEvents(h.dir) {
				if r.Kind == "lock_wait" {
					s.waits++
					s.acquiredAfterWait += measure.Btoi(r.Outcome == "acquired")
					s.waited = append(s.waited, time.Duration(r.DurationMS*float64(time.Millisecond)))
					if r.HolderHost != "" && r.HolderHost != r.Host {
						s.crossHostWaits++
					}
				}
			}
		}
		return s, nil
	}
	fileSide := func() (burstSide, error) {
		if _, err := fileHome.put(srv, -time.Minute); err != nil {
			return burstSide{}, err
		}
		os.Remove(filepath.Join(fileHome.dir, eventlog.FileName))
		gateR, gateW, err := os.Pipe()
		if err != nil {
			return burstSide{}, err
		}
		procs := make([]*proc, 0, n)
		for range n { // the same wrapper as the Redis side, one hostname: one host
			procs = append(procs, f.newGatedProc("host-1", gateR, f.tokctl, fileHome.args()...))
		}
		s, err := f.judgeBurst(procs, gateR, gateW, srv, fileHome)
		for _, r := range readEvents(fileHome.dir) {
			if r.Kind == "lock_wait" {
				s.waits++
				s.acquiredAfterWait += measure.Btoi(r.Outcome == "acquired")
				s.waited = append(s.waited, time.Duration(r.DurationMS*float64(time.Millisecond)))
			}
		}
		return s, err
	}

	var p measure.Pairs
	var rs, fs []burstSide
	for i := range f.n.burstWarm + f.n.burstPairs {
		var r, fl burstSide
		var err error
		if i%2 == 0 {
			if r, err = redisSide(); err == nil {
				fl, err = fileSide()
			}
		} else {
			if fl, err = fileSide(); err == nil {
				r, err = redisSide()
			}
		}
		if err != nil {
			return fmt.Errorf("expired burst: %w", err)
		}
		if i < f.n.burstWarm {
			continue
		}
		p.Add(r.wall, fl.wall)
		rs, fs = append(rs, r), append(fs, fl)
	}
	o := &f.out
	pick := func(ss []burstSide, g func(burstSide) int) []int {
		var out []int
		for _, s := range ss {
			out = append(out, g(s))
		}
		return out
	}
	for _, side := range []struct {
		name string
		ss   []burstSide
	}{{"Redis, 8 hosts", rs}, {"file, 1 host", fs}} {
		o.checkAll("b. expired burst ("+side.name+"): token-endpoint calls per burst", pick(side.ss, func(s burstSide) int { return s.calls }), 1)
		o.checkAll("b. expired burst ("+side.name+"): refreshes performed per burst", pick(side.ss, func(s burstSide) int { return s.refreshes }), 1)
		o.checkAll("b. expired burst ("+side.name+"): refresh tokens presented twice", pick(side.ss, func(s burstSide) int { return s.presentedTwice }), 0)
		o.checkAll("b. expired burst ("+side.name+"): failed callers (exit ≠ 0 or stderr)", pick(side.ss, func(s burstSide) int { return s.failed }), 0)
		o.checkAll("b. expired burst ("+side.name+"): callers printing another token than the stored one", pick(side.ss, func(s burstSide) int { return s.wrong }), 0)
		o.checkAll("b. expired burst ("+side.name+"): distinct tokens printed", pick(side.ss, func(s burstSide) int { return s.dist }), 1)
		for _, s := range side.ss {
			if s.firstErr != "" {
				o.notef("b. expired burst (%s): first failure: %s", side.name, s.firstErr)
				break
			}
		}
	}
	d := p.Diffs()
	o.rows = append(o.rows, row{
		scenario: fmt.Sprintf("b. expired burst: %d `tokctl token` on %d hosts × %d (Redis) vs %d on one host's file store, released together by a start gate, provider latency %s, burst wall (%s)", n, burstHosts, burstPerHost, n, burstLatency, measure.Plural(len(p.A), "pair")),
		measured: "Redis " + p.A.MedP90(),
		baseline: "file " + p.B.MedP90(),
		ratio:    fmt.Sprintf("difference %s (p90 %s); %s", measure.Ms(d.Median()), measure.Ms(d.Pct(90)), p.RatioText()),
	})
	var waits, cross []int
	for _, s := range rs {
		waits, cross = append(waits, s.waits), append(cross, s.crossHostWaits)
	}
	var rcpu, fcpu, rsrv, fsrv measure.Sample
	for i := range rs {
		rcpu, fcpu = append(rcpu, rs[i].cpu), append(fcpu, fs[i].cpu)
		rsrv, fsrv = append(rsrv, rs[i].redisCPU), append(fsrv, fs[i].redisCPU)
	}
	cp := measure.Pairs{A: rcpu, B: fcpu}
	o.notef("b. expired burst, where the time goes: CPU time (user+sys) of the 200 callers per burst, summed, Redis %s vs file %s (%s); redis-server's own CPU time during the burst %s (during the file side's burst: %s). With 2 CPUs, the callers' CPU time bounds the wall from below.",
		rcpu.MedP90(), fcpu.MedP90(), cp.RatioText(), rsrv.MedP90(), fsrv.MedP90())
	var perBurst []string
	for i := range rs {
		perBurst = append(perBurst, fmt.Sprintf("%s/%d/%s/%d vs %s/%d/%s/%d", measure.Ms(rs[i].wall), rs[i].waits, measure.Ms(rs[i].waited.Median()), rs[i].acquiredAfterWait,
			measure.Ms(fs[i].wall), fs[i].waits, measure.Ms(fs[i].waited.Median()), fs[i].acquiredAfterWait))
	}
	o.notef("b. expired burst, pair by pair, Redis vs file: wall / callers that waited for the lock (lock_wait records in the event logs) / their median wait / those that then took the lock themselves (each re-read the credential under the lock, found it refreshed and released it): %s.", strings.Join(perBurst, "; "))
	var cmds []string
	for _, s := range rs {
		cmds = append(cmds, s.commands)
	}
	o.notef("b. expired burst, Redis side: Redis commands per caller, burst by burst (INFO commandstats; the harness's own SET of the expired credential and INFO included): %s.", strings.Join(cmds, " | "))
	var spawns measure.Sample
	for _, s := range append(append([]burstSide{}, rs...), fs...) {
		spawns = append(spawns, s.spawn)
	}
	o.notef("b. expired burst: each burst stores a new login whose access token expired a minute ago, starts all %d callers behind a start gate (`unshare -u sh -c 'hostname \"$0\" || exit 97; read -r _; exec \"$@\"' host-N tokctl token …`, standard input a pipe; Redis side: host-1, host-2, … host-8, host-1, … in turn; file side: all host-1), then opens the gate: every caller becomes tokctl at once and finds the token expired. Wall = the gate's opening to the last process reaped (starting the %d wrappers before it took %s, p90 %s, not counted). Both sides pay the same wrapper and exec, so the difference is the store's; %s discarded.",
		n, n, measure.Ms(spawns.Median()), measure.Ms(spawns.Pct(90)), measure.Plural(f.n.burstWarm, "warm-up pair"))
	o.notef("b. expired burst, Redis side: lock_wait records in the 8 hosts' event logs per burst %s; of those, waits for a holder on another host %s (the holder's host is read from the lock's owner record in Redis: the hosts were distinct).",
		compact(itoaAll(waits)), compact(itoaAll(cross)))
	return nil
}

// judgeBurst runs procs and says what the callers and the provider did; want's store is read
// back after the burst.
func (f *fleet) judgeBurst(procs []*proc, gateR, gateW *os.File, srv *oauthtest.Server, h *home) (burstSide, error) {
	cpu0, err := f.redisCPU()
	if err != nil {
		return burstSide{}, err
	}
	wall, spawn, res, err := gatedBurst(procs, gateR, gateW)
	if err != nil {
		return burstSide{}, err
	}
	cpu1, err := f.redisCPU()
	if err != nil {
		return burstSide{}, err
	}
	var cpu time.Duration
	for _, r := range res {
		cpu += r.CPU
	}
	st := srv.Stats()
	stored, err := h.store.Load()
	if err != nil {
		return burstSide{}, fmt.Errorf("read the credential back: %w", err)
	}
	t := measure.TallyTokens(res, stored.AccessToken)
	return burstSide{wall: wall, spawn: spawn, cpu: cpu, redisCPU: cpu1 - cpu0, calls: st.TokenRequests, refreshes: st.Refreshes, presentedTwice: st.PresentedTwice,
		failed: t.Failed, wrong: t.Wrong, dist: t.Distinct, firstErr: t.FirstErr}, nil
}

// redisCPU is redis-server's user+sys CPU time so far (INFO cpu).
func (f *fleet) redisCPU() (time.Duration, error) {
	info, err := f.redis.Info("cpu")
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, k := range []string{"used_cpu_user", "used_cpu_sys"} {
		v, err := strconv.ParseFloat(info[k], 64)
		if err != nil {
			return 0, fmt.Errorf("INFO cpu %s: %q", k, info[k])
		}
		sum += v
	}
	return time.Duration(sum * float64(time.Second)), nil
}

// readEvents returns the records of a home's event log.
func readEvents(dir string) []eventlog.Record {
	fh, err := os.Open(filepath.Join(dir, eventlog.FileName))
	if err != nil {
		return nil
	}
	defer fh.Close()
	var out []eventlog.Record
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var r eventlog.Record
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

func itoaAll(xs []int) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprint(x)
	}
	return out
}
