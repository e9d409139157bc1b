// Command tokctl prints a valid OAuth2 access token for shells, scripts, cron, git and kubectl,
// refreshing it exactly once however many callers ask at the same moment.
package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/tokctl/tokctl/commands"
)

// version is set at release time with -ldflags "-X main.version=…". Unstamped builds name
// themselves from their build info when asked (version.go).
var version = "dev"

func main() {
	ctx := &signalContext{Context: context.Background()}
	code := commands.Main(ctx, os.Args, commands.StdIO(), versionFor(os.Args))
	ctx.stop()
	os.Exit(code)
}

// signalContext is canceled by SIGINT or SIGTERM. It installs the signal handlers only when
// something first waits on it (a lock wait, a network call). The hot path of "tokctl token"
// never does, and signal.Notify costs it about 2 ms of start-up (bench/RESULTS.md); a signal
// that arrives before then finds no lock held and nothing half-written, so the default action
// (the process ends) is right.
type signalContext struct {
	context.Context
	mu     sync.Mutex
	ctx    context.Context // nil until something waits
	cancel context.CancelFunc
}

func (c *signalContext) signals(start bool) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil && start {
		c.ctx, c.cancel = signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	}
	return c.ctx
}

// Done implements context.Context; waiters select on it, so it installs the handlers.
func (c *signalContext) Done() <-chan struct{} { return c.signals(true).Done() }

// Err implements context.Context. Before anything waited, no signal can have been caught.
func (c *signalContext) Err() error {
	if ctx := c.signals(false); ctx != nil {
		return ctx.Err()
	}
	return nil
}

func (c *signalContext) stop() {
	if ctx := c.signals(false); ctx != nil {
		c.cancel()
	}
}
