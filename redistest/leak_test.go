package redistest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNoLeakWhenTestBinaryKilled runs this test binary as a child that starts a server, kills
// the child with SIGKILL (no cleanup runs) and checks that the server died with it.
func TestNoLeakWhenTestBinaryKilled(t *testing.T) {
	if os.Getenv("REDISTEST_LEAK_CHILD") == "1" {
		s, err := StartServer(Options{})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(s.PID(), s.Dir())
		time.Sleep(time.Minute)
		os.Exit(1)
	}
	Require(t)
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoLeakWhenTestBinaryKilled$")
	cmd.Env = append(os.Environ(), "REDISTEST_LEAK_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q %v", line, err)
	}
	var pid int
	var dir string
	if _, err := fmt.Sscan(line, &pid, &dir); err != nil || !strings.Contains(dir, "redistest") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q", line)
	}
	defer os.RemoveAll(dir) // the child had no chance to
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("server %d not running under the child: %v", pid, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	for deadline := time.Now().Add(5 * time.Second); alive(pid); {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("redis-server %d outlived the killed test binary", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid runs: it exists and is not a zombie left for an init that does
// not reap.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
