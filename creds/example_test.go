package creds_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/flows"
)

// A Go program can use a Source as its oauth2.TokenSource: goroutines share one refresh through
// the Source, and processes sharing the credential file share one through the lock beside it.
func ExampleSource() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	store := creds.NewFileStore(filepath.Join(dir, "work.json"))
	store.Save(&creds.Credential{AccessToken: "at_example", RefreshToken: "rt_example"}) // no expiry: fresh

	var src oauth2.TokenSource = &creds.Source{
		Store:    store,
		LockPath: store.Path + ".lock",
		Refresher: &flows.Refresher{
			TokenURL:  "https://idp.example.com/oauth2/token",
			ClientID:  "my-cli",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
	client := oauth2.NewClient(context.Background(), src) // an *http.Client that adds the header
	_ = client
	tok, err := src.Token()
	fmt.Println(tok.AccessToken, err)
	// Output: at_example <nil>
}
