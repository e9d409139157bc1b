package commands

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// manCommand prints tokctl(1) in roff, built from the same definition as --help; release
// builds ship it (goreleaser.yaml runs "tokctl man"). Hidden: it is for packagers. It does not
// use urfave/cli's ToMan, which the release build tag urfave_cli_no_docs leaves out.
func manCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:   "man",
		Usage:  "print the tokctl(1) manual page (roff)",
		Hidden: true,
		Flags:  withGlobals(),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("man takes no arguments")
			}
			return writeMan(u.stdout, c.App)
		},
	}
}

func writeMan(w io.Writer, app *cli.App) error {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH TOKCTL 1 \"\" \"tokctl %s\" \"User Commands\"\n", roffText(app.Version))
	fmt.Fprintf(&b, ".SH NAME\ntokctl \\- %s\n", roffText(app.Usage))
	b.WriteString(".SH SYNOPSIS\n.B tokctl\n.RI [ options ]\n.I command\n.RI [ \"command options\" ]\n.RI [ arguments ]\n")
	b.WriteString(".SH DESCRIPTION\n")
	roffParagraphs(&b, app.Description)
	b.WriteString(".SH COMMANDS\n")
	for _, c := range app.Commands {
		manCommandSection(&b, "tokctl", c)
	}
	b.WriteString(".SH OPTIONS\nEvery command accepts these options, before or after its name.\n")
	manFlags(&b, slices.Concat(globalFlags(), []cli.Flag{cli.HelpFlag, cli.VersionFlag}))
	b.WriteString(".SH ENVIRONMENT\n")
	for _, f := range globalFlags() {
		if d, ok := f.(cli.DocGenerationFlag); ok {
			for _, env := range d.GetEnvVars() {
				fmt.Fprintf(&b, ".TP\n.B %s\nAs \\fB\\-\\-%s\\fR.\n", env, roffText(f.Names()[0]))
			}
		}
	}
	b.WriteString(`.TP
.BR XDG_CONFIG_HOME ", " XDG_STATE_HOME
Where profiles and credentials live when no home is given (default
.I ~/.config
and
.IR ~/.local/state ).
.TP
.B BROWSER
The browser
.B tokctl login
opens.
.SH FILES
.TP
.I $XDG_CONFIG_HOME/tokctl/profiles/NAME.json
A profile: the provider's endpoints and the client; never a secret.
.TP
.I $XDG_STATE_HOME/tokctl/credentials/NAME.json
The credential (mode 0600, in a 0700 directory), with the lock file
.I NAME.json.lock
beside it. With
.B \-\-home
.IR DIR ,
both trees are under
.IR DIR .
.SH EXIT STATUS
`)
	for _, e := range exitStatuses {
		fmt.Fprintf(&b, ".TP\n.B %d\n%s\n", e.code, roffText(e.meaning))
	}
	b.WriteString(".SH SEE ALSO\n.BR git-credential (1),\n.BR kubectl (1),\n.BR curl (1)\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// exitStatuses are the exit codes of exitcodes.go, in words (README.md has the same table).
var exitStatuses = []struct {
	code    int
	meaning string
}{
	{ExitOK, "Success."},
	{ExitError, "Any other error (corrupt credential, provider error such as invalid_client)."},
	{ExitUsage, "Usage or configuration error: unknown profile, bad flag, unreadable config."},
	{ExitLogin, "Login required: no credential, or the refresh token is permanently invalid."},
	{ExitLockTimeout, "Timed out waiting for the lock; the message names the holder (pid, host, since)."},
	{ExitUnavailable, "Provider unreachable or failing after retries."},
	{ExitInterrupted, "Interrupted."},
}

func manCommandSection(b *strings.Builder, parent string, c *cli.Command) {
	if c.Hidden {
		return
	}
	path := parent + " " + c.Name
	fmt.Fprintf(b, ".SS \"%s\"\n%s.\n", roffText(path), roffText(upperFirst(c.Usage)))
	if c.UsageText != "" {
		b.WriteString(".PP\n.nf\n")
		for _, line := range strings.Split(c.UsageText, "\n") {
			fmt.Fprintf(b, "%s\n", roffLine(strings.TrimSpace(line)))
		}
		b.WriteString(".fi\n")
	} else if len(c.Subcommands) == 0 {
		synopsis := path + " [options]"
		if c.ArgsUsage != "" {
			synopsis += " " + c.ArgsUsage
		}
		fmt.Fprintf(b, ".PP\n.B %s\n", roffText(synopsis))
	}
	roffParagraphs(b, c.Description)
	var own []cli.Flag
	for _, f := range c.Flags {
		if !slices.ContainsFunc(globalFlags(), func(g cli.Flag) bool { return g.Names()[0] == f.Names()[0] }) {
			own = append(own, f)
		}
	}
	manFlags(b, own)
	for _, sub := range c.Subcommands {
		manCommandSection(b, path, sub)
	}
}

func manFlags(b *strings.Builder, flags []cli.Flag) {
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		d, ok := f.(cli.DocGenerationFlag)
		if !ok {
			continue
		}
		placeholder, usage := unquote(d.GetUsage())
		if placeholder == "" && d.TakesValue() {
			placeholder = "value"
		}
		var forms []string
		for _, name := range f.Names() {
			form := `\fB\-` + roffText(name) + `\fR`
			if len(name) > 1 {
				form = `\fB\-\-` + roffText(name) + `\fR`
			}
			if placeholder != "" {
				form += ` \fI` + roffText(placeholder) + `\fR`
			}
			forms = append(forms, form)
		}
		fmt.Fprintf(b, ".TP\n%s\n%s", strings.Join(forms, ", "), roffLine(upperFirst(usage)))
		if def := d.GetDefaultText(); d.TakesValue() && def != "" && def != "0" && def != `""` {
			fmt.Fprintf(b, " (default: %s)", roffText(strings.Trim(def, `"`)))
		}
		b.WriteString(".\n")
	}
}

// unquote splits urfave/cli's usage convention: "root `DIR` of …" names the placeholder DIR.
func unquote(usage string) (placeholder, text string) {
	if _, rest, ok := strings.Cut(usage, "`"); ok {
		placeholder, _, _ = strings.Cut(rest, "`")
	}
	return placeholder, strings.ReplaceAll(usage, "`", "")
}

// roffParagraphs renders a help description: blank lines part paragraphs, indented lines
// (examples) are kept as they are.
func roffParagraphs(b *strings.Builder, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	b.WriteString(".PP\n")
	literal := false
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		indented := strings.HasPrefix(line, "   ")
		switch {
		case strings.TrimSpace(line) == "":
			if literal {
				b.WriteString(".fi\n.RE\n")
				literal = false
			}
			b.WriteString(".PP\n")
			continue
		case indented && !literal:
			b.WriteString(".RS 4\n.nf\n")
			literal = true
		case !indented && literal:
			b.WriteString(".fi\n.RE\n")
			literal = false
		}
		if literal {
			line = strings.TrimPrefix(line, "   ")
		}
		b.WriteString(roffLine(line) + "\n")
	}
	if literal {
		b.WriteString(".fi\n.RE\n")
	}
}

// roffText escapes text for roff: backslashes; hyphens, which roff would otherwise set as
// typographic hyphens (breaking copy-paste of flags); and non-ASCII characters, which not
// every man(1) pipeline decodes.
func roffText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r > 0x7e:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// roffLine escapes a whole output line: a leading "." or "'" would be read as a request.
func roffLine(s string) string {
	s = roffText(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
