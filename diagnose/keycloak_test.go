package diagnose

import (
	"strings"
	"testing"
)

// kcVerdicts lists "verdict realm/client/session" (the user when there is no session) per
// incident, in time order.
func kcVerdicts(r *Report) string {
	var out []string
	for _, inc := range r.Incidents {
		who := []string{inc.Actor.Realm, inc.Actor.Client}
		if inc.Actor.Session != "" {
			who = append(who, inc.Actor.Session)
		} else if inc.Actor.User != "" {
			who = append(who, inc.Actor.User)
		}
		out = append(out, inc.Verdict+" "+strings.Join(who, "/"))
	}
	return strings.Join(out, "; ")
}

// readString analyzes one log given as a string.
func readString(t *testing.T, opt Options, name, log string) *Report {
	t.Helper()
	if opt.Year == 0 {
		opt.Year = 2026
	}
	a := New(opt)
	for _, err := range a.Read(Input{Name: name, R: strings.NewReader(log)}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	return a.Report()
}

// The fixtures hold the same events, as plain console lines (UTC, no zone) and as JSON console
// lines (+01:00). Session S1 (alice) races: one refresh succeeds, a second caller presents the
// same refresh token 30 ms later and is refused for reuse, a third finds the client session
// already detached ("Session doesn't have required client"); half a minute later the winner's
// new refresh token is refused too (Keycloak revoked the family). Session S2 of the same realm
// and client, whose user session was logged out, is refused twice at the same moment without
// naming its user; an expired token of another realm's client "cli" is refused without a
// session; the client "reports" refreshes fine; a code exchange and a failed login are no
// refreshes.
func TestKeycloakFixtures(t *testing.T) {
	const (
		s1   = "9Kx2hQmT4rVbN7wLpZ3sYd8E"
		s2   = "Pq4Lm8Zt2WvR6nXb1Hc9KfJs"
		want = "reuse-revocation main/cli/" + s1 + "; revoked/expired main/cli/" + s2 +
			"; revoked/expired partners/cli; revoked/expired main/cli/" + s1
	)
	for _, c := range []struct{ file, format string }{
		{"keycloak_events.log", "keycloak"},
		{"keycloak_events.jsonl", "keycloak-json"},
	} {
		t.Run(c.format, func(t *testing.T) {
			r := analyze(t, Options{}, c.file)
			in := r.Inputs[0]
			if in.Format != c.format || in.Records != 12 || in.Entries != 9 || in.Malformed != 0 {
				t.Errorf("input %+v: want format %s, 12 records, 9 entries, none malformed", in, c.format)
			}
			if in.Outcomes["success"] != 3 || in.Outcomes["failure"] != 5 || in.Outcomes["reuse-detected"] != 1 {
				t.Errorf("outcomes %v: want 3 success (code exchanges are no refreshes), 5 failure, 1 reuse-detected", in.Outcomes)
			}
			if got := kcVerdicts(r); got != want {
				t.Fatalf("verdicts:\n got %s\nwant %s", got, want)
			}
			race := r.Incidents[0]
			if race.Successes != 1 || race.ReuseDetected != 1 || race.Failures != 1 {
				t.Errorf("the race: %d successes, %d reuse, %d failures; want 1, 1, 1", race.Successes, race.ReuseDetected, race.Failures)
			}
			if !strings.Contains(race.Reason, "right after a successful refresh") {
				t.Errorf("the race is not tied to the success before it: %s", race.Reason)
			}
			if race.Actor.User == "" || race.Start.UTC().Format("15:04:05.000") != "10:00:01.100" {
				t.Errorf("the race: actor %+v, start %s; want alice's user id, 10:00:01.100 UTC", race.Actor, race.Start)
			}
			if r.Races() != 1 {
				t.Errorf("%d races, want 1: the logged-out session and the expired token are no race", r.Races())
			}
			for _, inc := range r.Incidents {
				for _, e := range inc.Evidence {
					if !strings.Contains(e.Text, "REFRESH_TOKEN") || strings.HasPrefix(e.Text, "{") {
						t.Errorf("evidence %q: want the event message", e.Text)
					}
				}
			}
		})
	}
}

// kcLine writes a Keycloak 26 event line of session sess in realm main at 10:00:SS,mmm.
func kcLine(at, typ, client, user, sess, rt, reason string) string {
	msg := `2026-12-05 10:00:` + at + ` WARN  [org.keycloak.events] (executor-thread-1) type="` + typ +
		`", realmId="4f8a2c6e", realmName="main", clientId="` + client + `", userId="` + user +
		`", sessionId="` + sess + `", ipAddress="10.0.0.7"`
	if reason != "" {
		msg += `, error="invalid_token", reason="` + reason + `"`
	}
	return msg + `, grant_type="refresh_token", refresh_token_type="Refresh", refresh_token_id="` + rt +
		`", client_auth_method="client-secret"` + "\n"
}

// (a) Success, then refusals of the same session within the window: a race. With the reuse
// reason it is Keycloak's reuse detection (the family is revoked); with any other reason it is
// a transient race when the session refreshes again later.
func TestKeycloakRaceIsASuccessThenRefusalsOfTheSession(t *testing.T) {
	log := kcLine("01,100", "REFRESH_TOKEN", "cli", "u1", "S1", "rt1", "") +
		kcLine("01,140", "REFRESH_TOKEN_ERROR", "cli", "u1", "S1", "rt1", "Stale token") +
		kcLine("01,180", "REFRESH_TOKEN_ERROR", "cli", "null", "S1", "rt1", "Stale token") +
		kcLine("40,000", "REFRESH_TOKEN", "cli", "u1", "S1", "rt2", "")
	r := readString(t, Options{}, "kc.log", log)
	if got := kcVerdicts(r); got != "race main/cli/S1" {
		t.Fatalf("verdicts %q, want one race of session S1", got)
	}
	if inc := r.Incidents[0]; inc.Successes != 1 || inc.Failures != 2 {
		t.Errorf("%d successes and %d failures, want 1 and 2", inc.Successes, inc.Failures)
	}

	reuse := strings.ReplaceAll(log, "Stale token", keycloakReuse)
	r = readString(t, Options{}, "kc.log", reuse)
	if got := kcVerdicts(r); got != "reuse-revocation main/cli/S1" || r.Races() != 1 {
		t.Fatalf("verdicts %q (%d races), want the reuse revocation of session S1", got, r.Races())
	}

	// Without the later success, the success 40 ms before the refusals alone makes the race;
	// with the refusals 2 s after it (window 1s) nothing does.
	burst := log[:strings.LastIndex(strings.TrimSuffix(log, "\n"), "\n")+1]
	if r := readString(t, Options{}, "kc.log", burst); kcVerdicts(r) != "race main/cli/S1" {
		t.Errorf("success then refusals within the window: %s, want a race", kcVerdicts(r))
	}
	late := strings.NewReplacer("01,140", "03,140", "01,180", "03,180").Replace(burst)
	if r := readString(t, Options{}, "kc.log", late); kcVerdicts(r) != "revoked/expired main/cli/S1" {
		t.Errorf("refusals 2 s after the success: %s, want a revocation, no race", kcVerdicts(r))
	}
}

// (b) Refusals with no success before them — a logged-out session, an expired token — are a
// revocation, not a race, however many callers hit them at once.
func TestKeycloakRefusalsWithoutSuccessAreRevocation(t *testing.T) {
	log := kcLine("01,100", "REFRESH_TOKEN_ERROR", "cli", "null", "S2", "rt9", "Session not active") +
		kcLine("01,120", "REFRESH_TOKEN_ERROR", "cli", "null", "S2", "rt9", "Session not active") +
		kcLine("01,130", "REFRESH_TOKEN_ERROR", "cli", "null", "S2", "rt9", "Session not active")
	r := readString(t, Options{}, "kc.log", log)
	if got := kcVerdicts(r); got != "revoked/expired main/cli/S2" || r.Races() != 0 {
		t.Fatalf("verdicts %q (%d races), want one revocation of S2 and no race", got, r.Races())
	}
	if r.Incidents[0].Failures != 3 {
		t.Errorf("%d failures, want 3", r.Incidents[0].Failures)
	}
}

// (c) Sessions and realms are never mixed: another session's success at the same moment
// explains nothing, nor does a success of the same client in another realm.
func TestKeycloakSessionsAndRealmsAreNotMixed(t *testing.T) {
	log := kcLine("01,100", "REFRESH_TOKEN", "cli", "u1", "S1", "rt1", "") +
		kcLine("01,120", "REFRESH_TOKEN_ERROR", "cli", "null", "S2", "rt9", "Session not active") +
		kcLine("01,130", "REFRESH_TOKEN_ERROR", "cli", "u1", "S3", "rt7", "Session not active")
	r := readString(t, Options{}, "kc.log", log)
	if got := kcVerdicts(r); got != "revoked/expired main/cli/S2; revoked/expired main/cli/S3" {
		t.Fatalf("verdicts %q, want S2 and S3 revoked on their own, apart from S1's success", got)
	}

	// Keycloak 23 and older: unquoted values, no sessionId. A refusal without user or session
	// (an undecodable token) joins a burst of its client in its own realm only.
	legacy := `2023-07-11 10:14:04,500 DEBUG [org.keycloak.events] (executor-thread-7) type=REFRESH_TOKEN, realmId=main, clientId=cli, userId=u1, ipAddress=10.0.0.7, token_id=at2, grant_type=refresh_token, refresh_token_type=Refresh, scope='openid email', updated_refresh_token_id=rt2, refresh_token_id=rt1, client_auth_method=client-secret
2023-07-11 10:14:04,520 WARN  [org.keycloak.events] (executor-thread-9) type=REFRESH_TOKEN_ERROR, realmId=partners, clientId=cli, userId=null, ipAddress=10.0.0.8, error=invalid_token, grant_type=refresh_token, client_auth_method=client-secret
2023-07-11 10:14:04,540 WARN  [org.keycloak.events] (executor-thread-3) type=REFRESH_TOKEN_ERROR, realmId=main, clientId=cli, userId=u1, ipAddress=10.0.0.9, error=invalid_token, grant_type=refresh_token, refresh_token_type=Refresh, refresh_token_id=rt1, client_auth_method=client-secret
2023-07-11 10:15:04,500 DEBUG [org.keycloak.events] (executor-thread-7) type=REFRESH_TOKEN, realmId=main, clientId=cli, userId=u1, ipAddress=10.0.0.7, token_id=at3, grant_type=refresh_token, refresh_token_type=Refresh, updated_refresh_token_id=rt3, refresh_token_id=rt2, client_auth_method=client-secret
`
	r = readString(t, Options{}, "legacy.log", legacy)
	if got := kcVerdicts(r); got != "race main/cli/u1; revoked/expired partners/cli" {
		t.Fatalf("legacy verdicts %q, want main's race and partners' refusal apart", got)
	}
	if r.Incidents[0].Failures != 1 {
		t.Errorf("main's race has %d failures, want 1 (the other realm's is not in it)", r.Incidents[0].Failures)
	}
}

// A refusal presenting another refresh token than the success near it (both ids known) is no
// race between them.
func TestKeycloakRefreshTokenIDsDecideTheRace(t *testing.T) {
	log := kcLine("01,100", "REFRESH_TOKEN", "cli", "u1", "S1", "rt5", "") +
		kcLine("01,120", "REFRESH_TOKEN_ERROR", "cli", "u1", "S1", "rt3", "Stale token")
	if r := readString(t, Options{}, "kc.log", log); r.Races() != 0 {
		t.Errorf("a stale older token next to a success of rt5: %s, want no race", kcVerdicts(r))
	}
}

func TestKCField(t *testing.T) {
	msg := []byte(`type="REFRESH_TOKEN", userId="null", scope="openid profile", updated_refresh_token_id="new", refresh_token_id="old", reason="a \"quoted\", b", error='x y', grant_type=refresh_token, last=end`)
	for key, want := range map[string]string{
		"type": "REFRESH_TOKEN", "userId": "", "scope": "openid profile", "refresh_token_id": "old",
		"updated_refresh_token_id": "new", "reason": `a \"quoted\", b`, "error": "x y",
		"grant_type": "refresh_token", "last": "end", "sessionId": "", "token_id": "",
	} {
		if got := kcField(msg, key); got != want {
			t.Errorf("kcField(%s) = %q, want %q", key, got, want)
		}
	}
}
