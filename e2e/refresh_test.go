package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestTokenRefreshesAfterHydrasTTL: a fresh token is printed as stored, without a refresh;
// once the 2 s lifetime has passed, the next "tokctl token" refreshes at Hydra, which rotates the
// refresh token: the old one is dead, the new one (stored) is alive. --min-ttl 100ms asks for a
// refresh only when the token is (nearly) expired; the default of 60 s exceeds Hydra's 2 s.
func TestTokenRefreshesAfterHydrasTTL(t *testing.T) {
	h := newHome(t)
	login := h.importLogin(t)

	if got := h.token(t, "--min-ttl", "100ms"); got != login.AccessToken {
		t.Fatal("a fresh access token was not printed as stored")
	}
	if n := stack.front.Refreshes(h.clientID); n != 0 {
		t.Fatalf("a fresh token caused %d refreshes", n)
	}

	sleepUntil(login.Expiry)
	printed := h.token(t, "--min-ttl", "100ms")
	stored := h.credential(t)
	switch {
	case printed == login.AccessToken:
		t.Fatal("an expired access token was printed")
	case printed != stored.AccessToken:
		t.Fatal("the printed access token is not the stored one")
	case stored.RefreshToken == login.RefreshToken:
		t.Fatal("Hydra did not rotate the refresh token")
	case stack.active(t, login.RefreshToken):
		t.Fatal("the old refresh token is still active at Hydra")
	case !stack.active(t, stored.RefreshToken) || !stack.active(t, stored.AccessToken):
		t.Fatal("the stored tokens are not active at Hydra")
	}
	if n := stack.front.Refreshes(h.clientID); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	t.Logf("refresh token rotated %s -> %s; access token %s -> %s",
		fp(login.RefreshToken), fp(stored.RefreshToken), fp(login.AccessToken), fp(printed))
}

// TestEveryHydraRefreshRotates: Hydra rotates on every refresh, not just the first, and each
// refresh also revokes the access token it replaces, even one that has not expired yet. A
// refresh is forced by asking for more lifetime (--min-ttl) than the token has left.
func TestEveryHydraRefreshRotates(t *testing.T) {
	h := newHome(t)
	prev := h.importLogin(t)
	for i := 1; i <= 2; i++ {
		h.token(t, "--min-ttl", (2 * refreshedTTL).String())
		next := h.credential(t)
		switch {
		case next.RefreshToken == prev.RefreshToken:
			t.Fatalf("refresh %d: the refresh token was not rotated", i)
		case stack.active(t, prev.RefreshToken):
			t.Fatalf("refresh %d: the replaced refresh token is still active", i)
		case time.Until(prev.Expiry) > 0 && stack.active(t, prev.AccessToken):
			t.Fatalf("refresh %d: the replaced access token, not yet expired, is still active", i)
		case !stack.active(t, next.RefreshToken):
			t.Fatalf("refresh %d: the new refresh token is not active", i)
		case next.IDToken == "" || next.IDToken == prev.IDToken:
			t.Fatalf("refresh %d: Hydra sent no new ID token (scope openid)", i)
		}
		prev = next
	}
	if n := stack.front.Refreshes(h.clientID); n != 2 {
		t.Fatalf("%d refreshes, want 2", n)
	}
}

// TestRevokedAtHydraMeansLoginRequired: when the grant was revoked at Hydra (a logout
// elsewhere, an administrator) and the access token has expired, "tokctl token" exits 3 with
// the login hint, every time, and keeps the credential file: a refresh token is never deleted
// on an error.
func TestRevokedAtHydraMeansLoginRequired(t *testing.T) {
	h := newHome(t)
	login := h.importLogin(t)
	stack.revoke(t, h.clientID, login.RefreshToken)
	sleepUntil(login.Expiry)

	for attempt := 1; attempt <= 2; attempt++ {
		r := h.run(t, tokctlBinary(t, releaseBuild), "token")
		switch {
		case r.code != 3:
			t.Fatalf("attempt %d: exit %d, want 3 (login required)\n%s", attempt, r.code, r.stderr)
		case r.stdout != "":
			t.Fatalf("attempt %d: printed something on stdout", attempt)
		case !strings.Contains(r.stderr, `tokctl: hint: run "tokctl login --profile default"`):
			t.Fatalf("attempt %d: no login hint:\n%s", attempt, r.stderr)
		}
		if kept := h.credential(t); kept.RefreshToken != login.RefreshToken {
			t.Fatalf("attempt %d: the stored refresh token changed", attempt)
		}
	}
	if n := stack.front.Refreshes(h.clientID); n != 1 {
		t.Fatalf("the dead refresh token was sent %d times, want once (the failure is recorded)", n)
	}
}

// sleepUntil sleeps until just past the given time.
func sleepUntil(when time.Time) { time.Sleep(time.Until(when) + 50*time.Millisecond) }
