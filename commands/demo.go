package commands

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

func demoCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "watch N callers race for one expired token, with tokctl and without",
		Description: `Starts the built-in strict authorization server on 127.0.0.1 (refresh tokens rotate; reusing
one revokes the whole family, as Hydra and Auth0 do), stores an expired credential in a throwaway
profile, and launches --callers real "tokctl token" processes at once. Then it runs the same burst
of processes as a naive refresher with no lock, the way most tools behave, and shows the difference.
Nothing outside a temporary directory is touched.

Example:
   tokctl demo --callers 200`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "callers", Aliases: []string{"n"}, Value: 100, Usage: "`N` concurrent callers per burst"},
			&cli.DurationFlag{Name: "latency", Value: 250 * time.Millisecond, Usage: "token endpoint response `TIME`"},
			naiveCallerFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("unexpected argument %q (see \"tokctl demo --help\")", c.Args().First())
			}
			if c.IsSet(naiveCallerName) {
				return u.naiveCaller(c.Context, c.String(naiveCallerName))
			}
			return u.demo(c)
		},
	}
}

func (u *ui) demo(c *cli.Context) error {
	n := c.Int("callers")
	if n < 1 || n > 1000 {
		return usageErrorf("--callers must be between 1 and 1000")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("demo: find the tokctl binary: %w", err)
	}
	home, err := os.MkdirTemp("", "tokctl-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(home)
	latency := c.Duration("latency")
	srv := oauthtest.NewServer(oauthtest.Options{Latency: latency})
	defer srv.Close()

	w := u.stdout
	fmt.Fprintf(w, "tokctl demo: %d callers find the same access token expired at once.\n", n)
	fmt.Fprintf(w, "Authorization server: %s (built in; refresh tokens rotate, reuse revokes the family, %s latency)\n", srv.URL(), latency)
	fmt.Fprintf(w, "Each burst starts %d processes of this binary, one after another (this machine has %d CPUs), on\n", n, runtime.NumCPU())
	fmt.Fprintf(w, "its own throwaway profile holding an expired credential. Its wall time runs from starting the\n")
	fmt.Fprintf(w, "first process to the exit of the last: process start-up, reading the credential, the token\n")
	fmt.Fprintf(w, "endpoint's %s per call, waiting for the lock (tokctl only), writing and printing.\n\n", latency)

	res, err := processBurst(c.Context, exe, filepath.Join(home, "tokctl"), srv, n,
		func(dir string) []string { return []string{"token", "--home", dir, "--profile", demoProfile} })
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "1) %d × \"tokctl token\" processes (lock file, re-read, refresh once):\n", n)
	res.print(w)
	fmt.Fprintln(w)

	naive, err := processBurst(c.Context, exe, filepath.Join(home, "naive"), srv, n,
		func(dir string) []string { return []string{"demo", "--" + naiveCallerName, dir} })
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "2) %d × naive refresher processes (\"tokctl demo --%s\": no lock, no re-read; each POSTs\n", n, naiveCallerName)
	fmt.Fprintf(w, "   the refresh token it read and writes the answer back, as most tools do):\n")
	naive.print(w)
	fmt.Fprintln(w)
	if res.calls == 1 && res.failed == 0 && res.distinct == 1 && res.familyAlive {
		fmt.Fprintf(w, "tokctl: one refresh, %d callers served, the session survives. Naive: %d invalid_grant, user logged out.\n", n, naive.failed)
	} else {
		fmt.Fprintln(w, "tokctl did NOT behave as promised in this run; please report it with the output above.")
		return withHint(ExitError, fmt.Errorf("demo: %d token-endpoint calls, %d failures", res.calls, res.failed), "")
	}
	return nil
}

// burstResult is what one burst did, as the authorization server and the callers saw it.
type burstResult struct {
	calls, failed, distinct, callers int
	reuse, familyAlive               bool
	wall, starting                   time.Duration
	firstError                       string
}

func (r burstResult) print(w io.Writer) {
	fmt.Fprintf(w, "   token-endpoint calls     %d\n", r.calls)
	fmt.Fprintf(w, "   reuse detected           %s\n", map[bool]string{true: "yes: a refresh token was sent twice", false: "no"}[r.reuse])
	fmt.Fprintf(w, "   callers failed           %d of %d\n", r.failed, r.callers)
	fmt.Fprintf(w, "   distinct tokens printed  %d\n", r.distinct)
	fmt.Fprintf(w, "   token family             %s\n", map[bool]string{true: "alive", false: "REVOKED: the user must log in again, everywhere"}[r.familyAlive])
	fmt.Fprintf(w, "   wall time                %s, first start to last exit (starting all %d took %s)\n",
		r.wall.Round(time.Millisecond), r.callers, r.starting.Round(time.Millisecond))
	if r.firstError != "" {
		fmt.Fprintf(w, "   first failure            %s\n", r.firstError)
	}
}

// processBurst stores an expired credential of a fresh token family in a throwaway profile in
// dir, then starts n processes of exe with args(dir) and waits for all of them. Both bursts of
// the demo run through here, so that their figures measure the same work.
func processBurst(ctx context.Context, exe, dir string, srv *oauthtest.Server, n int, args func(dir string) []string) (burstResult, error) {
	if err := demoHome(dir, srv); err != nil {
		return burstResult{}, fmt.Errorf("demo: %w", err)
	}
	p := config.Paths{Config: dir, State: dir}
	srv.ResetStats()
	res := burstResult{callers: n}
	outputs := make([]string, n)
	errs := make([]string, n)
	failed := make([]bool, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		cmd := exec.CommandContext(ctx, exe, args(dir)...)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Start(); err != nil {
			wg.Wait()
			return res, fmt.Errorf("demo: start caller %d: %w", i, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Wait(); err != nil {
				failed[i] = true
				errs[i] = firstLine(stderr.String(), err)
			}
			outputs[i] = strings.TrimSpace(out.String())
		}()
	}
	res.starting = time.Since(start)
	wg.Wait()
	res.wall = time.Since(start)
	distinct := map[string]bool{}
	for i := range n {
		if failed[i] {
			res.failed++
			if res.firstError == "" {
				res.firstError = errs[i]
			}
			continue
		}
		distinct[outputs[i]] = true
	}
	res.distinct = len(distinct)
	st := srv.Stats()
	res.calls, res.reuse = st.TokenRequests, st.ReuseDetected > 0
	if after, err := creds.NewFileStore(p.CredentialFile(demoProfile)).Load(); err == nil {
		res.familyAlive = srv.Active(after.RefreshToken)
	}
	return res, nil
}

// demoHome makes dir a throwaway tokctl home: the marker the naive caller looks for, a profile
// for srv and an expired credential of a fresh token family.
func demoHome(dir string, srv *oauthtest.Server) error {
	if err := config.EnsurePrivateDir(dir); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, demoMarker), []byte("made by tokctl demo, removed when it ends\n"), 0o600); err != nil {
		return err
	}
	p := config.Paths{Config: dir, State: dir}
	if err := p.SaveProfile(&config.Profile{Name: demoProfile, TokenURL: srv.TokenURL(), ClientID: "tokctl-test"}); err != nil {
		return err
	}
	if err := config.EnsurePrivateDir(p.CredentialDir()); err != nil {
		return err
	}
	issued := srv.Issue("demo", -time.Minute)
	cred := &creds.Credential{AccessToken: issued.AccessToken, TokenType: "Bearer", RefreshToken: issued.RefreshToken, Scope: issued.Scope, Expiry: time.Now().Add(-time.Minute)}
	return creds.NewFileStore(p.CredentialFile(demoProfile)).Save(cred)
}

// firstLine is a failed caller's first line on stderr, without the "tokctl: error: " prefix.
func firstLine(stderr string, err error) string {
	line, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
	line = strings.TrimPrefix(line, "tokctl: error: ")
	if line == "" {
		return err.Error()
	}
	return line
}
