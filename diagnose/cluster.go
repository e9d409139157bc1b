package diagnose

import (
	"slices"
	"time"
)

// Limits that keep memory bounded whatever the input's size.
const (
	keepEntries = 64     // entries kept per burst, for judgement and evidence
	keepIDs     = 16     // hosts, IPs and pids remembered per burst
	maxPending  = 10_000 // judged bursts kept for the report; beyond, only counted
	slack       = 10 * time.Second
)

// cluster is a burst: one actor's entries, each within the window of another.
type cluster struct {
	key        string
	actor      Actor
	start, end time.Time
	n          [Note + 1]int // entries by outcome
	adopted    bool          // tokctl adopted a rotation made outside its lock
	kept       []Entry
	hosts, ips []string
	pids       []int
}

func (c *cluster) add(e Entry) {
	if len(c.kept) == 0 || e.Time.Before(c.start) {
		c.start = e.Time
	}
	if len(c.kept) == 0 || e.Time.After(c.end) {
		c.end = e.Time
	}
	c.n[e.Outcome]++
	c.adopted = c.adopted || e.Code == "triage/adopted"
	c.fill(e.Actor)
	if e.Host != "" && len(c.hosts) < keepIDs && !slices.Contains(c.hosts, e.Host) {
		c.hosts = append(c.hosts, e.Host)
	}
	if e.Actor.IP != "" && len(c.ips) < keepIDs && !slices.Contains(c.ips, e.Actor.IP) {
		c.ips = append(c.ips, e.Actor.IP)
	}
	if e.PID != 0 && len(c.pids) < keepIDs && !slices.Contains(c.pids, e.PID) {
		c.pids = append(c.pids, e.PID)
	}
	switch {
	case len(c.kept) < keepEntries:
		c.kept = append(c.kept, e)
	case e.Outcome == Success && c.n[Success] == 1, e.Outcome == Reuse && c.n[Reuse] == 1:
		c.kept[len(c.kept)-1] = e // the first success or reuse detection is always evidence
	}
}

// fill completes the burst's actor with what a later entry names.
func (c *cluster) fill(a Actor) {
	c.actor.Client = oneOf(c.actor.Client, a.Client)
	c.actor.User = oneOf(c.actor.User, a.User)
	c.actor.Profile = oneOf(c.actor.Profile, a.Profile)
	c.actor.IP = oneOf(c.actor.IP, a.IP)
	c.actor.Realm = oneOf(c.actor.Realm, a.Realm)
	c.actor.Session = oneOf(c.actor.Session, a.Session)
}

func (c *cluster) merge(o *cluster) {
	for _, e := range o.kept {
		c.add(e)
	}
	for i := range c.n {
		c.n[i] += o.n[i] - countOutcome(o.kept, Outcome(i))
	}
	c.adopted = c.adopted || o.adopted
}

func countOutcome(es []Entry, o Outcome) int {
	n := 0
	for _, e := range es {
		if e.Outcome == o {
			n++
		}
	}
	return n
}

func (c *cluster) otherHost(h string) bool {
	return h != "" && len(c.hosts) > 0 && !slices.Contains(c.hosts, h)
}

// reach is how far from the burst an entry may lie and still belong to it.
func (c *cluster) reach(e Entry, opt Options) time.Duration {
	if c.otherHost(e.Host) {
		return opt.Window + opt.Skew
	}
	return opt.Window
}

func (c *cluster) covers(e Entry, opt Options) bool {
	r := c.reach(e, opt)
	return !e.Time.Before(c.start.Add(-r)) && !e.Time.After(c.end.Add(r))
}

// failures counts entries that say a refresh was refused.
func (c *cluster) failures() int { return c.n[Failure] + c.n[Reuse] + c.n[Revoked] }

// raceShape reports a refused refresh presenting the very refresh token a success presented,
// or, where the log does not name the tokens, a success followed within the window by a
// refused refresh of the same actor. Between hosts, order is trusted only up to the skew.
func (c *cluster) raceShape(opt Options) bool {
	for _, s := range c.kept {
		if s.Outcome != Success {
			continue
		}
		for _, f := range c.kept {
			if f.Outcome != Failure && f.Outcome != Reuse {
				continue
			}
			if s.Family != "" && f.Family != "" {
				if f.Family == s.Family {
					return true
				}
				continue // both presented tokens are known, and they differ: no race between them
			}
			tol := time.Duration(0)
			if s.Host != f.Host && s.Host != "" && f.Host != "" {
				tol = opt.Skew
			}
			if !f.Time.Before(s.Time.Add(-tol)) && f.Time.Sub(s.Time) <= opt.Window+tol {
				return true
			}
		}
	}
	return false
}
