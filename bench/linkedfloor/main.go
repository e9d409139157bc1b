// Command linkedfloor does exactly what bench/floor does — read a credential file, print its
// access_token — in a binary that links all of tokctl (the CLI is referenced, never run). Against
// floor it measures what tokctl's dependency set costs at start-up before tokctl does anything:
// package initialisation and the page faults of a larger binary.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/tokctl/tokctl/commands"
)

func main() {
	if len(os.Args) > 1<<20 { // never true: keeps the whole CLI linked in
		commands.Main(context.Background(), os.Args, commands.StdIO(), "")
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	var c struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(data, &c) != nil {
		os.Exit(1)
	}
	os.Stdout.WriteString(c.AccessToken + "\n")
}
