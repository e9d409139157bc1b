package commands

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// intersperse moves each command's flags in front of its positional arguments, so that
// "tokctl profile set work --provider okta" means the same as
// "tokctl profile set --provider okta work". urfave/cli v2 stops parsing flags at the first
// positional argument; users of a credential helper should not have to know that.
// Everything after "--" is left exactly as it is.
func intersperse(app *cli.App, args []string) []string {
	if len(args) == 0 {
		return args
	}
	out := []string{args[0]}
	commands, flags := app.Commands, app.Flags
	var positional []string
	passthrough := false
	i := 1
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			out = append(out, a)
			if !strings.Contains(a, "=") && takesValue(flags, a) && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			continue
		}
		if len(positional) == 0 {
			if cmd := findCommand(commands, a); cmd != nil {
				out = append(out, a)
				commands, flags = cmd.Subcommands, cmd.Flags
				passthrough = passthroughCommands[cmd.Name]
				continue
			}
		}
		if passthrough { // "tokctl exec mytool -v": everything from mytool on is mytool's
			i--
			break
		}
		positional = append(positional, a)
	}
	if len(commands) > 0 { // not a leaf: leave an unknown command name for urfave/cli to report
		return append(append(out, positional...), args[i:]...)
	}
	if i < len(args) || len(positional) > 0 {
		out = append(out, "--")
	}
	out = append(out, positional...)
	if i < len(args) {
		out = append(out, args[i+1:]...)
	}
	return out
}

// passthroughCommands run another program: their first positional argument starts that
// program's command line, as if "--" stood before it.
var passthroughCommands = map[string]bool{"exec": true}

func findCommand(commands []*cli.Command, name string) *cli.Command {
	for _, c := range commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				tv, ok := f.(interface{ TakesValue() bool })
				return ok && tv.TakesValue()
			}
		}
	}
	return false
}

// Flags that know their names. urfave/cli v2 works out a flag's names afresh on every Names()
// call, with a regular expression (FlagNames strips what follows a comma or space, for v1-style
// "name, n" strings), and calls Names() on every flag of the command, again and again, while
// it parses: runFlagActions asks IsSet of each name, and IsSet and lookupFlag each walk the
// flags. For "tokctl token" (16 flags) that was some 200 regexp runs, ≈ 40 % of the process's
// instructions (bench/RESULTS.md). These wrappers embed the flag — every method and interface
// of it stays, its help text and parsing are its own — and answer Names() from a slice worked
// out once, the way FlagNames would. Flags of other types are left as they are.
type (
	namedString struct {
		*cli.StringFlag
		names []string
	}
	namedBool struct {
		*cli.BoolFlag
		names []string
	}
	namedDuration struct {
		*cli.DurationFlag
		names []string
	}
	namedInt struct {
		*cli.IntFlag
		names []string
	}
	namedStringSlice struct {
		*cli.StringSliceFlag
		names []string
	}
)

func (f *namedString) Names() []string      { return f.names }
func (f *namedBool) Names() []string        { return f.names }
func (f *namedDuration) Names() []string    { return f.names }
func (f *namedInt) Names() []string         { return f.names }
func (f *namedStringSlice) Names() []string { return f.names }

// withNames returns f wrapped so that Names() costs nothing; f itself when it is wrapped already
// or of a type without a wrapper.
func withNames(f cli.Flag) cli.Flag {
	switch f := f.(type) {
	case *cli.StringFlag:
		return &namedString{f, flagNames(f.Name, f.Aliases)}
	case *cli.BoolFlag:
		return &namedBool{f, flagNames(f.Name, f.Aliases)}
	case *cli.DurationFlag:
		return &namedDuration{f, flagNames(f.Name, f.Aliases)}
	case *cli.IntFlag:
		return &namedInt{f, flagNames(f.Name, f.Aliases)}
	case *cli.StringSliceFlag:
		return &namedStringSlice{f, flagNames(f.Name, f.Aliases)}
	}
	return f
}

// withAllNames wraps each flag of flags in place (withNames) and returns flags.
func withAllNames(flags []cli.Flag) []cli.Flag {
	for i, f := range flags {
		flags[i] = withNames(f)
	}
	return flags
}

// flagNames is cli.FlagNames without the regular expression: each name cut at its first comma
// or space.
func flagNames(name string, aliases []string) []string {
	names := make([]string, 0, 1+len(aliases))
	for _, n := range append([]string{name}, aliases...) {
		if i := strings.IndexAny(n, ", "); i >= 0 {
			n = n[:i]
		}
		names = append(names, n)
	}
	return names
}
