package commands

// Shell completion. "tokctl completion SHELL" prints a small script (completion_scripts.go)
// that, on every <TAB>, asks the binary itself: "tokctl __complete WORD… CURRENT". The answer
// comes from the CLI definition (app.Commands and their Flags) and from the profiles on disk,
// so the candidates always match the installed binary and its --home.
//
// Regenerate the checked-in scripts in completions/ after changing one ("go generate ./commands"):
//
//go:generate sh -c "go run .. completion bash > ../completions/tokctl.bash"
//go:generate sh -c "go run .. completion zsh > ../completions/tokctl.zsh"
//go:generate sh -c "go run .. completion fish > ../completions/tokctl.fish"
//go:generate sh -c "go run .. completion powershell > ../completions/tokctl.ps1"

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/providers"
)

// completeCommand is the hidden first argument the completion scripts call. Main answers it
// before anything else runs: no flags are parsed, nothing is written but candidates.
const completeCommand = "__complete"

// Answer lines besides candidates: the shell should complete file or directory names itself.
const (
	completeFiles = ":files"
	completeDirs  = ":dirs"
)

func completionCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh, fish or powershell",
		ArgsUsage: "bash|zsh|fish|powershell",
		Description: `Prints a completion script on stdout. It completes commands, flags, flag values and profile
names (from --home, TOKCTL_HOME or the XDG directories), asking tokctl itself on each <TAB>.

Examples:
   source <(tokctl completion bash)                 # now; or add the line to ~/.bashrc
   tokctl completion bash > ~/.local/share/bash-completion/completions/tokctl
   tokctl completion zsh > "${fpath[1]}/_tokctl"    # then start a new shell
   tokctl completion fish > ~/.config/fish/completions/tokctl.fish
   tokctl completion powershell | Out-String | Invoke-Expression   # or add it to $PROFILE`,
		Flags: withGlobals(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("completion needs one shell: %s", strings.Join(completionShells, ", "))
			}
			script, ok := completionScripts[c.Args().First()]
			if !ok {
				return usageErrorf("no completion for shell %q: choose %s", c.Args().First(), strings.Join(completionShells, ", "))
			}
			_, err := io.WriteString(u.stdout, script)
			return err
		},
	}
}

// complete answers "tokctl __complete WORD… CURRENT": the words before the cursor (without
// the program name) and the word being completed, possibly empty. It prints one candidate a
// line, "value" or "value<TAB>description", and never fails: a completion that cannot help
// prints nothing.
func complete(app *cli.App, w io.Writer, words []string, getenv func(string) string) int {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	p := walk(app, words[:len(words)-1])
	for _, c := range p.candidates(cur, getenv) {
		fmt.Fprintln(w, c)
	}
	return ExitOK
}

// position is where the words before the cursor leave the command line.
type position struct {
	path     string // "profile set"; "" at the top level
	flags    []cli.Flag
	subs     []*cli.Command
	args     int             // positional arguments given
	seen     map[string]bool // flags given, by first name
	home     string          // --home given
	dashdash bool            // after "--": only positional arguments
	pending  cli.Flag        // the flag whose value is being completed
}

func walk(app *cli.App, words []string) *position {
	p := &position{flags: slices.Concat(app.Flags, []cli.Flag{cli.VersionFlag}), subs: app.Commands, seen: map[string]bool{}}
	for i := 0; i < len(words); i++ {
		word := words[i]
		switch {
		case p.dashdash:
			p.args++
		case word == "--":
			p.dashdash = true
		case strings.HasPrefix(word, "-") && word != "-":
			name, value, hasValue := strings.Cut(strings.TrimLeft(word, "-"), "=")
			f := lookupFlag(p.flags, name)
			if f == nil {
				continue
			}
			p.seen[f.Names()[0]] = true
			if takesValue(p.flags, "--"+name) && !hasValue {
				if i+1 == len(words) {
					p.pending = f
					continue
				}
				i++
				value = words[i]
			}
			if f.Names()[0] == "home" {
				p.home = value
			}
		default:
			if sub := findCommand(p.subs, word); sub != nil && p.args == 0 {
				p.path = strings.TrimSpace(p.path + " " + sub.Name)
				p.flags, p.subs = sub.Flags, sub.Subcommands
				continue
			}
			p.args++
		}
	}
	return p
}

func (p *position) candidates(cur string, getenv func(string) string) []string {
	if p.pending != nil {
		return p.values(p.pending, "", cur, getenv)
	}
	if p.dashdash {
		return []string{completeFiles}
	}
	if name, value, ok := strings.Cut(cur, "="); ok && strings.HasPrefix(name, "--") {
		if f := lookupFlag(p.flags, name[2:]); f != nil && takesValue(p.flags, name) {
			return p.values(f, name+"=", value, getenv)
		}
		return nil
	}
	if strings.HasPrefix(cur, "-") {
		return p.flagNames(cur)
	}
	if p.args == 0 && len(p.subs) > 0 {
		var out []string
		for _, c := range p.subs {
			if !c.Hidden && strings.HasPrefix(c.Name, cur) {
				out = append(out, described(c.Name, c.Usage))
			}
		}
		return out
	}
	if values := argValues[p.path]; values != nil && p.args == 0 {
		return filter("", cur, values(p, getenv))
	}
	return nil
}

// flagNames offers the flags not given yet ("--scope" and other repeatable ones always),
// with their usage as description.
func (p *position) flagNames(cur string) []string {
	var out []string
	for _, f := range slices.Concat(p.flags, []cli.Flag{cli.HelpFlag}) {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		if s, ok := f.(interface{ IsSliceFlag() bool }); p.seen[f.Names()[0]] && !(ok && s.IsSliceFlag()) {
			continue
		}
		usage := ""
		if d, ok := f.(cli.DocGenerationFlag); ok {
			usage = strings.ReplaceAll(d.GetUsage(), "`", "")
		}
		for _, name := range f.Names() {
			form := "--" + name
			if len(name) == 1 {
				form = "-" + name
			}
			if strings.HasPrefix(form, cur) {
				out = append(out, described(form, usage))
			}
		}
	}
	return out
}

// values completes the value of flag f; prefix ("--output=") is put back in front of each.
func (p *position) values(f cli.Flag, prefix, cur string, getenv func(string) string) []string {
	name := f.Names()[0]
	switch {
	case flagValues[name] != nil:
		return filter(prefix, cur, flagValues[name](p, getenv))
	case name == "home":
		return []string{completeDirs}
	case strings.HasSuffix(name, "-file"): // --creds-file, --client-secret-file
		return []string{completeFiles}
	}
	return nil
}

// flagValues and argValues name what a flag's value or a command's first argument can be.
// TestCompleteAnswers asks for each of them, so a renamed flag or command fails it.
var (
	flagValues = map[string]func(*position, func(string) string) []string{
		"profile":  profileNames,
		"provider": func(*position, func(string) string) []string { return providers.Names() },
		"output":   fixed("token", "header", "json"),
		"grant":    fixed("authorization_code", "client_credentials"),
		"store":    fixed("file"),
	}
	argValues = map[string]func(*position, func(string) string) []string{
		"profile show":   profileNames,
		"profile remove": profileNames,
		"profile set":    profileNames,
		"git-credential": fixed("get", "store", "erase"),
		"completion":     fixed(completionShells...),
		"import":         fixed(completeFiles),
	}
)

func fixed(values ...string) func(*position, func(string) string) []string {
	return func(*position, func(string) string) []string { return values }
}

// profileNames lists the profiles under the --home given on the command line, else
// TOKCTL_HOME, else the XDG directories: the same resolution as every command.
func profileNames(p *position, getenv func(string) string) []string {
	home := p.home
	if home == "" {
		home = getenv("TOKCTL_HOME")
	}
	if rest, ok := strings.CutPrefix(home, "~/"); ok && getenv("HOME") != "" {
		home = filepath.Join(getenv("HOME"), rest) // the shell left "--home ~/x" unexpanded
	}
	paths, err := config.ResolvePaths(home, getenv)
	if err != nil {
		return nil
	}
	names, _ := paths.ListProfiles()
	return names
}

// filter keeps the values that start with cur, and an answer like completeFiles as it is.
func filter(prefix, cur string, values []string) []string {
	if len(values) == 1 && strings.HasPrefix(values[0], ":") {
		return values
	}
	var out []string
	for _, v := range values {
		if strings.HasPrefix(v, cur) {
			out = append(out, prefix+v)
		}
	}
	return out
}

func described(value, description string) string {
	if description == "" {
		return value
	}
	return value + "\t" + oneLine(description)
}

func lookupFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}
