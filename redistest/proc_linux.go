package redistest

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// Linux sends a child its parent-death signal when the thread that forked it exits, and the
// Go runtime ends a thread whose locked goroutine exits. So every process is forked by one
// goroutine locked to its thread for the life of the test binary: the servers get SIGKILL
// when the binary dies (timeout, kill -9), and only then.
var (
	spawnOnce sync.Once
	spawnCh   chan spawnReq
)

type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

func startCmd(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnCh = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: this thread lives as long as the process
			for r := range spawnCh {
				r.err <- r.cmd.Start()
			}
		}()
	})
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	errc := make(chan error, 1)
	spawnCh <- spawnReq{cmd, errc}
	return <-errc
}
