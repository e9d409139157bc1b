package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/gitcred"
	"github.com/tokctl/tokctl/providers"
)

// gitHelperName is the name git runs for credential.helper "tokctl": "git credential-tokctl"
// finds git-credential-tokctl on PATH, a symlink to tokctl.
const gitHelperName = "git-credential-tokctl"

// gitCredentialArgs turns an invocation as git-credential-tokctl into "tokctl git-credential …".
func gitCredentialArgs(args []string) []string {
	if len(args) == 0 || strings.TrimSuffix(filepath.Base(args[0]), ".exe") != gitHelperName {
		return args
	}
	return append([]string{args[0], "git-credential"}, args[1:]...)
}

func gitCredentialCommand(u *ui) *cli.Command {
	return &cli.Command{
		Name:      "git-credential",
		Usage:     "git credential helper: give git the access token as the password",
		ArgsUsage: "get|store|erase",
		Description: `Speaks git's credential helper protocol (gitcredentials(7)). The action is the last argument;
other actions are ignored. "get" answers with the profile's git username and a valid access token
(refreshed once however many git processes ask), "erase" (git says the token was rejected)
makes the next "get" refresh, "store" is ignored. stdout carries only protocol lines.

The profile is --profile / TOKCTL_PROFILE when given, otherwise the one whose --host entries
serve the URL git asks about (tokctl profile set NAME --host github.com). For a URL no profile
serves, tokctl prints nothing and git tries its next helper. When a login is needed, tokctl says
so on stderr and prints nothing; it never prompts and never opens a browser unless
--interactive is given (and GIT_TERMINAL_PROMPT is not 0). The exit status is 0 unless tokctl
itself was called wrongly: git ignores it.

Examples:
   git config --global credential.https://github.com.helper '!tokctl git-credential'
   git config --global credential.https://gitlab.com.helper 'tokctl --profile gl'   # with git-credential-tokctl on PATH
   printf 'protocol=https\nhost=github.com\n\n' | tokctl git-credential get`,
		Flags: withGlobals(
			&cli.DurationFlag{Name: "min-ttl", Value: creds.DefaultMinTTL, Usage: "refresh when the token is valid for less than `DURATION`"},
			&cli.DurationFlag{Name: "lock-timeout", Value: creds.DefaultLockTimeout, Usage: "give up waiting for another refresh after `DURATION`"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "when a login is required, log in with the browser (never when GIT_TERMINAL_PROMPT=0)"},
		),
		Action: func(c *cli.Context) error { return u.gitCredential(c) },
	}
}

func (u *ui) gitCredential(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErrorf("git-credential needs an action: get, store or erase (git adds it)")
	}
	action := c.Args().Get(c.NArg() - 1)
	in := bufio.NewReaderSize(u.stdin, gitcred.MaxLine)
	switch action {
	case "get", "erase":
	case "store":
		io.Copy(io.Discard, io.LimitReader(in, gitcred.MaxInput)) // tokctl keeps its own credential
		return nil
	default:
		return nil // gitcredentials(7): unknown actions are ignored
	}
	req, err := gitcred.ParseReader(in)
	if err != nil {
		return usageErrorf("git-credential %s: %v", action, err)
	}
	p, err := paths(c)
	if err != nil {
		return err
	}
	prof, err := u.gitProfile(c, p, req)
	if err != nil || prof == nil {
		return err
	}
	if action == "erase" {
		u.gitErase(c.Context, p, prof, req)
		return nil
	}
	u.gitGet(c, p, prof, req)
	return nil
}

// gitProfile picks the profile for the request: the named one (--profile / TOKCTL_PROFILE) if
// its hosts serve the URL (a profile without hosts serves any http(s) URL git asks about); else
// the profile whose hosts serve it most closely. nil means tokctl does not serve the URL.
func (u *ui) gitProfile(c *cli.Context, p config.Paths, req *gitcred.Request) (*config.Profile, error) {
	if profileGiven(c) {
		prof, err := p.LoadProfile(global(c, "profile"))
		if err != nil {
			return nil, &userError{code: ExitUsage, err: err, hint: hintFor(err)}
		}
		if len(prof.Hosts) == 0 { // the git config scopes the helper; still, no token for cert:// or smtp://
			if !strings.EqualFold(req.Protocol, "https") && !strings.EqualFold(req.Protocol, "http") {
				return nil, nil
			}
			return prof, nil
		}
		if score, _ := u.gitServes(prof, req); score == 0 {
			u.debugf("profile %q does not serve %s (hosts %s)", prof.Name, req.URL(), strings.Join(prof.Hosts, " "))
			return nil, nil
		}
		return prof, nil
	}
	names, err := p.ListProfiles()
	if err != nil {
		return nil, err
	}
	var best *config.Profile
	bestScore, tie, pathless := 0, "", ""
	for _, name := range names {
		prof, err := p.LoadProfile(name)
		if err != nil {
			u.warnf("skipping profile %s: %v", name, err)
			continue
		}
		score, needsPath := u.gitServes(prof, req)
		if needsPath && pathless == "" {
			pathless = name
		}
		switch {
		case score > bestScore:
			best, bestScore, tie = prof, score, ""
		case score > 0 && score == bestScore:
			tie = name
		}
	}
	if tie != "" {
		u.warnf("profiles %q and %q both serve %s; using %q (make their --host entries distinct)", best.Name, tie, req.URL(), best.Name)
	}
	if best == nil && pathless != "" {
		u.hintf("profile %q serves only some paths of %s://%s, but git sent no path; run \"git config --global credential.%s://%s.useHttpPath true\"",
			pathless, req.Protocol, req.Host, req.Protocol, req.Host)
	}
	if best == nil {
		u.debugf("no profile serves %s", req.URL())
	}
	return best, nil
}

// profileGiven reports whether --profile or TOKCTL_PROFILE named a profile.
func profileGiven(c *cli.Context) bool {
	for _, cc := range c.Lineage() {
		for _, n := range cc.LocalFlagNames() {
			if n == "profile" || n == "p" {
				return true
			}
		}
	}
	return os.Getenv("TOKCTL_PROFILE") != ""
}

// gitServes scores how closely the profile's host entries serve the request (0: not at all).
func (u *ui) gitServes(prof *config.Profile, req *gitcred.Request) (score int, needsPath bool) {
	for _, h := range prof.Hosts {
		pat, err := gitcred.ParsePattern(h)
		if err != nil {
			u.warnf("profile %s: %v", prof.Name, err)
			continue
		}
		s, np := pat.Match(req)
		score, needsPath = max(score, s), needsPath || np
	}
	return score, needsPath
}

// gitGet answers get: the access token as the password (or as a Bearer credential for git
// ≥ 2.46), refreshed under the lock when needed. Failures go to stderr with a hint and leave
// stdout empty, so git moves on to its next helper or its own error.
func (u *ui) gitGet(c *cli.Context, p config.Paths, prof *config.Profile, req *gitcred.Request) {
	minTTL := c.Duration("min-ttl")
	if minTTL == 0 {
		minTTL = -1 // creds.Source: zero means the default, negative means none
	}
	store, err := u.openStore(p, prof, keyringTimeout)
	if err != nil {
		u.fail(err)
		return
	}
	defer closeStore(store)
	src, err := u.source(p, prof, store, minTTL, c.Duration("lock-timeout"))
	if err != nil {
		u.fail(err)
		return
	}
	src.Command = "tokctl git-credential"
	cred, err := src.Get(c.Context)
	var login *creds.LoginRequiredError
	if errors.As(err, &login) && c.Bool("interactive") && gitMayPrompt() {
		if open, why := browserChoice(false); !open {
			u.infof("tokctl: cannot log in from git here (%s)", why)
		} else {
			ctx, cancel := context.WithTimeout(c.Context, 5*time.Minute)
			cred, err = u.login(ctx, p, prof, loginMode{})
			cancel()
		}
	}
	if errors.As(err, &login) {
		err = withHint(ExitLogin, err, fmt.Sprintf("run \"tokctl login --profile %s\"; git will then use the token", prof.Name))
	}
	if err != nil {
		u.fail(err)
		return
	}
	resp := &gitcred.Response{PasswordExpiry: cred.Expiry}
	if req.HasCapability("authtype") {
		resp.Capabilities, resp.AuthType, resp.Credential = []string{"authtype"}, "Bearer", cred.AccessToken
	} else {
		resp.Username, resp.Password = gitUsername(prof), cred.AccessToken
	}
	out, err := resp.Format()
	if err != nil {
		u.fail(fmt.Errorf("profile %s: the stored access token cannot be given to git: %w", prof.Name, err))
		return
	}
	u.stdout.Write(out)
}

// gitUsername is the profile's git username, else its preset's, else "oauth2".
func gitUsername(prof *config.Profile) string {
	if prof.GitUsername != "" {
		return prof.GitUsername
	}
	if preset, ok := providers.Lookup(prof.Provider); ok && preset.GitUsername != "" {
		return preset.GitUsername
	}
	return "oauth2"
}

// gitMayPrompt is false when GIT_TERMINAL_PROMPT turns git's own prompts off.
func gitMayPrompt() bool {
	switch strings.ToLower(os.Getenv("GIT_TERMINAL_PROMPT")) {
	case "0", "false", "no", "off":
		return false
	}
	return true
}

// gitErase answers erase, which git sends after the server rejected the credential (401): if the
// rejected token is the stored access token, mark it expired so the next get refreshes. The
// refresh token is kept as it is; a token a sibling has already replaced is left alone.
func (u *ui) gitErase(ctx context.Context, p config.Paths, prof *config.Profile, req *gitcred.Request) {
	rejected := req.Password
	if req.Credential != "" {
		rejected = req.Credential
	}
	store, err := u.openStore(p, prof, keyringTimeout)
	if err != nil {
		u.fail(err)
		return
	}
	defer closeStore(store)
	forget := func(c *creds.Credential) bool {
		return c.AccessToken != "" && (rejected == "" || c.AccessToken == rejected) &&
			(c.Expiry.IsZero() || c.Expiry.After(time.Now()))
	}
	if c, err := store.Load(); err != nil || !forget(c) {
		u.debugf("erase: nothing to forget for profile %s", prof.Name)
		return
	}
	// The profile's lock: the lock file, or a fleet store's own lock.
	src := &creds.Source{Store: store, LockPath: p.LockFile(prof.Name), Command: "tokctl git-credential erase"}
	forgot := false
	err = src.Locked(ctx, func(h creds.Held) error {
		c, err := h.Load() // re-read under the lock: a sibling may have refreshed meanwhile
		if err != nil || !forget(c) {
			return nil
		}
		c.Expiry = time.Now().Add(-time.Second)
		forgot = true
		return h.Save(c)
	})
	if err != nil {
		u.fail(err)
		return
	}
	if !forgot {
		return
	}
	u.hintf("%s rejected the access token of profile %q; the next git command refreshes it", req.URL(), prof.Name)
}
