package diagnose

import (
	"io"
	"time"
)

// Analyzer reads logs and collects incidents. Use New, then Read, then Report.
type Analyzer struct {
	opt     Options
	inputs  []*InputStats
	open    map[string][]*cluster // by actor key, bursts still growing
	nOpen   int
	actors  map[string]*actorState
	pending []*cluster // closed bursts with failures, judged by Report
	omitted map[string]int
	now     time.Time // the merge's position in time
	seq     int
}

// actorState is what Report needs to know of an actor beyond its bursts.
type actorState struct {
	lastSuccess, lastFailure time.Time
}

// New returns an Analyzer.
func New(opt Options) *Analyzer {
	return &Analyzer{opt: opt.withDefaults(), open: map[string][]*cluster{}, actors: map[string]*actorState{}, omitted: map[string]int{}}
}

// Input is one log to read.
type Input struct {
	Name string // for evidence, "NAME:LINE"
	R    io.Reader
}

// add feeds one entry, in (roughly) time order, to the bursts.
func (a *Analyzer) add(e Entry) {
	a.now = e.Time
	if e.Outcome == Note && e.Code != "triage/adopted" {
		return // context only: counted in the input's stats
	}
	key := e.Actor.key()
	st := a.actors[key]
	if st == nil {
		st = &actorState{}
		a.actors[key] = st
	}
	switch e.Outcome {
	case Success:
		st.lastSuccess = later(st.lastSuccess, e.Time)
	case Failure, Reuse, Revoked:
		st.lastFailure = later(st.lastFailure, e.Time)
	}
	c := a.find(key, e)
	if c == nil {
		c = &cluster{key: key}
		a.open[key] = append(a.open[key], c)
		a.nOpen++
	}
	c.add(e)
	a.coalesce(key, c)
	if e.Actor.User != "" && e.Actor.Client != "" {
		a.adoptUserless(e, c)
	}
	if a.seq++; a.seq%1024 == 0 {
		a.sweep(false)
	}
}

// find returns the open burst e belongs to. A refused refresh that names its client but not its
// user (Auth0 logs no user for an unknown refresh token) joins a burst of that client's, in the
// same realm. One that names its session (Keycloak) belongs to that session's bursts only.
func (a *Analyzer) find(key string, e Entry) *cluster {
	for _, c := range a.open[key] {
		if c.covers(e, a.opt) {
			return c
		}
	}
	if e.Outcome == Success || e.Actor.User != "" || e.Actor.Client == "" || e.Actor.Session != "" {
		return nil
	}
	for _, cs := range a.open {
		for _, c := range cs {
			if c.actor.Client == e.Actor.Client && c.actor.Realm == e.Actor.Realm && c.covers(e, a.opt) {
				return c
			}
		}
	}
	return nil
}

// adoptUserless merges into c the bursts of refused refreshes that named only c's client and
// overlap it (they arrived first, e.g. in a newest-first export).
func (a *Analyzer) adoptUserless(e Entry, c *cluster) {
	key := Actor{Realm: e.Actor.Realm, Client: e.Actor.Client, Profile: e.Actor.Profile}.key()
	cs := a.open[key]
	for i := 0; i < len(cs); i++ {
		if o := cs[i]; o.start.After(c.end.Add(a.opt.Window)) || c.start.After(o.end.Add(a.opt.Window)) {
			continue
		}
		c.merge(cs[i])
		cs = append(cs[:i], cs[i+1:]...)
		a.nOpen--
		i--
	}
	if len(cs) == 0 {
		delete(a.open, key)
	} else {
		a.open[key] = cs
	}
}

// coalesce merges bursts of key that c now bridges.
func (a *Analyzer) coalesce(key string, c *cluster) {
	cs := a.open[key]
	for i := 0; i < len(cs); i++ {
		o := cs[i]
		if o == c || o.start.After(c.end.Add(a.opt.Window)) || c.start.After(o.end.Add(a.opt.Window)) {
			continue
		}
		c.merge(o)
		cs = append(cs[:i], cs[i+1:]...)
		a.nOpen--
		i--
	}
	a.open[key] = cs
}

// sweep closes bursts the merge has moved away from (all of them when final).
func (a *Analyzer) sweep(final bool) {
	horizon := a.opt.Window + a.opt.Skew + slack
	for key, cs := range a.open {
		keep := cs[:0]
		for _, c := range cs {
			if !final && a.now.Sub(c.end) <= horizon && c.start.Sub(a.now) <= horizon {
				keep = append(keep, c)
				continue
			}
			a.close(c)
		}
		if len(keep) == 0 {
			delete(a.open, key)
		} else {
			a.open[key] = keep
		}
	}
}

// close keeps a finished burst for the report if it holds a refused refresh.
func (a *Analyzer) close(c *cluster) {
	a.nOpen--
	if c.failures() == 0 && !c.adopted {
		return
	}
	if len(a.pending) >= maxPending {
		a.omitted[a.judge(c).Verdict]++
		return
	}
	c.kept = c.kept[:len(c.kept):len(c.kept)]
	a.pending = append(a.pending, c)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
