package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tokctl/tokctl/bench/internal/measure"
	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

// fixture is one tokctl home (profile "default", the file store) whose profile points at an
// in-process strict authorization server, the way commands/burst_test.go drives tokctl.
type fixture struct {
	home  string
	paths config.Paths
	srv   *oauthtest.Server
	bin   *binaries
}

// newFixture creates home dir name under root for srv; tokenURL overrides srv.TokenURL() when
// the server is reached through a wrapper (the handoff scenario).
func newFixture(root, name string, bin *binaries, srv *oauthtest.Server, tokenURL string) (*fixture, error) {
	if tokenURL == "" {
		tokenURL = srv.TokenURL()
	}
	home := filepath.Join(root, name)
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	p := config.Paths{Config: home, State: home}
	prof := &config.Profile{Name: "default", TokenURL: tokenURL, ClientID: "tokctl-test"}
	if err := p.SaveProfile(prof); err != nil {
		return nil, fmt.Errorf("save profile: %w", err)
	}
	if err := config.EnsurePrivateDir(p.CredentialDir()); err != nil {
		return nil, err
	}
	return &fixture{home: home, paths: p, srv: srv, bin: bin}, nil
}

// credPath is the credential file, H/credentials/default.json.
func (f *fixture) credPath() string { return f.paths.CredentialFile("default") }

// lockPath is the credential's lock file.
func (f *fixture) lockPath() string { return f.paths.LockFile("default") }

// store starts a new token family at the server (a fresh login), stores it with an access
// token valid for ttl (negative: expired that long ago) and zeroes the server's counters.
func (f *fixture) store(ttl time.Duration) (*creds.Credential, error) {
	r := f.srv.Issue("openid", ttl)
	c := &creds.Credential{
		AccessToken: r.AccessToken, TokenType: "Bearer", RefreshToken: r.RefreshToken,
		Scope: r.Scope, Expiry: time.Now().Add(ttl),
	}
	if err := creds.NewFileStore(f.credPath()).Save(c); err != nil {
		return nil, fmt.Errorf("store credential: %w", err)
	}
	f.srv.ResetStats()
	return c, nil
}

// stored reads the credential back as tokctl left it.
func (f *fixture) stored() (*creds.Credential, error) {
	return creds.NewFileStore(f.credPath()).Load()
}

// tokctlArgs is the argv of "tokctl token --home H [extra…]".
func (f *fixture) tokctlArgs(extra ...string) []string {
	return append([]string{"token", "--home", f.home}, extra...)
}

// tokctlBurst runs n concurrent "tokctl token" processes on this home.
func (f *fixture) tokctlBurst(n int) (time.Duration, []measure.Result, error) {
	args := f.tokctlArgs()
	return burst(n, f.bin.tokctl, func(int) []string { return args })
}

// floorBurst runs n concurrent floor processes on this home's credential file.
func (f *fixture) floorBurst(n int) (time.Duration, []measure.Result, error) {
	args := []string{f.credPath()}
	return burst(n, f.bin.floor, func(int) []string { return args })
}
