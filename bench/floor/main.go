// Command floor is the benchmark's lower bound for "tokctl token" on a valid token: the least
// any Go program can do to hand out a stored access token. It reads the credential JSON file
// named by its only argument, decodes the access_token field and prints it with a newline.
//
// It does nothing tokctl may skip (no profile lookup, no expiry or permission check, no lock),
// so tokctl's time divided by floor's is the price of everything tokctl adds on the hot path.
// The benchmark builds it with exactly the release flags it uses for tokctl.
package main

import (
	"encoding/json"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		os.Stderr.WriteString("usage: floor CREDENTIAL.json\n")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		os.Stderr.WriteString("floor: " + err.Error() + "\n")
		os.Exit(1)
	}
	var c struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(data, &c); err != nil || c.AccessToken == "" {
		os.Stderr.WriteString("floor: no access_token in " + os.Args[1] + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString(c.AccessToken + "\n")
}
