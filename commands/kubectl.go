package commands

import "github.com/urfave/cli/v2"

// kubectlCommand is a placeholder; issue 4 fills it in.
func kubectlCommand(u *ui) *cli.Command {
	return &cli.Command{Name: "kubectl", Hidden: true, Action: func(*cli.Context) error { return usageErrorf("not available yet") }}
}
