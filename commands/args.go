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
