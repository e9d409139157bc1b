package commands_test

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// sweepProc reads, every interval until stopped, the argv (/proc/PID/cmdline) of every process
// descended from this one, and records any sentinel in it. Walking the tree through
// /proc/PID/task/TID/children keeps a sweep to a few dozen small reads, whatever else runs on
// the machine. stop returns how many sweeps were made.
func sweepProc(interval time.Duration) (stop func() int) {
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d/children", os.Getpid(), os.Getpid())); err != nil {
		fmt.Fprintf(os.Stderr, "leak audit: no /proc/PID/task/TID/children here (%v); argv of real processes is not swept\n", err)
		return func() int { return 0 }
	}
	done, finished := make(chan struct{}), make(chan int)
	go func() {
		seen := map[string]bool{} // pid + argv already judged
		sweeps := 0
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				finished <- sweeps
				return
			case <-tick.C:
			}
			sweeps++
			for _, pid := range descendants(os.Getpid()) {
				argv, err := os.ReadFile("/proc/" + pid + "/cmdline")
				if err != nil || len(argv) == 0 || seen[pid+"\x00"+string(argv)] {
					continue
				}
				seen[pid+"\x00"+string(argv)] = true
				scanText(fmt.Sprintf("the argv of process %s (%s)", pid, bytes.ReplaceAll(argv, []byte{0}, []byte{' '})), argv, false)
			}
		}
	}()
	return func() int {
		close(done)
		return <-finished
	}
}

// descendants lists the pids below pid.
func descendants(pid int) []string {
	var out []string
	queue := []string{strconv.Itoa(pid)}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		tasks, _ := os.ReadDir("/proc/" + p + "/task")
		for _, t := range tasks {
			kids, _ := os.ReadFile("/proc/" + p + "/task/" + t.Name() + "/children")
			for _, k := range strings.Fields(string(kids)) {
				out = append(out, k)
				queue = append(queue, k)
			}
		}
	}
	return out
}
