package commands

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/flows"
)

// The demo's second burst runs "tokctl demo --naive-caller DIR" processes of this binary, so that both
// bursts do the same work (start N processes, read a profile and a credential, talk to the
// server, write, print) and differ only in the lock and the re-read.
const (
	naiveCallerName = "naive-caller"
	// demoMarker is the file the demo writes into its temporary home; the naive caller refuses
	// a directory without it, so it can never refresh (and burn) a real user's credential.
	demoMarker  = ".tokctl-demo"
	demoProfile = "demo"
)

// naiveCallerFlag is "tokctl demo --naive-caller DIR": hidden (no help, man page or completion
// shows it), internal to the demo, and read from no environment variable.
func naiveCallerFlag() cli.Flag {
	return &cli.StringFlag{Name: naiveCallerName, Hidden: true, Usage: "internal to tokctl demo: one refresh with no lock and no re-read in the demo's `DIR`"}
}

// naiveCaller is what a tool without a lock does when it finds its access token expired: read
// the credential, POST the refresh token it read, write the answer back, print the access token
// (here its fingerprint).
// No lock, no second look at the file. It runs only in a directory the demo made (demoMarker)
// against a loopback token endpoint.
func (u *ui) naiveCaller(ctx context.Context, dir string) error {
	if !filepath.IsAbs(dir) {
		return usageErrorf("--%s: %s is not the demo's directory", naiveCallerName, dir)
	}
	if _, err := os.Lstat(filepath.Join(dir, demoMarker)); err != nil {
		return usageErrorf("--%s: %s is not a directory made by tokctl demo (no %s); it is internal to the demo", naiveCallerName, dir, demoMarker)
	}
	p := config.Paths{Config: dir, State: dir}
	prof, err := p.LoadProfile(demoProfile)
	if err != nil {
		return err
	}
	if tu, err := url.Parse(prof.TokenURL); err != nil || !config.IsLoopback(tu.Hostname()) {
		return usageErrorf("--%s: token endpoint %q is not the demo's loopback server", naiveCallerName, prof.TokenURL)
	}
	store := creds.NewFileStore(p.CredentialFile(demoProfile))
	cred, err := store.Load()
	if err != nil {
		return err
	}
	r := &flows.Refresher{TokenURL: prof.TokenURL, ClientID: prof.ClientID, AuthStyle: oauth2.AuthStyleInParams}
	got, err := r.Refresh(ctx, cred)
	if err != nil {
		return err
	}
	if err := store.Save(got); err != nil {
		return err
	}
	// A fingerprint, not the token: the demo only counts distinct ones, and no internal mode
	// puts a secret on a stream (the leak audit holds every command but the token printers to it).
	_, err = fmt.Fprintln(u.stdout, creds.Fingerprint(got.AccessToken))
	return err
}
