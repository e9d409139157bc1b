package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

// contender is one row of the table: a program and how to run N of it on a credential.
type contender struct {
	key, name, layers string
	kills             bool // the first writer is SIGKILLed mid-write
	grace             bool // against the provider that accepts a rotated token again for 60 s
	argv              func(h *home) (bin string, args []string, env []string)
}

func contenders(bins map[string]string) []contender {
	variant := func(mode string, kill bool) func(h *home) (string, []string, []string) {
		return func(h *home) (string, []string, []string) {
			var env []string
			if kill {
				env = []string{"VARIANT_KILL_SLOTS=" + h.slot}
			}
			return bins["variant"], []string{"-mode", mode, "-cred", h.cred, "-token-url", h.srv.TokenURL(), "-client-id", "tokctl-test"}, env
		}
	}
	tokctl := func(bin string, env ...string) func(h *home) (string, []string, []string) {
		return func(h *home) (string, []string, []string) {
			e := append([]string{}, env...)
			if len(env) > 0 {
				e = append(e, "TOKCTL_TORTURE_SLOTS="+h.slot)
			}
			return bin, []string{"token", "--home", h.dir}, e
		}
	}
	killed := tokctl(bins["tokctl-torture"], "TOKCTL_TORTURE_KILL=save-temp-synced")
	return []contender{
		{"tokctl", "tokctl", "lock + re-read + atomic write", false, false, tokctl(bins["tokctl"])},
		{"naive", "naive refresher", "none: N parallel POSTs", false, false, variant("naive", false)},
		{"lock-only", "lock without re-read", "lock + atomic write", false, false, variant("lock-only", false)},
		{"non-atomic", "non-atomic write, kill -9 mid-write", "lock + re-read; truncate + write in place", true, false, variant("non-atomic", true)},
		{"tokctl-kill", "tokctl, kill -9 mid-save", "all three; killed after writing the temp file, before the rename", true, false, killed},
		{"non-atomic-grace", "non-atomic write, kill -9 mid-write, provider with 60 s reuse grace", "lock + re-read; truncate + write in place", true, true, variant("non-atomic", true)},
		{"tokctl-kill-grace", "tokctl, kill -9 mid-save, provider with 60 s reuse grace", "all three; killed after writing the temp file, before the rename", true, true, killed},
	}
}

// home is one contender's credential for one burst, at the shared server.
type home struct {
	dir, cred, slot string
	srv             *oauthtest.Server
}

func newHome(root, name string, srv *oauthtest.Server) (*home, error) {
	dir := filepath.Join(root, name)
	p := config.Paths{Config: dir, State: dir}
	if err := p.SaveProfile(&config.Profile{Name: "default", TokenURL: srv.TokenURL(), ClientID: "tokctl-test"}); err != nil {
		return nil, err
	}
	if err := config.EnsurePrivateDir(p.CredentialDir()); err != nil {
		return nil, err
	}
	return &home{dir: dir, cred: p.CredentialFile("default"), slot: filepath.Join(dir, "kill-slot"), srv: srv}, nil
}

// outcome is what one burst did.
type outcome struct {
	calls, failed, killed int
	survived, corrupt     bool
}

// burst stores a new expired login (a new token family), runs n copies of the contender at
// once and reads the verdict from the server and the file.
func (h *home) burst(c contender, n int) (outcome, error) {
	var o outcome
	r := h.srv.Issue("openid", -time.Minute)
	cred := &creds.Credential{AccessToken: r.AccessToken, TokenType: "Bearer", RefreshToken: r.RefreshToken, Scope: r.Scope, Expiry: time.Now().Add(-time.Minute)}
	if err := creds.NewFileStore(h.cred).Save(cred); err != nil {
		return o, err
	}
	h.srv.ResetStats()
	bin, args, extra := c.argv(h)
	env := append(childEnv(), extra...)
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = exec.Command(bin, args...)
		cmds[i].Env = env
		outs[i] = &bytes.Buffer{}
		cmds[i].Stdout = outs[i]
	}
	for i, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			for _, c := range cmds[:i] {
				c.Process.Kill()
				c.Wait()
			}
			return o, err
		}
	}
	var printed []string
	for i, cmd := range cmds {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			printed = append(printed, strings.TrimSpace(outs[i].String()))
		case errors.As(err, &ee):
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				o.killed++
			} else {
				o.failed++
			}
		default:
			return o, err
		}
	}
	o.calls = h.srv.Stats().TokenRequests
	stored, err := creds.NewFileStore(h.cred).Load()
	var ce *creds.CorruptError
	switch {
	case errors.As(err, &ce):
		o.corrupt = true
	case err != nil:
		return o, fmt.Errorf("read the credential back: %w", err)
	default:
		o.survived = h.srv.Active(stored.RefreshToken)
	}
	for _, p := range printed { // a caller that printed a token the provider revoked failed too
		if !h.srv.Active(p) {
			o.failed++
		}
	}
	return o, nil
}

// childEnv is our environment without TOKCTL_* variables, which could steer the callers.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOKCTL_") && !strings.HasPrefix(kv, "VARIANT_") {
			env = append(env, kv)
		}
	}
	return env
}
