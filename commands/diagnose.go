package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/diagnose"
)

// diagnose's exit codes, from the one table in exitcodes.go: 0 nothing caused by concurrent
// refreshes was found; ExitError (1) races were found, for CI; ExitUsage (2) an input could
// not be read (the others are still reported).
func diagnoseCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:      "diagnose",
		Usage:     "find refresh-token races in logs and explain them",
		UsageText: "tokctl diagnose [--window 1s] [--skew 1s] [--json] [FILE|-]…",
		Description: `Reads logs and reports incidents where refreshes of one credential were refused, with a
verdict, the evidence (FILE:LINE) and the fix that applies:

   race              a refresh succeeded and concurrent ones with the same credential were
                     refused within --window; later refreshes succeed (transient)
   reuse-revocation  the provider detected the reuse of a refresh token and revoked the token
                     family: the user must log in again
   revoked/expired   refused with no success near it or after it: the grant is gone
   unknown           not enough evidence

Reads tokctl's own event log (the default, with no FILE), Okta System Log and Auth0 tenant
log exports (a JSON array or JSON lines), Ory Hydra's log, Keycloak's event log
(org.keycloak.events, plain or JSON console lines; grouped by realm, client and session),
Dex's refusals, and any text or JSON-lines log that mentions invalid_grant or a token
endpoint's HTTP status, with RFC 3339, Apache/nginx, syslog or epoch timestamps. The format is detected per input; gzip is unpacked; large files
are streamed. Records from different hosts are grouped with --skew added to the window.

Exit status: 0 no race found, 1 races found (race or reuse-revocation), 2 unreadable input.

Examples:
   tokctl diagnose
   tokctl diagnose okta-system-log.json auth0-logs.jsonl
   kubectl logs deploy/api | tokctl diagnose --window 500ms -
   tokctl diagnose --json app.log.gz | jq '.incidents[] | select(.verdict == "race")'`,
		Flags: withGlobals(
			&cli.DurationFlag{Name: "window", Value: diagnose.DefaultWindow, Usage: "largest gap between records of one burst (`DURATION`, e.g. 200ms–2s)"},
			&cli.DurationFlag{Name: "skew", Value: diagnose.DefaultSkew, Usage: "clock difference tolerated between hosts (`DURATION`)"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
		),
		Action: func(c *cli.Context) error { return u.diagnose(c) },
	}
}

func (u *ui) diagnose(c *cli.Context) error {
	window, skew := c.Duration("window"), c.Duration("skew")
	if window <= 0 || window > time.Hour {
		return usageErrorf("--window must be between 1ns and 1h, not %s", window)
	}
	if skew < 0 {
		return usageErrorf("--skew must not be negative")
	}
	if skew == 0 {
		skew = -1 // diagnose.Options: zero means the default, negative none
	}
	names := c.Args().Slice()
	if len(names) == 0 {
		p, err := paths(c)
		if err != nil {
			return err
		}
		names = existing(eventLogPath(p)+".1", eventLogPath(p))
		if len(names) == 0 {
			return &userError{code: ExitUsage, err: fmt.Errorf("no event log at %s", eventLogPath(p)),
				hint: "name the logs to read (tokctl diagnose FILE…), or run tokctl without --no-event-log first"}
		}
	}
	inputs, closeAll, unreadable := u.openInputs(names)
	defer closeAll()
	if len(inputs) == 0 {
		return &userError{code: ExitUsage, err: joinUnreadable(unreadable)} // no report of nothing read
	}
	a := diagnose.New(diagnose.Options{Window: window, Skew: skew})
	for _, err := range a.Read(inputs...) {
		if err != nil {
			unreadable = append(unreadable, err)
		}
	}
	r := a.Report()
	var err error
	if c.Bool("json") {
		enc := json.NewEncoder(u.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = writeDiagnosis(u.stdout, r)
	}
	if err != nil {
		return err
	}
	u.malformedWarnings(r)
	switch {
	case len(unreadable) > 0:
		return &userError{code: ExitUsage, err: joinUnreadable(unreadable)}
	case r.Races() > 0:
		return &userError{code: ExitError, err: fmt.Errorf("found %d incident(s) caused by concurrent refreshes", r.Races())}
	}
	return nil
}

// openInputs opens the named logs ("-" is stdin); those it cannot open are returned as errors.
func (u *ui) openInputs(names []string) ([]diagnose.Input, func(), []error) {
	var (
		inputs []diagnose.Input
		files  []*os.File
		errs   []error
	)
	for _, n := range names {
		if n == "-" {
			inputs = append(inputs, diagnose.Input{Name: "stdin", R: u.stdin})
			continue
		}
		f, err := os.Open(n)
		if err == nil {
			var st os.FileInfo
			if st, err = f.Stat(); err == nil && st.IsDir() {
				err = errors.New("it is a directory")
			}
		}
		if err != nil {
			if f != nil {
				f.Close()
			}
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // "open NAME: …" would name the file twice
			}
			errs = append(errs, fmt.Errorf("cannot read %s: %w", n, err))
			continue
		}
		files = append(files, f)
		inputs = append(inputs, diagnose.Input{Name: n, R: f})
	}
	return inputs, func() {
		for _, f := range files {
			f.Close()
		}
	}, errs
}

// joinUnreadable makes one line of the inputs that could not be read.
func joinUnreadable(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return fmt.Errorf("%d inputs: %s", len(errs), strings.Join(msgs, "; "))
}

// existing returns those of paths that exist.
func existing(paths ...string) []string {
	var out []string
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// malformedWarnings names, on stderr, the inputs with records that could not be read.
func (u *ui) malformedWarnings(r *diagnose.Report) {
	for _, in := range r.Inputs {
		if in.Malformed > 0 {
			u.warnf("%s: %d malformed record(s) skipped", in.Name, in.Malformed)
		}
		if in.Entries == 0 && in.Records > 0 {
			u.warnf("%s: nothing about token refreshes in %d record(s)", in.Name, in.Records)
		}
	}
}

var _ io.Reader = (*os.File)(nil)
