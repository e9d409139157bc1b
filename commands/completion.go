package commands

import "github.com/urfave/cli/v2"

// completionCommand is a placeholder; issue 4 fills it in.
func completionCommand(u *ui) *cli.Command {
	return &cli.Command{Name: "completion", Hidden: true, Action: func(*cli.Context) error { return usageErrorf("not available yet") }}
}
