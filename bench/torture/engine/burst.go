package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tokctl/tokctl/creds"
)

// Moments a killed burst picks from, one per burst. The first five are phases of the refresh
// transaction at which the first one or two callers to get there kill themselves (the callers
// that hold the lock, whoever they turn out to be); "during-post" arms a timer of 0…Latency
// when the request is about to leave, so it fires while the provider holds the request, or just
// after; "random" SIGKILLs random callers from outside at random times and classifies each kill
// by the last phase its victim reached.
var Moments = []string{"before-post", "during-post", "after-response", "save-temp-synced", "save-renamed", "random"}

// StoreMoments are the moments of a store that writes in one step (Redis: one fenced Lua
// script), where the file's save-temp-synced and save-renamed do not exist: "saved" is the
// credential stored and the lock not yet released, so a holder killed there leaves its lock to
// run out its lease.
var StoreMoments = []string{"before-post", "during-post", "after-response", "saved", "random"}

// allMoments orders every moment for the report.
var allMoments = []string{"before-post", "during-post", "after-response", "save-temp-synced", "save-renamed", "saved", "random"}

// plan is what one burst will do.
type plan struct {
	n       int
	moment  string                // "" when nobody is killed
	slots   int                   // phase moments: how many callers may die there
	victims map[int]time.Duration // "random": caller index -> kill delay after the start
}

func (r *Runner) plan() plan {
	rnd := r.cfg.Rand
	p := plan{n: r.cfg.MinN + rnd.IntN(r.cfg.MaxN-r.cfg.MinN+1)}
	if rnd.Float64() >= r.cfg.KillRate {
		return p
	}
	p.moment = r.cfg.Moments[rnd.IntN(len(r.cfg.Moments))]
	p.slots = 1 + rnd.IntN(2)
	if p.moment == "random" {
		p.victims = map[int]time.Duration{}
		span := 10*time.Millisecond + time.Duration(p.n)*6*time.Millisecond // about a burst's length here
		for range 1 + rnd.IntN(max(1, p.n/10)) {
			p.victims[rnd.IntN(p.n)] = time.Duration(rnd.Int64N(int64(span)))
		}
	}
	return p
}

// caller is one tokctl process of a burst and what became of it.
type caller struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	code           int
	killed         bool // ended by SIGKILL (its own or ours)
	started        time.Time
	took           time.Duration // start to exit
	phases         []string      // phases it reported, in order
}

// Burst runs the next burst and judges it. An error means the harness itself failed.
func (r *Runner) Burst() (Burst, error) {
	r.seq++
	p := r.plan()
	b := Burst{Seq: r.seq, N: p.n, Moment: p.moment}
	held, err := r.lockHeld()
	if err != nil {
		return b, fmt.Errorf("burst %d: look at the lock: %w", r.seq, err)
	}
	b.StaleLockAtStart = held
	c, err := r.cfg.Provider.NewFamily()
	if err != nil {
		return b, fmt.Errorf("burst %d: new token family: %w", r.seq, err)
	}
	if err := r.store().Save(c); err != nil {
		return b, fmt.Errorf("burst %d: store credential: %w", r.seq, err)
	}
	callers, err := r.start(p)
	if err != nil {
		return b, err
	}
	var hung atomic.Bool
	watchdog := time.AfterFunc(r.cfg.Timeout, func() {
		hung.Store(true)
		for _, c := range callers {
			c.cmd.Process.Kill()
		}
	})
	for i, v := range p.victims {
		go func() {
			time.Sleep(v)
			callers[i].cmd.Process.Signal(syscall.SIGKILL) // an error: it had finished already
		}()
	}
	began := time.Now()
	errs := make([]error, len(callers))
	var wg sync.WaitGroup
	for i, c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.cmd.Wait()
			c.took = time.Since(c.started)
		}()
	}
	wg.Wait()
	for i, c := range callers {
		err := errs[i]
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			c.code = ee.ExitCode()
			ws, ok := ee.Sys().(syscall.WaitStatus)
			c.killed = ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
		default:
			watchdog.Stop()
			return b, fmt.Errorf("burst %d: wait: %w", r.seq, err)
		}
	}
	b.Wall = time.Since(began)
	watchdog.Stop()
	b.Hung = hung.Load()
	phases := r.trace.sync("burst-" + strconv.Itoa(r.seq))
	for _, c := range callers {
		c.phases = phases[c.cmd.Process.Pid]
	}
	r.judge(&b, callers)
	return b, nil
}

// store is the callers' credential store.
func (r *Runner) store() creds.Store {
	if r.cfg.Store != nil {
		return r.cfg.Store
	}
	return creds.NewFileStore(r.cfg.CredPath)
}

// lockHeld reports whether the credential's lock is held now (by a live caller or a dead one).
func (r *Runner) lockHeld() (bool, error) {
	if r.cfg.LockHeld != nil {
		return r.cfg.LockHeld()
	}
	_, err := os.Stat(r.cfg.LockPath)
	return err == nil, nil
}

// start starts the burst's callers as close together as exec allows.
func (r *Runner) start(p plan) ([]*caller, error) {
	base := append(append([]string{}, r.cfg.Env...), "TOKCTL_TORTURE_TRACE_FD=3")
	if p.moment != "" && p.moment != "random" {
		var slots []string
		for i := range p.slots {
			slots = append(slots, filepath.Join(r.scr, fmt.Sprintf("burst-%d-slot-%d", r.seq, i)))
		}
		base = append(base, "TOKCTL_TORTURE_KILL="+p.moment, "TOKCTL_TORTURE_SLOTS="+strings.Join(slots, ":"))
	}
	callers := make([]*caller, p.n)
	for i := range callers {
		c := &caller{cmd: exec.Command(r.cfg.Bin, r.cfg.Args...)}
		c.cmd.Env = base
		if p.moment == "during-post" {
			d := time.Duration(r.cfg.Rand.Int64N(int64(r.cfg.Latency) + 1))
			c.cmd.Env = append(append([]string{}, base...), "TOKCTL_TORTURE_DELAY="+d.String())
		}
		c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
		c.cmd.ExtraFiles = []*os.File{r.trace.wr}
		callers[i] = c
	}
	for i, c := range callers {
		c.started = time.Now()
		if err := c.cmd.Start(); err != nil {
			for _, s := range callers[:i] {
				s.cmd.Process.Kill()
				s.cmd.Wait()
			}
			return nil, fmt.Errorf("burst %d: start caller %d of %d: %w", r.seq, i+1, p.n, err)
		}
	}
	return callers, nil
}
