// Package commands is tokctl's command line: the urfave/cli application, one file per command,
// the exit-code table and every message a user reads. Commands turn flags into options and
// call the packages that do the work (creds, flows, providers, config, lockfile, oauthtest).
//
// Output discipline: stdout carries only what was asked for (a token, JSON, protocol lines);
// everything else goes to stderr as "tokctl: error: …", "tokctl: warning: …", "tokctl: hint: …".
package commands

import (
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
)

// IO is what a command may touch of the outside world besides files and the network.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Main runs tokctl with args (args[0] is the program name) and returns the exit code.
func Main(ctx context.Context, args []string, stdio IO, version string) int {
	u := &ui{stdout: stdio.Stdout, stderr: stdio.Stderr, stdin: stdio.Stdin}
	if len(args) > 1 && args[1] == completeCommand { // the shell completion scripts ask
		return complete(newApp(u, version, allCommands(u)), u.stdout, args[2:], os.Getenv)
	}
	args = gitCredentialArgs(args)
	app := newApp(u, version, commandsFor(u, args))
	err := app.RunContext(ctx, intersperse(app, args))
	if err == nil {
		return ExitOK
	}
	return u.fail(err)
}

// StdIO is the process's own standard streams.
func StdIO() IO { return IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr} }

// commandTable lists every command by name, in the order "tokctl --help" shows them, with the
// function that builds it. Building one is cheap, building all of them is not: every command's
// flags, their closures and the code behind them: ≈ 15 % of the instructions of a "tokctl token"
// (bench/RESULTS.md, "Start-up of the hot path").
var commandTable = []struct {
	name  string
	build func(*ui) *cli.Command
}{
	{"token", tokenCommand}, {"login", loginCommand}, {"logout", logoutCommand}, {"status", statusCommand},
	{"import", importCommand}, {"profile", profileCommand}, {"store", storeCommand}, {"doctor", doctorCommand},
	{"git-credential", gitCredentialCommand}, {"kubectl", kubectlCommand}, {"exec", execCommand},
	{"completion", completionCommand}, {"diagnose", diagnoseCommand}, {"demo", demoCommand}, {"man", manCommand},
}

// allCommands builds the whole command tree: for help, suggestions, completion and the manual.
func allCommands(u *ui) []*cli.Command {
	cmds := make([]*cli.Command, len(commandTable))
	for i, c := range commandTable {
		cmds[i] = c.build(u)
	}
	return cmds
}

// commandsFor builds only the command args run when that is all urfave/cli will look at: the
// first word after the global flags names a command of the table, and nothing before it asks for
// the application's help or version. Anything else ("tokctl", "tokctl --help", a misspelt or
// unknown command, "tokctl man", which prints every command) gets the whole tree, so help,
// suggestions and the usage errors read exactly as before. The command run is built by the same
// function either way, so its flags, help, subcommands and errors are the same.
func commandsFor(u *ui, args []string) []*cli.Command {
	name := commandName(args)
	for _, c := range commandTable {
		if c.name == name && name != "man" {
			if cmd := c.build(u); cmd.HasName(name) {
				return []*cli.Command{cmd}
			}
			break // a table entry out of step with its command: build everything
		}
	}
	return allCommands(u)
}

// commandName is the command args name, or "" when the words before it are anything but global
// flags (with their values) that urfave/cli would parse before it.
func commandName(args []string) string {
	globals := globalFlags()
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			return a
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := lookupFlag(globals, name)
		if f == nil || a == "--" { // "--help", "--version", "--", an unknown flag: urfave/cli decides
			return ""
		}
		if takesValue(globals, "--"+name) && !hasValue {
			i++
		}
	}
	return ""
}

var setUpFlags sync.Once

func newApp(u *ui, version string, commands []*cli.Command) *cli.App {
	setUpFlags.Do(func() {
		// -v is --verbose here, as in most CLIs; the version stays reachable as --version.
		cli.VersionFlag = withNames(&cli.BoolFlag{Name: "version", Usage: "print the version"})
		cli.HelpFlag = withNames(cli.HelpFlag)
	})
	app := &cli.App{
		Name:    "tokctl",
		Usage:   "print a valid OAuth2 access token, refreshing it exactly once however many callers ask",
		Version: version,
		// Compiled is not shown anywhere; setting it stops urfave/cli from stat-ing the binary
		// on every start.
		Compiled: time.Unix(1, 0),
		Description: `tokctl keeps OAuth2 credentials per profile and prints a valid access token for shells,
scripts, cron, git and kubectl. When many callers find the token expired at once, exactly one
refreshes it (a lock file beside the credential); the others wait and print the same new token.

   curl -H @<(tokctl token --output header) https://api.example.com/me

Start with "tokctl demo" to watch the race and the fix against a built-in authorization server.`,
		Flags:           globalFlags(),
		Commands:        commands,
		Writer:          u.stdout,
		ErrWriter:       u.stderr,
		Reader:          u.stdin,
		HideHelpCommand: true,
		Suggest:         true,
		ExitErrHandler:  func(*cli.Context, error) {},
		OnUsageError:    onUsageError,
		CommandNotFound: func(c *cli.Context, name string) { u.commandNotFound = name },
		Before: func(c *cli.Context) error {
			u.verbose = c.Bool("verbose")
			u.quiet = c.Bool("quiet")
			u.noEventLog = c.Bool("no-event-log")
			return nil
		},
		After: func(c *cli.Context) error {
			if u.commandNotFound != "" {
				return usageErrorf("unknown command %q (see \"tokctl --help\")", u.commandNotFound)
			}
			return nil
		},
	}
	for _, cmd := range app.Commands {
		uniform(u, cmd)
	}
	return app
}

// uniform gives every command the same usage-error handling (exit 2, one line on stderr), the
// global flags' effect wherever they were given, and no "help" pseudo-command in leaf listings.
func uniform(u *ui, cmd *cli.Command) {
	withAllNames(cmd.Flags)
	cmd.OnUsageError = onUsageError
	cmd.HideHelpCommand = true
	cmd.Before = func(c *cli.Context) error {
		u.verbose = u.verbose || c.Bool("verbose")
		u.quiet = u.quiet || c.Bool("quiet")
		u.noEventLog = u.noEventLog || c.Bool("no-event-log")
		return nil
	}
	for _, sub := range cmd.Subcommands {
		uniform(u, sub)
	}
}

// globalFlags are accepted before the command and after it (each command lists them too).
func globalFlags() []cli.Flag {
	return withAllNames([]cli.Flag{
		&cli.StringFlag{Name: "home", Usage: "root `DIR` of tokctl's config and state (default: XDG config and state dirs)", EnvVars: []string{"TOKCTL_HOME"}},
		&cli.StringFlag{Name: "profile", Aliases: []string{"p"}, Value: "default", Usage: "profile `NAME`", EnvVars: []string{"TOKCTL_PROFILE"}},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "diagnostics on stderr (tokens are never printed)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only errors on stderr (for cron): no warnings, progress or hints"},
		&cli.BoolFlag{Name: "no-event-log", Usage: "do not append refresh, lock and login events to STATE/events.jsonl (also " + noEventLogEnv + "=1)"},
	})
}

// withGlobals returns a command's own flags followed by the global ones.
func withGlobals(flags ...cli.Flag) []cli.Flag { return append(flags, globalFlags()...) }

func onUsageError(c *cli.Context, err error, isSubcommand bool) error {
	return usageErrorf("%v (see \"%s --help\")", err, c.Command.HelpName)
}
