// Command tokctl prints a valid OAuth2 access token for shells, scripts, cron, git and kubectl,
// refreshing it exactly once however many callers ask at the same moment.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tokctl/tokctl/commands"
)

// version is set at release time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := commands.Main(ctx, os.Args, commands.StdIO(), version)
	stop()
	os.Exit(code)
}
