package commands

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/creds"
)

// defaultTokenEnv is the variable "tokctl exec" puts the token in.
const defaultTokenEnv = "TOKCTL_ACCESS_TOKEN"

// Conventional exit codes of a command that could not be started, as env(1) and shells use them.
const (
	exitCannotRun = 126 // found but not executable
	exitNotFound  = 127 // not found
)

func execCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command with a valid access token in an environment variable",
		UsageText: "tokctl exec [--profile NAME] [--env NAME] [--min-ttl 60s] [--interactive] -- COMMAND [ARG...]",
		Description: `Gets a valid access token as "tokctl token" does (refreshing it once if needed), then runs
COMMAND with the token in the environment variable ` + defaultTokenEnv + ` (or --env NAME), never
in its arguments, where any user of the machine could read it (ps, /proc/PID/cmdline).
COMMAND gets tokctl's stdin, stdout and stderr, and tokctl exits with its exit code (128+N when
signal N killed it; 127 when it was not found, 126 when it could not be run). When a login is
required tokctl exits 3 and COMMAND does not run.

Put "--" before COMMAND: everything after it is COMMAND's, flags included. While COMMAND runs,
tokctl passes SIGTERM and SIGHUP on to it; Ctrl-C and Ctrl-\ reach it from the terminal.

Examples:
   tokctl exec --profile work -- ./deploy.sh --env prod
   tokctl exec --env GH_TOKEN -- gh api /user
   tokctl exec -- sh -c 'printf "Authorization: Bearer %s\n" "$TOKCTL_ACCESS_TOKEN" | curl -H @- https://api.example.com/me'`,
		Flags: withGlobals(
			&cli.StringFlag{Name: "env", Value: defaultTokenEnv, Usage: "put the token in environment variable `NAME`"},
			&cli.DurationFlag{Name: "min-ttl", Value: creds.DefaultMinTTL, Usage: "refresh when the token is valid for less than `DURATION`"},
			&cli.DurationFlag{Name: "lock-timeout", Value: creds.DefaultLockTimeout, Usage: "give up waiting for another refresh after `DURATION` (exit 4)"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "when a login is required, run it (browser) instead of exiting 3"},
		),
		Action: func(c *cli.Context) error { return u.exec(c) },
	}
}

var envName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) }) // on first use: not at every start

func (u *ui) exec(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErrorf("exec needs a command: tokctl exec [--env NAME] -- COMMAND [ARG...]")
	}
	name := c.String("env")
	if !envName().MatchString(name) {
		return usageErrorf("--env %q is not an environment variable name (letters, digits and _, not starting with a digit)", name)
	}
	minTTL := c.Duration("min-ttl")
	if minTTL == 0 {
		minTTL = -1 // creds.Source: zero means the default, negative means none
	}
	cred, err := u.profileToken(c.Context, c, tokenRequest{
		command: "tokctl exec", minTTL: minTTL, lockTimeout: c.Duration("lock-timeout"), interactive: c.Bool("interactive"),
		hint: func(profile string) string {
			return fmt.Sprintf("run \"tokctl login --profile %s\" (or add --interactive); the command was not run", profile)
		},
	})
	if err != nil {
		return err
	}
	args := c.Args().Slice()
	code, err := u.run(args[0], args[1:], withEnv(os.Environ(), name, cred.AccessToken))
	if err != nil {
		return err
	}
	return u.childExit(code)
}

// run starts the command with env and tokctl's standard streams, relays SIGTERM and SIGHUP to
// it, waits, and returns its exit status (128+N for signal N). SIGINT and SIGQUIT are caught but
// not relayed: a terminal sends them to the whole foreground process group, the command
// included, and a second copy would turn its graceful stop into a forced one.
func (u *ui) run(name string, args, env []string) (int, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = u.stdin, u.stdout, u.stderr
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, os.Interrupt, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, startError(name, err)
	}
	u.debugf("running %s (pid %d)", name, cmd.Process.Pid)
	relayed, stop := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(relayed)
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGTERM || s == syscall.SIGHUP {
					cmd.Process.Signal(s)
				}
			case <-stop:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	<-relayed
	ps := cmd.ProcessState
	if ps == nil {
		return 0, err
	}
	if code := ps.ExitCode(); code >= 0 {
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			return 0, fmt.Errorf("%s: %w", name, err) // copying a non-file stream failed
		}
		return code, nil
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ExitError, nil
}

// startError explains a command that could not be started, with the shell's exit code.
func startError(name string, err error) error {
	code := exitCannotRun
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		code = exitNotFound
	}
	var execErr *exec.Error
	if errors.As(err, &execErr) {
		err = execErr.Err
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err
	}
	return &userError{code: code, err: fmt.Errorf("cannot run %q: %w", name, err)}
}

// childExit ends tokctl with the command's exit status and nothing more on stderr: what the
// command printed is the report, and a script sees the status it would have seen without tokctl.
func (u *ui) childExit(code int) error {
	if code == ExitOK {
		return nil
	}
	u.debugf("the command exited with status %d", code)
	u.stderr = io.Discard // Main reports the returned error through u; there is nothing to add
	return &userError{code: code, err: fmt.Errorf("the command exited with status %d", code)}
}

// withEnv returns environ with name set to value (replacing any earlier value).
func withEnv(environ []string, name, value string) []string {
	out := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if k == name || runtime.GOOS == "windows" && strings.EqualFold(k, name) {
			continue
		}
		out = append(out, kv)
	}
	return append(out, name+"="+value)
}
