package measure

import (
	"fmt"
	"strings"
)

// Tally is how a set of callers that should all succeed did.
type Tally struct {
	Failed   int // exit code not 0, or anything on stderr
	Wrong    int // succeeded but printed something other than the expected token
	Distinct int // distinct stdout values among the successful callers
	FirstErr string
}

// TallyTokens checks every result against want (the stored access token); want "" accepts any
// token and only counts distinct ones.
func TallyTokens(res []Result, want string) Tally {
	var t Tally
	seen := map[string]bool{}
	for _, r := range res {
		if r.Code != 0 || r.Stderr != "" {
			t.Failed++
			if t.FirstErr == "" {
				t.FirstErr = fmt.Sprintf("exit %d: %s", r.Code, strings.TrimSpace(r.Stderr))
			}
			continue
		}
		seen[r.Stdout] = true
		if want != "" && r.Stdout != want+"\n" {
			t.Wrong++
		}
	}
	t.Distinct = len(seen)
	return t
}

// Btoi is 1 for true and 0 for false: a yes/no of one iteration as a count for a check.
func Btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
