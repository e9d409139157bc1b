package commands

import "github.com/urfave/cli/v2"

// execCommand is a placeholder; issue 4 fills it in.
func execCommand(u *ui) *cli.Command {
	return &cli.Command{Name: "exec", Hidden: true, Action: func(*cli.Context) error { return usageErrorf("not available yet") }}
}
