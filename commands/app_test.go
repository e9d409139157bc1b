package commands

import (
	"bytes"
	"slices"
	"testing"

	"github.com/urfave/cli/v2"
)

// The command table names each command as its constructor does: a table entry out of step would
// only cost speed (commandsFor falls back to the whole tree), but should not go unnoticed.
func TestCommandTableNames(t *testing.T) {
	u := &ui{stdout: new(bytes.Buffer), stderr: new(bytes.Buffer)}
	for i, cmd := range allCommands(u) {
		if cmd.Name != commandTable[i].name {
			t.Errorf("commandTable[%d] is %q, its constructor builds %q", i, commandTable[i].name, cmd.Name)
		}
	}
}

func TestCommandName(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tokctl"}, ""},
		{[]string{"tokctl", "token"}, "token"},
		{[]string{"tokctl", "token", "--home", "H"}, "token"},
		{[]string{"tokctl", "--home", "H", "token"}, "token"},
		{[]string{"tokctl", "--home=H", "-v", "-p", "work", "profile", "set"}, "profile"},
		{[]string{"tokctl", "--no-event-log", "--quiet", "status"}, "status"},
		{[]string{"tokctl", "--help", "token"}, ""},    // the application's help lists every command
		{[]string{"tokctl", "-h", "token"}, ""},        //
		{[]string{"tokctl", "--version", "token"}, ""}, //
		{[]string{"tokctl", "--bogus", "token"}, ""},   // urfave/cli reports it, as before
		{[]string{"tokctl", "--", "token"}, ""},
		{[]string{"tokctl", "toke"}, "toke"}, // not in the table: the whole tree, for the error
		{[]string{"tokctl", "--home"}, ""},
	} {
		if got := commandName(tc.args); got != tc.want {
			t.Errorf("commandName(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// A command built alone prints the same help, for itself and its subcommands, as the same command
// in the whole tree; "man" always gets the whole tree (it prints every command).
func TestCommandBuiltAloneHelp(t *testing.T) {
	run := func(cmds func(*ui) []*cli.Command, args ...string) string {
		var out bytes.Buffer
		u := &ui{stdout: &out, stderr: &out}
		app := newApp(u, "test", cmds(u))
		app.RunContext(t.Context(), intersperse(app, args))
		return out.String()
	}
	for _, c := range commandTable {
		lazy := func(u *ui) []*cli.Command { return commandsFor(u, []string{"tokctl", c.name}) }
		if n := len(lazy(&ui{})); (n == 1) == (c.name == "man") {
			t.Errorf("%s: %d commands built", c.name, n)
		}
		all := [][]string{{"tokctl", c.name, "--help"}}
		for _, s := range c.build(&ui{}).Subcommands {
			all = append(all, []string{"tokctl", c.name, s.Name, "--help"})
		}
		for _, args := range all {
			if got, want := run(lazy, args...), run(allCommands, args...); got != want {
				t.Errorf("%q built alone prints\n%s\nin the whole tree\n%s", args, got, want)
			}
		}
	}
}

// The wrapped flags answer Names() as urfave/cli's own FlagNames does, for every flag of every
// command, and keep what urfave/cli and completion look for in a flag.
func TestFlagsKnowTheirNames(t *testing.T) {
	u := &ui{stdout: new(bytes.Buffer), stderr: new(bytes.Buffer)}
	app := newApp(u, "test", allCommands(u))
	var walk func(flags []cli.Flag, subs []*cli.Command)
	walk = func(flags []cli.Flag, subs []*cli.Command) {
		for _, f := range flags {
			var want []string
			switch f := f.(type) {
			case *namedString:
				want = f.StringFlag.Names()
			case *namedBool:
				want = f.BoolFlag.Names()
			case *namedDuration:
				want = f.DurationFlag.Names()
			case *namedInt:
				want = f.IntFlag.Names()
			case *namedStringSlice:
				want = f.StringSliceFlag.Names()
				if s, ok := cli.Flag(f).(interface{ IsSliceFlag() bool }); !ok || !s.IsSliceFlag() {
					t.Errorf("--%s lost IsSliceFlag", want[0])
				}
			default:
				t.Errorf("flag %v (%T) is not wrapped", f.Names(), f)
				continue
			}
			if !slices.Equal(f.Names(), want) {
				t.Errorf("wrapped flag names %q, urfave/cli says %q", f.Names(), want)
			}
			if _, ok := f.(cli.DocGenerationFlag); !ok {
				t.Errorf("--%s lost DocGenerationFlag", want[0])
			}
		}
		for _, c := range subs {
			walk(c.Flags, c.Subcommands)
		}
	}
	walk(app.Flags, app.Commands)
	if n := flagNames("name, n", []string{"alias x"}); !slices.Equal(n, []string{"name", "alias"}) {
		t.Errorf("flagNames cuts v1-style names to %q", n)
	}
}
