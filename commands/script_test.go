package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tokctl/tokctl/commands"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

func TestMain(m *testing.M) {
	testscript.Main(leakAudited(m), map[string]func(){ // leak_test.go: TOKCTL_LEAK_AUDIT=1
		"tokctl":       func() { os.Exit(commands.Main(context.Background(), os.Args, auditedIO(commands.StdIO()), "test")) },
		"fake-browser": fakeBrowser,
	})
}

// fakeBrowser is what tests set $BROWSER to: a user who logs in at once (after
// $FAKE_BROWSER_DELAY), following every redirect back to tokctl's listener. Each opening is
// appended to $FAKE_BROWSER_LOG, so tests can count browser tabs.
func fakeBrowser() {
	if log := os.Getenv("FAKE_BROWSER_LOG"); log != "" {
		f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			f.WriteString("opened\n")
			f.Close()
		}
	}
	if d, err := time.ParseDuration(os.Getenv("FAKE_BROWSER_DELAY")); err == nil {
		time.Sleep(d)
	}
	resp, err := http.Get(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	resp.Body.Close()
}

// TestScripts runs testdata/script/*.txtar: each names a behaviour of the command line.
// Every script gets its own strict authorization server ($TOKEN_URL) and TOKCTL_HOME.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			srv := oauthtest.NewServer(oauthtest.Options{})
			env.Defer(srv.Close)
			env.Values["srv"] = srv
			env.Setenv("TOKEN_URL", srv.TokenURL())
			env.Setenv("AUTH_SERVER", srv.URL())
			env.Setenv("TOKCTL_HOME", filepath.Join(env.WorkDir, "home"))
			leakSetup(env)
			confidential := oauthtest.NewServer(oauthtest.Options{ClientSecret: "s3cret-value"})
			env.Defer(confidential.Close)
			env.Setenv("SECRET_TOKEN_URL", confidential.TokenURL())
			return nil
		},
		Condition: scriptCondition, // redis_server_test.go
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":           cmdExits,
			"issue":           cmdIssue,
			"stat":            cmdStat,
			"fault":           cmdFault,
			"revokefamily":    cmdRevokeFamily,
			"active":          cmdActive,
			"subst":           cmdSubst,
			"authorize-fault": cmdAuthorizeFault,
			"redis-start":     cmdRedisStart, // redis_server_test.go
			"redis-exists":    cmdRedisExists,
			"tls-listen":      cmdTLSListen,
		},
	})
}

func server(ts *testscript.TestScript) *oauthtest.Server {
	return ts.Value("srv").(*oauthtest.Server)
}

// exits N PROG ARGS... runs PROG and requires exit code N (stdout and stderr are kept for the
// following stdout/stderr checks).
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		got = exitErr.ExitCode()
	} else if err != nil {
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// issue TTL FILE [SCOPE] sets $AT and $RT and writes a fresh token family's RFC 6749 response, its access token
// expiring after TTL (negative: already expired), to FILE.
func cmdIssue(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: issue TTL FILE [SCOPE]")
	}
	ttl, err := time.ParseDuration(args[0])
	ts.Check(err)
	scope := "openid offline_access"
	if len(args) > 2 {
		scope = args[2]
	}
	resp := server(ts).Issue(scope, ttl)
	ts.Setenv("RT", resp.RefreshToken)
	ts.Setenv("AT", resp.AccessToken)
	m := map[string]any{"access_token": resp.AccessToken, "token_type": resp.TokenType, "refresh_token": resp.RefreshToken, "scope": resp.Scope, "expires_in": int64(ttl / time.Second)}
	data, _ := json.Marshal(m)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), data, 0o600))
}

// stat NAME N requires the authorization server's counter NAME to be N.
func cmdStat(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: stat NAME N")
	}
	st := server(ts).Stats()
	counters := map[string]int{"requests": st.TokenRequests, "refreshes": st.Refreshes, "invalid_grants": st.InvalidGrants,
		"reuse": st.ReuseDetected, "revoked_families": st.FamiliesRevoked, "presented_twice": st.PresentedTwice, "faults": st.Faults,
		"code_exchanges": st.CodeExchanges, "client_credentials": st.ClientCredentials, "revocations": st.Revocations, "authorize": st.AuthorizeRequests}
	got, ok := counters[args[0]]
	if !ok {
		ts.Fatalf("unknown counter %q", args[0])
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	if (got == want) == neg {
		ts.Fatalf("server counter %s = %d, want %s%d", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// fault KIND [ARG] queues a fault for the next token request: 500, 502-after, 429 SECONDS,
// 503, truncated, huge, http200 CODE, no-refresh-token, no-expires-in, status CODE N, hangup, slow DURATION.
func cmdFault(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: fault KIND [ARG]")
	}
	arg := func() string {
		if len(args) < 2 {
			ts.Fatalf("fault %s needs an argument", args[0])
		}
		return args[1]
	}
	var f oauthtest.Fault
	switch args[0] {
	case "500":
		f.Kind = oauthtest.ServerError
	case "502-after":
		f.Kind = oauthtest.ServerErrorAfterProcessing
	case "429":
		secs, err := strconv.Atoi(arg())
		ts.Check(err)
		f = oauthtest.Fault{Kind: oauthtest.RateLimited, RetryAfter: time.Duration(secs) * time.Second}
	case "503":
		f.Kind = oauthtest.Unavailable
	case "truncated":
		f.Kind = oauthtest.Truncated
	case "huge":
		f.Kind = oauthtest.HugeBody
	case "http200":
		f = oauthtest.Fault{Kind: oauthtest.HTTP200Error, Code: arg()}
	case "no-refresh-token":
		f.Kind = oauthtest.NoRefreshToken
	case "no-expires-in":
		f.Kind = oauthtest.NoExpiresIn
	case "hangup":
		f.Kind = oauthtest.HangUp
	case "slow":
		d, err := time.ParseDuration(arg())
		ts.Check(err)
		f = oauthtest.Fault{Kind: oauthtest.Slow, Delay: d}
	case "status":
		status, err := strconv.Atoi(arg())
		ts.Check(err)
		f = oauthtest.Fault{Kind: oauthtest.ErrorStatus, Status: status, Code: args[2]}
	default:
		ts.Fatalf("unknown fault %q", args[0])
	}
	n := 1
	if len(args) > 0 && args[len(args)-1][0] == 'x' { // "fault 500 x3": the next three requests
		if k, err := strconv.Atoi(args[len(args)-1][1:]); err == nil {
			n = k
		}
	}
	for range n {
		server(ts).Inject(f)
	}
}

// revokefamily FILE revokes, at the server, the family of the refresh token stored in FILE.
func cmdRevokeFamily(ts *testscript.TestScript, neg bool, args []string) {
	c, err := creds.NewFileStore(ts.MkAbs(args[0])).Load()
	ts.Check(err)
	server(ts).RevokeFamilyOf(c.RefreshToken)
}

// active FILE requires the stored refresh token in FILE to be valid at the server.
func cmdActive(ts *testscript.TestScript, neg bool, args []string) {
	c, err := creds.NewFileStore(ts.MkAbs(args[0])).Load()
	ts.Check(err)
	if server(ts).Active(c.RefreshToken) == neg {
		ts.Fatalf("refresh token in %s: active=%v", args[0], !neg)
	}
}

// subst FILE replaces $NAME references in FILE with environment values (after issue: $AT, $RT).
func cmdSubst(ts *testscript.TestScript, neg bool, args []string) {
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	ts.Check(os.WriteFile(path, []byte(os.Expand(string(data), ts.Getenv)), 0o600))
}

// authorize-fault KIND [CODE] makes the next authorization redirect misbehave: error CODE,
// wrong-state, wrong-iss, no-code.
func cmdAuthorizeFault(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: authorize-fault KIND [CODE]")
	}
	f := oauthtest.AuthorizeFault{}
	switch args[0] {
	case "error":
		f.Kind, f.Code, f.Description = oauthtest.AuthorizeError, args[1], "denied in the test"
	case "wrong-state":
		f.Kind = oauthtest.AuthorizeWrongState
	case "wrong-iss":
		f.Kind = oauthtest.AuthorizeWrongIss
	case "no-code":
		f.Kind = oauthtest.AuthorizeNoCode
	default:
		ts.Fatalf("unknown authorize fault %q", args[0])
	}
	server(ts).InjectAuthorize(f)
}
