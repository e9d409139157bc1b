package commands

import "github.com/urfave/cli/v2"

// gitCredentialCommand is a placeholder; issue 4 fills it in.
func gitCredentialCommand(u *ui) *cli.Command {
	return &cli.Command{Name: "git-credential", Hidden: true, Action: func(*cli.Context) error { return usageErrorf("not available yet") }}
}
