package commands_test

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/tokctl/tokctl/oauthtest"
)

// stuckSecrets is a Secret Service that takes every call and never answers, like a keyring
// waiting on an unlock prompt that nobody will ever see.
type stuckSecrets struct{}

func (stuckSecrets) LookupObject(dbus.ObjectPath) (dbus.ServerObject, bool) {
	select {} // the call is never answered
}

// privateBus starts a D-Bus session daemon of the test's own and returns its address.
func privateBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Skip("dbus-daemon is not installed (test.sh installs it)")
	}
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	return strings.TrimSpace(addr)
}

func TestKeyringThatNeverAnswersTimesOut(t *testing.T) {
	addr := privateBus(t)
	conn, err := dbus.Connect(addr, dbus.WithHandler(stuckSecrets{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if reply, err := conn.RequestName("org.freedesktop.secrets", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("cannot own org.freedesktop.secrets on the private bus: %v (%v)", err, reply)
	}

	bin := tokctlBinary(t, "")
	f, _ := keyringFixture(t, oauthtest.Options{})
	start := time.Now()
	r := run(t, bin, []string{"DBUS_SESSION_BUS_ADDRESS=" + addr}, "token", "--home", f.home)
	took := time.Since(start)
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("want exit 1 and nothing on stdout, got exit %d, stdout %q", r.code, r.stdout)
	}
	if !strings.Contains(r.stderr, "the keychain did not answer in time (5s)") || !strings.Contains(r.stderr, "unlock it") {
		t.Fatalf("stderr does not name the cause and the fix:\n%s", r.stderr)
	}
	if took > 8*time.Second {
		t.Fatalf("tokctl took %s against a keychain that never answers; its timeout is 5s", took)
	}
}
