// Package engine runs torture bursts: many real tokctl processes find one credential in need of
// a refresh at the same moment, some of them are SIGKILLed at chosen or random moments of the
// refresh transaction, and every burst is judged against the promise of design.md §1 — one
// refresh, no refresh token presented twice, no corrupt or lost credential, no failed caller
// that was not killed, and a lock that recovers without help.
//
// The tokctl under test is built with -tags tokctl_torture (creds/torture_hooks.go): each
// process then writes the phases it reaches (before-post, after-response, save-temp-synced,
// save-renamed) to a pipe shared by all of them, so a kill is classified by the last phase its
// victim reached, and it can be told to kill itself exactly at a phase. The provider is
// anything behind the Provider interface: oauthtest (bench/torture) or Ory Hydra (e2e).
package engine

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokctl/tokctl/creds"
)

// Provider is the authorization server side of a torture run.
type Provider interface {
	// NewFamily starts a new token family (a fresh login) whose access token needs a refresh
	// under the burst's arguments, and zeroes the per-burst counters.
	NewFamily() (*creds.Credential, error)
	// Counts returns what the provider saw since NewFamily.
	Counts() (Counts, error)
	// Active reports whether refreshToken is still the current refresh token of a live family.
	Active(refreshToken string) (bool, error)
}

// Counts is what the provider saw during one burst.
type Counts struct {
	Calls          int // refresh requests that reached the token endpoint
	Rotations      int // refresh requests the provider performed (it rotated the token)
	PresentedTwice int // distinct refresh tokens sent in more than one request
	Reuse          int // requests presenting a refresh token the provider had already rotated
}

// Config describes a torture run.
type Config struct {
	Bin      string   // tokctl built with -tags tokctl_torture
	Args     []string // argv after the binary, e.g. token --home H
	Env      []string // environment of every caller (TOKCTL_TORTURE_* are added)
	CredPath string   // the credential file the callers share
	LockPath string   // its lock file
	// Store, when not nil, is where the callers' credential lives instead of CredPath (e.g. a
	// Redis store shared by a fleet): the harness stores each burst's new login there and reads
	// the result back through it. CredPath is then unused, and no temporary files are counted.
	Store creds.Store
	// LockHeld, when not nil, reports whether the credential's lock is held (a Redis lock key
	// whose lease has not run out) instead of a look for the file at LockPath.
	LockHeld func() (bool, error)
	// Moments are the kill moments bursts pick from (default Moments, the file store's; a
	// store without temporary files uses StoreMoments).
	Moments  []string
	Provider Provider
	MinN     int           // fewest callers per burst (8)
	MaxN     int           // most callers per burst (200)
	KillRate float64       // share of bursts with kills (0.1)
	Latency  time.Duration // the provider's largest added latency: bounds the during-post timer
	Timeout  time.Duration // a burst still running after this is killed and counted as hung
	Rand     *rand.Rand
}

// Runner runs bursts one after another on one credential, so every burst also proves that
// what the previous one left behind (a stale lock, a temp file) needs no cleanup.
type Runner struct {
	cfg   Config
	trace *tracer
	scr   string // scratch dir for kill slot markers
	seq   int
	temps int // temporary files in the credential dir after the last burst
}

// New starts the trace pipe and returns a Runner.
func New(cfg Config) (*Runner, error) {
	if cfg.MinN <= 0 {
		cfg.MinN = 8
	}
	cfg.MaxN = max(cfg.MaxN, cfg.MinN)
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if len(cfg.Moments) == 0 {
		cfg.Moments = Moments
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	scr, err := os.MkdirTemp("", "tokctl-torture-slots-")
	if err != nil {
		return nil, err
	}
	t, err := newTracer()
	if err != nil {
		os.RemoveAll(scr)
		return nil, err
	}
	return &Runner{cfg: cfg, trace: t, scr: scr}, nil
}

// Close stops the trace pipe and removes the runner's scratch files.
func (r *Runner) Close() {
	r.trace.close()
	os.RemoveAll(r.scr)
}

// tracer reads "PID PHASE" lines that every torture-built caller writes to one shared pipe.
type tracer struct {
	rd, wr *os.File
	mu     sync.Mutex
	phases map[int][]string
	marks  map[string]chan struct{}
	done   chan struct{}
}

func newTracer() (*tracer, error) {
	rd, wr, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("trace pipe: %w", err)
	}
	t := &tracer{rd: rd, wr: wr, phases: map[int][]string{}, marks: map[string]chan struct{}{}, done: make(chan struct{})}
	go t.read()
	return t, nil
}

func (t *tracer) read() {
	defer close(t.done)
	sc := bufio.NewScanner(t.rd)
	for sc.Scan() {
		pidS, phase, ok := strings.Cut(sc.Text(), " ")
		pid, err := strconv.Atoi(pidS)
		if !ok || err != nil {
			continue
		}
		t.mu.Lock()
		if pid == 0 { // a mark written by sync
			if c := t.marks[phase]; c != nil {
				close(c)
				delete(t.marks, phase)
			}
		} else {
			t.phases[pid] = append(t.phases[pid], phase)
		}
		t.mu.Unlock()
	}
}

// sync returns once every line written before it has been read, and hands over (and forgets)
// the phases seen so far.
func (t *tracer) sync(name string) map[int][]string {
	c := make(chan struct{})
	t.mu.Lock()
	t.marks[name] = c
	t.mu.Unlock()
	t.wr.WriteString("0 " + name + "\n")
	select {
	case <-c:
	case <-time.After(10 * time.Second): // cannot happen while the reader runs
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.phases
	t.phases = map[int][]string{}
	return p
}

func (t *tracer) close() {
	t.wr.Close()
	<-t.done
	t.rd.Close()
}
