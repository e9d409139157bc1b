package commands_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
	"github.com/tokctl/tokctl/redistest"
)

// aclRecipe is the README's least-privilege Redis user for tokctl (PASSWORD replaced by the
// test): its keys and its channel only, and only the commands tokctl sends.
const aclRecipe = `user tokctl on >PASSWORD resetkeys ~tokctl:* resetchannels &tokctl:* nocommands +get +mget +set +del +incr +pttl +pexpire +publish +eval +evalsha +subscribe +info +wait +ping +select`

// TestFleetLeastPrivilegeACL: everything a fleet does — import, a burst on two hosts with the
// lock, the fenced save and the wake-ups, doctor, status, logout — works as the README's
// restricted ACL user. A command tokctl sends that the recipe does not allow fails the test
// (NOPERM), so the recipe stays complete.
func TestFleetLeastPrivilegeACL(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "    "+aclRecipe+"\n") {
		t.Fatalf("README.md lacks the ACL recipe (indented by 4 spaces):\n    %s", aclRecipe)
	}
	redistest.Require(t)
	admin, pw := randomPassword(), randomPassword()
	s := redistest.NewServer(t, redistest.Options{Password: admin, Config: []string{strings.Replace(aclRecipe, "PASSWORD", pw, 1),
		"user reader on >" + pw + " ~tokctl:* &tokctl:* nocommands +get +mget"}})
	r := &testRedis{Addr: s.Addr(), Password: pw, srv: s}
	bin := tokctlBinary(t, "")
	srv := oauthtest.NewServer(oauthtest.Options{Latency: 100 * time.Millisecond})
	t.Cleanup(srv.Close)
	url := "redis://tokctl@" + s.Addr() + "/0"
	hosts := []*fleetHost{newFleetHost(t, bin, r, srv, url), newFleetHost(t, bin, r, srv, url)}

	hosts[0].importFresh(srv, -time.Minute)
	runs := fleetBurst(t, hosts, nil, 6, "token", "--profile", "work")
	stored := storedCredential(t, r.Do)
	for _, run := range runs {
		if run.code != 0 || run.stderr != "" || run.token() != stored.AccessToken {
			t.Fatalf("a caller as the ACL user: exit %d, printed the stored token: %v, stderr:\n%s", run.code, run.token() == stored.AccessToken, run.stderr)
		}
	}
	if st := srv.Stats(); st.TokenRequests != 1 || st.PresentedTwice != 0 {
		t.Fatalf("provider: %+v; want one token request", st)
	}
	out, errOut, code := hosts[1].run("doctor", "--profile", "work")
	if code != 0 || strings.Contains(out+errOut, "NOPERM") {
		t.Fatalf("doctor as the ACL user: exit %d\n%s%s", code, out, errOut)
	}
	if out := hosts[1].must("status", "--profile", "work"); !strings.Contains(out, "refresh token") {
		t.Fatalf("status as the ACL user:\n%s", out)
	}
	// A user without the rights: exit 1, and the hint says what to grant.
	reader := newFleetHost(t, bin, r, srv, "redis://reader@"+s.Addr()+"/0")
	path, _ := reader.freshResponse(srv, time.Hour)
	if _, errOut, code := reader.run("import", "--profile", "work", path); code != 1 || !strings.Contains(errOut, "NOPERM") || !strings.Contains(errOut, "hint: the password was accepted, but the Redis ACL user may not run what tokctl needs") {
		t.Fatalf("import as a user without the rights: exit %d, want 1 with the hint\n%s", code, errOut)
	}

	hosts[0].must("logout", "--profile", "work")
	if _, _, code := hosts[1].run("token", "--profile", "work"); code != 3 {
		t.Fatalf("token after the fleet's logout: exit %d, want 3", code)
	}
}
