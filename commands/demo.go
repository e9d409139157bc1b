package commands

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
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
through a naive refresher with no lock, the way most tools behave, and shows the difference.
Nothing outside a temporary directory is touched.

Example:
   tokctl demo --callers 200`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "callers", Aliases: []string{"n"}, Value: 100, Usage: "`N` concurrent callers per burst"},
			&cli.DurationFlag{Name: "latency", Value: 250 * time.Millisecond, Usage: "token endpoint response `TIME`"},
		},
		Action: func(c *cli.Context) error { return u.demo(c) },
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
	srv := oauthtest.NewServer(oauthtest.Options{Latency: c.Duration("latency")})
	defer srv.Close()

	w := u.stdout
	fmt.Fprintf(w, "tokctl demo: %d callers find the same access token expired at once.\n", n)
	fmt.Fprintf(w, "Authorization server: %s (built in; refresh tokens rotate, reuse revokes the family, %s latency)\n\n", srv.URL(), c.Duration("latency"))

	res, err := tokctlBurst(c.Context, exe, home, srv, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "1) %d × \"tokctl token\" processes (lock file, re-read, refresh once):\n", n)
	res.print(w)
	fmt.Fprintln(w)

	naive := naiveBurst(c.Context, srv, n)
	fmt.Fprintf(w, "2) %d × naive refresher (no lock: every caller POSTs the refresh token it read):\n", n)
	naive.print(w)
	fmt.Fprintln(w)
	if res.calls == 1 && res.failed == 0 && res.distinct == 1 {
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
	wall                             time.Duration
	firstError                       string
}

func (r burstResult) print(w interface{ Write([]byte) (int, error) }) {
	fmt.Fprintf(w, "   token-endpoint calls     %d\n", r.calls)
	fmt.Fprintf(w, "   reuse detected           %s\n", map[bool]string{true: "yes: a refresh token was sent twice", false: "no"}[r.reuse])
	fmt.Fprintf(w, "   callers failed           %d of %d\n", r.failed, r.callers)
	if r.distinct >= 0 {
		fmt.Fprintf(w, "   distinct tokens printed  %d\n", r.distinct)
	}
	fmt.Fprintf(w, "   token family             %s\n", map[bool]string{true: "alive", false: "REVOKED: the user must log in again, everywhere"}[r.familyAlive])
	fmt.Fprintf(w, "   wall time                %s\n", r.wall.Round(time.Millisecond))
	if r.firstError != "" {
		fmt.Fprintf(w, "   first failure            %s\n", r.firstError)
	}
}

// tokctlBurst stores an expired credential in a throwaway profile and runs n tokctl processes.
func tokctlBurst(ctx context.Context, exe, home string, srv *oauthtest.Server, n int) (burstResult, error) {
	p := config.Paths{Config: home, State: home}
	prof := &config.Profile{Name: "demo", TokenURL: srv.TokenURL(), ClientID: "tokctl-test"}
	if err := p.SaveProfile(prof); err != nil {
		return burstResult{}, err
	}
	issued := srv.Issue("demo", -time.Minute)
	if err := config.EnsurePrivateDir(p.CredentialDir()); err != nil {
		return burstResult{}, err
	}
	cred := &creds.Credential{AccessToken: issued.AccessToken, TokenType: "Bearer", RefreshToken: issued.RefreshToken, Scope: issued.Scope, Expiry: time.Now().Add(-time.Minute)}
	if err := creds.NewFileStore(p.CredentialFile("demo")).Save(cred); err != nil {
		return burstResult{}, err
	}
	srv.ResetStats()
	res := burstResult{callers: n}
	outputs := make([]string, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		cmd := exec.CommandContext(ctx, exe, "token", "--home", home, "--profile", "demo")
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Start(); err != nil {
			return res, fmt.Errorf("demo: start caller %d: %w", i, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Wait(); err != nil {
				errs[i] = strings.TrimSpace(stderr.String())
			}
			outputs[i] = strings.TrimSpace(out.String())
		}()
	}
	wg.Wait()
	res.wall = time.Since(start)
	distinct := map[string]bool{}
	for i := range n {
		if errs[i] != "" {
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
	if after, err := creds.NewFileStore(p.CredentialFile("demo")).Load(); err == nil {
		res.familyAlive = srv.Active(after.RefreshToken)
	}
	return res, nil
}
