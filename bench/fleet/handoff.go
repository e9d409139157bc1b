package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/tokctl/tokctl/bench/internal/measure"
	"github.com/tokctl/tokctl/oauthtest"
	"github.com/tokctl/tokctl/redisstore"
)

// handoff is scenario c: the lock holder on host A is mid-refresh (the provider holds its
// request: fault Slow), a waiter on host B waits for the lock, the holder is SIGKILLed; measured
// is kill → the waiter's token request at the provider. Nobody releases a dead holder's lock in
// Redis: it lasts until its lease runs out, which bounds the handoff by design.
func (f *fleet) handoff() error {
	arrivals, err := measure.ListenArrivals()
	if err != nil {
		return err
	}
	srv, err := oauthtest.Serve(context.Background(), arrivals, oauthtest.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	for _, c := range []struct {
		query string
		lease time.Duration
		iters int
	}{{"", redisstore.DefaultLease, f.n.handoff10}, {"?lease=2s", 2 * time.Second, f.n.handoff2}} {
		if c.iters == 0 {
			f.out.notef("c. handoff with the default lease (%s): not run in -quick mode (each iteration waits out the lease).", c.lease)
			continue
		}
		if err := f.handoffWith(srv, arrivals, c.query, c.lease, c.iters); err != nil {
			return err
		}
	}
	return nil
}

func (f *fleet) handoffWith(srv *oauthtest.Server, arrivals *measure.ArrivalListener, query string, lease time.Duration, iters int) error {
	url := f.redisURL(query)
	name := "lease" + strings.TrimPrefix(query, "?lease=")
	a, err := f.newHome("handoff-a-"+name, srv.TokenURL(), url)
	if err != nil {
		return err
	}
	b, err := f.newHome("handoff-b-"+name, srv.TokenURL(), url)
	if err != nil {
		return err
	}
	lockTimeout := 3 * lease
	var toRequest, pttls, over, toDone measure.Sample
	var early, missing, waiterBad, refreshes, twice, lockLeft []int
	for range iters {
		arrivals.Drain()
		if _, err := a.put(srv, -time.Minute); err != nil {
			return err
		}
		srv.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: 5 * time.Minute})
		holder := f.newProc("host-a", f.tokctl, a.args()...)
		if err := holder.cmd.Start(); err != nil {
			return err
		}
		stop := func(p *proc) { p.cmd.Process.Kill(); p.cmd.Wait() }
		if _, err := arrivals.Next(15 * time.Second); err != nil {
			stop(holder)
			return fmt.Errorf("handoff: the holder never reached the provider: %w", err)
		}
		waiter := f.newProc("host-b", f.tokctl, b.args("--lock-timeout", lockTimeout.String())...)
		if err := waiter.cmd.Start(); err != nil {
			stop(holder)
			return err
		}
		if err := f.waitSubscribed(10 * time.Second); err != nil { // the waiter waits on the channel
			stop(holder)
			stop(waiter)
			return fmt.Errorf("handoff: %w", err)
		}
		select {
		case <-arrivals.Arrivals:
			early = append(early, 1)
		default:
			early = append(early, 0)
		}
		v, err := f.redis.Do("PTTL", "tokctl:{"+profile+"}:lock")
		pttlAt := time.Now()
		pttl, _ := v.(int64)
		if err != nil || pttl <= 0 {
			stop(holder)
			stop(waiter)
			return fmt.Errorf("handoff: the holder's lock: PTTL %v %v", v, err)
		}
		killed := time.Now()
		if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			stop(waiter)
			return fmt.Errorf("handoff: kill the holder: %w", err)
		}
		arrived, arrErr := arrivals.Next(lease + 15*time.Second)
		holder.wait()
		wr, err := waiter.wait()
		done := time.Since(killed)
		if err != nil {
			return err
		}
		missing = append(missing, measure.Btoi(arrErr != nil))
		if arrErr == nil {
			leaseEnd := pttlAt.Add(time.Duration(pttl) * time.Millisecond)
			toRequest = append(toRequest, arrived.Sub(killed))
			pttls = append(pttls, leaseEnd.Sub(killed))
			over = append(over, arrived.Sub(leaseEnd))
			toDone = append(toDone, done)
		} else {
			f.out.notef("c. handoff (lease %s): no token request after the kill (waiter exit %d, stderr %q)", lease, wr.Code, strings.TrimSpace(wr.Stderr))
		}
		stored, err := a.store.Load()
		ok := err == nil && wr.Code == 0 && wr.Stderr == "" && wr.Stdout == stored.AccessToken+"\n"
		waiterBad = append(waiterBad, measure.Btoi(!ok))
		st := srv.Stats()
		refreshes, twice = append(refreshes, st.Refreshes), append(twice, st.PresentedTwice)
		v, err = f.redis.Do("EXISTS", "tokctl:{"+profile+"}:lock")
		lockLeft = append(lockLeft, measure.Btoi(err != nil || v != int64(0)))
	}
	o := &f.out
	tag := fmt.Sprintf("c. handoff (lease %s)", lease)
	o.checkAll(tag+": waiter requests before the holder was killed", early, 0)
	o.checkAll(tag+": no waiter request at the provider after the kill", missing, 0)
	o.checkAll(tag+": waiter failed or printed a token that is not the stored one", waiterBad, 0)
	o.checkAll(tag+": refreshes performed (the killed holder's request is dropped unprocessed)", refreshes, 1)
	o.checkAll(tag+": refresh tokens presented twice (the dropped request's token, re-sent by the waiter)", twice, 1)
	o.checkAll(tag+": lock left in Redis after the waiter", lockLeft, 0)
	what := "default lease, `redis://…/0`"
	if query != "" {
		what = "`redis://…/0" + query + "`"
	}
	o.rows = append(o.rows, row{
		scenario: fmt.Sprintf("c. handoff across hosts after SIGKILL (%s): kill of the holder on host-a → the waiter's token request (host-b) at the provider (%s)", what, measure.Plural(len(toRequest), "iteration")),
		measured: toRequest.MedP90(),
		baseline: fmt.Sprintf("lease %s; the dead holder's lock had %s left at the kill (p90 %s)", lease, measure.Ms(pttls.Median()), measure.Ms(pttls.Pct(90))),
		ratio:    fmt.Sprintf("request after the lease ran out: +%s (p90 +%s); handoff / lease %s", measure.Ms(over.Median()), measure.Ms(over.Pct(90)), measure.Times(float64(toRequest.Median())/float64(lease))),
	})
	o.notef("%s: waiter `--lock-timeout %s`; kill → the waiter exited with the stored token: %s.", tag, lockTimeout, toDone.MedP90())
	if !f.handoffExplained {
		f.handoffExplained = true
		o.notef("c. handoff: the handoff is bounded by the lease by design. Nobody releases a SIGKILLed holder's lock in Redis and no waiter breaks it early (a live holder on a stalled host must not be overtaken): it lasts until its lease runs out, then a waiter takes it and sends its refresh. The lock's time left (PTTL) at the kill is below the lease because the holder renews the lease periodically; \"after the lease ran out\" is how long after the lock's expiry the waiter's request reached the provider. On one host's file store a waiter judges a dead holder's lock file stale as soon as the holder's process is gone, so there the handoff takes milliseconds (bench's scenario 4); across hosts no host can see another's processes, hence the lease.")
	}
	return nil
}

// waitSubscribed waits until one client listens on the profile's channel (the waiter).
func (f *fleet) waitSubscribed(d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		v, err := f.redis.Do("PUBSUB", "NUMSUB", "tokctl:{"+profile+"}:changed")
		n, _ := v.([]any)
		if err == nil && len(n) == 2 && n[1] == int64(1) {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("the waiter never subscribed to the profile's channel")
}
