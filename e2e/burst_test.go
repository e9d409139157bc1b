package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// callers is the size of a burst: that many "tokctl token" processes start at once.
const callers = 50

// TestBurstAgainstHydraRefreshesOnce is the core promise against a real provider that revokes
// the whole token family on reuse: 50 processes find the token expired at the same moment;
// Hydra sees exactly one refresh, every caller prints the same new token, nobody fails, and the
// stored refresh token is alive at Hydra.
func TestBurstAgainstHydraRefreshesOnce(t *testing.T) {
	h := newHome(t)
	login := h.importLogin(t)
	sleepUntil(login.Expiry)

	results := h.burst(t, tokctlBinary(t, releaseBuild), callers)
	if broken := h.burstVerdict(t, results); len(broken) > 0 {
		t.Fatalf("the promise broke against Hydra: %s\nfirst stderr: %s", strings.Join(broken, "; "), firstStderr(results))
	}
	stored := h.credential(t)
	if got := strings.TrimSpace(results[0].stdout); got != stored.AccessToken {
		t.Fatal("the callers printed a token that is not the stored one")
	}
	t.Logf("%d callers, 1 refresh, all printed access token %s; family alive (refresh token %s)",
		callers, fp(stored.AccessToken), fp(stored.RefreshToken))
}

// TestBurstWithoutLockRevokesHydraFamily proves the burst test has teeth against the real
// server: the same burst with tokctl built without the lock (tag tokctl_nolock) sends the
// refresh token more than once, and Hydra answers the reuse by revoking the whole family.
func TestBurstWithoutLockRevokesHydraFamily(t *testing.T) {
	h := newHome(t)
	login := h.importLogin(t)
	sleepUntil(login.Expiry)

	results := h.burst(t, tokctlBinary(t, lockless), callers)
	broken := h.burstVerdict(t, results)
	if len(broken) == 0 {
		t.Fatal("a burst without the lock kept the promise: this test cannot tell a lock from no lock")
	}
	if stored := h.credential(t); stack.active(t, stored.RefreshToken) {
		t.Fatalf("without the lock the family survived (%s): Hydra did not revoke on reuse", strings.Join(broken, "; "))
	}
	t.Logf("without the lock, as expected: %s", strings.Join(broken, "; "))
	if msg := firstStderr(results); msg != "(none)" {
		t.Logf("a caller's stderr: %s", strings.TrimSpace(msg))
	}
}

// burstVerdict checks the core promise after a burst and returns what broke.
func (h *home) burstVerdict(t *testing.T, results []result) []string {
	t.Helper()
	var broken []string
	if n := stack.front.Refreshes(h.clientID); n != 1 {
		broken = append(broken, fmt.Sprintf("Hydra saw %d refreshes, want 1", n))
	}
	failed, codes, printed := 0, map[int]int{}, map[string]int{}
	for _, r := range results {
		if r.code != 0 {
			failed++
			codes[r.code]++
			continue
		}
		printed[strings.TrimSpace(r.stdout)]++
	}
	if failed > 0 {
		broken = append(broken, fmt.Sprintf("%d of %d callers failed (exit codes %v)", failed, len(results), codes))
	}
	if len(printed) > 1 {
		broken = append(broken, fmt.Sprintf("%d distinct tokens printed", len(printed)))
	}
	dead := 0
	for token, n := range printed {
		if !stack.active(t, token) {
			dead += n
		}
	}
	if dead > 0 {
		broken = append(broken, fmt.Sprintf("%d callers printed an access token Hydra has revoked", dead))
	}
	if stored := h.credential(t); !stack.active(t, stored.RefreshToken) {
		broken = append(broken, "the stored refresh token is dead at Hydra: the family was revoked")
	}
	return broken
}

func firstStderr(results []result) string {
	for _, r := range results {
		if r.stderr != "" {
			return r.stderr
		}
	}
	return "(none)"
}
