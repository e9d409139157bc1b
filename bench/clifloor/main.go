// Command clifloor does exactly what bench/floor does — read a credential file, print its
// access_token — in a binary that also links the two libraries any tokctl must have: net/http
// (the token endpoint) and github.com/urfave/cli/v2 (the command line the design prescribes),
// referenced but never run. Against floor it measures the start-up price of those two alone:
// the lowest ratio a tokctl hot path can reach on this machine, whatever tokctl's own code does.
package main

import (
	"encoding/json"
	"net/http"
	"os"

	"github.com/urfave/cli/v2"
)

func main() {
	if len(os.Args) > 1<<20 { // never true: keeps both libraries linked in
		http.Get(os.Args[1])
		(&cli.App{}).Run(os.Args)
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
