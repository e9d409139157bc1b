package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/kubeexec"
)

func kubectlCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:  "kubectl",
		Usage: "kubectl credential plugin: answer kubectl's ExecCredential request with a valid token",
		UsageText: `tokctl kubectl [--profile NAME]
   tokctl kubectl --print-config [--profile NAME]`,
		Description: `kubectl runs "tokctl kubectl --profile NAME" when the kubeconfig's user says so (an exec
section). tokctl reads kubectl's request from KUBERNETES_EXEC_INFO, gets a valid access token as
"tokctl token" does (one refresh however many kubectl commands run at once) and prints an
ExecCredential in the request's apiVersion (client.authentication.k8s.io/v1 or v1beta1) whose
expirationTimestamp is 30 s before the token expires, so kubectl asks again in time.

It never prompts unless kubectl says it may (spec.interactive: kubectl runs in a terminal and
the kubeconfig has interactiveMode IfAvailable or Always); then a required login opens the
browser. Otherwise a required login fails with exit 3 and the hint on stderr, which kubectl
shows.

--print-config prints a kubeconfig holding the user "tokctl-NAME" for the profile: add the
file to KUBECONFIG, or paste its entry under "users:".

Example:
   tokctl kubectl --print-config --profile work > ~/.kube/tokctl-work.yaml`,
		Flags: withGlobals(
			&cli.BoolFlag{Name: "print-config", Usage: "print the kubeconfig user that runs this plugin for the profile"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("kubectl takes no arguments, got %q", c.Args().First())
			}
			if c.Bool("print-config") {
				return u.printKubeconfig(c)
			}
			return u.kubectl(c)
		},
	}
}

// kubectl answers the ExecCredential request in KUBERNETES_EXEC_INFO.
func (u *ui) kubectl(c *cli.Context) error {
	req, err := kubeexec.ParseExecInfo(os.Getenv(kubeexec.InfoEnv))
	if err != nil {
		return &userError{code: ExitUsage, err: err}
	}
	ctx := c.Context
	if req.Spec.Interactive {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Minute) // as "tokctl login" waits for the user
		defer cancel()
	}
	cred, err := u.profileToken(ctx, c, tokenRequest{
		command: "tokctl kubectl", interactive: req.Spec.Interactive,
		hint: func(profile string) string {
			return fmt.Sprintf("run \"tokctl login --profile %s\" in a terminal, then run kubectl again", profile)
		},
	})
	if err != nil {
		return err
	}
	resp, err := kubeexec.Response(req.APIVersion, cred.AccessToken, cred.Expiry, time.Now())
	if err != nil {
		return err
	}
	data, err := resp.Marshal()
	if err != nil {
		return err
	}
	_, err = u.stdout.Write(data)
	return err
}

// printKubeconfig prints a kubeconfig holding the user that runs "tokctl kubectl" for the
// profile. The command is "tokctl", found in kubectl's PATH. A --home / TOKCTL_HOME in effect
// is passed on to the plugin in the exec env, so kubectl finds the same profile.
func (u *ui) printKubeconfig(c *cli.Context) error {
	_, prof, err := loadProfile(c)
	if err != nil {
		return err
	}
	user := kubeexec.User{Name: "tokctl-" + prof.Name, Command: "tokctl", Args: []string{"kubectl", "--profile", prof.Name}}
	if home := global(c, "home"); home != "" {
		if abs, err := filepath.Abs(home); err == nil {
			home = abs
		}
		user.Env = []kubeexec.EnvVar{{Name: "TOKCTL_HOME", Value: home}}
	}
	fmt.Fprintf(u.stdout, "# kubeconfig user %q: kubectl runs \"tokctl kubectl --profile %s\" for a token.\n", user.Name, prof.Name)
	fmt.Fprintf(u.stdout, "# Add this file to KUBECONFIG (or paste the entry under \"users:\"), then:\n")
	fmt.Fprintf(u.stdout, "#   kubectl config set-context CONTEXT --cluster CLUSTER --user %s\n", user.Name)
	_, err = fmt.Fprint(u.stdout, kubeexec.KubeconfigYAML(user))
	return err
}

// tokenRequest says how profileToken gets the token and what it says when a login is needed.
type tokenRequest struct {
	command     string // recorded in the lock's owner record
	minTTL      time.Duration
	lockTimeout time.Duration
	interactive bool                        // run the login when one is required
	hint        func(profile string) string // the hint for exit 3
}

// profileToken runs the refresh transaction of "tokctl token" for the --profile profile. When a
// login is required it logs in (browser) if r.interactive, and otherwise fails with exit 3 and
// r.hint.
func (u *ui) profileToken(ctx context.Context, c *cli.Context, r tokenRequest) (*creds.Credential, error) {
	p, prof, err := loadProfile(c)
	if err != nil {
		return nil, err
	}
	st, err := u.openStore(p, prof, keyringTimeout)
	if err != nil {
		return nil, err
	}
	defer closeStore(st)
	src, err := u.source(p, prof, st, r.minTTL, r.lockTimeout)
	if err != nil {
		return nil, err
	}
	src.Command = r.command
	cred, err := src.Get(ctx)
	var login *creds.LoginRequiredError
	if errors.As(err, &login) && r.interactive {
		u.infof("tokctl: %v; logging in", err)
		cred, err = u.login(ctx, p, prof, loginMode{})
	}
	if errors.As(err, &login) {
		return nil, withHint(ExitLogin, fmt.Errorf("login required for profile %q: %w", prof.Name, err), r.hint(prof.Name))
	}
	return cred, err
}
