package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// result is what one child process did.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration // Start to the end of Wait (single runs only)
	cpu            time.Duration // user + system CPU time (single runs only)
	minflt         int64         // minor page faults (single runs only)
}

// childEnv is the environment of every child: ours without TOKCTL_* variables, so that a
// developer's own TOKCTL_HOME or TOKCTL_PROFILE cannot steer the benchmark.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOKCTL_") {
			env = append(env, kv)
		}
	}
	return env
}

// command returns an *exec.Cmd for bin with stdout and stderr going to fresh buffers.
func command(bin string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.Command(bin, args...)
	cmd.Env = childEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return cmd, &out, &errb
}

// exitCode turns Wait's error into an exit code; other errors (could not wait at all) are
// returned as they are.
func exitCode(err error) (int, error) {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		return ee.ExitCode(), nil
	}
	return -1, err
}

// runOne runs bin once and times it from Start to the end of Wait.
func runOne(bin string, args ...string) (result, error) {
	cmd, out, errb := command(bin, args...)
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code, err := exitCode(err)
	if err != nil {
		return result{}, fmt.Errorf("run %s: %w", bin, err)
	}
	r := result{code: code, stdout: out.String(), stderr: errb.String(), took: took}
	if ps := cmd.ProcessState; ps != nil {
		r.cpu = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.minflt = ru.Minflt
		}
	}
	return r, nil
}

// burst starts n processes (argv from argv(i)) as fast as exec.Cmd.Start allows, in a loop,
// then collects them with Wait in the same order. wall runs from just before the first Start
// to the return of the last Wait, which is when the slowest process has been reaped: waiting
// in order adds nothing, since a process that exited early is reaped at once.
func burst(n int, bin string, argv func(i int) []string) (wall time.Duration, res []result, err error) {
	cmds := make([]*exec.Cmd, n)
	outs := make([][2]*bytes.Buffer, n)
	for i := range n {
		cmd, out, errb := command(bin, argv(i)...)
		cmds[i], outs[i] = cmd, [2]*bytes.Buffer{out, errb}
	}
	start := time.Now()
	for i, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			for _, c := range cmds[:i] {
				c.Process.Kill()
				c.Wait()
			}
			return 0, nil, fmt.Errorf("start process %d of %d: %w", i+1, n, err)
		}
	}
	res = make([]result, n)
	var firstErr error
	for i, cmd := range cmds {
		code, err := exitCode(cmd.Wait())
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("wait for process %d: %w", i+1, err)
		}
		res[i] = result{code: code, stdout: outs[i][0].String(), stderr: outs[i][1].String()}
	}
	wall = time.Since(start)
	return wall, res, firstErr
}

// tally summarises a burst whose callers should all succeed.
type tally struct {
	failed   int // exit code not 0, or anything on stderr
	wrong    int // succeeded but printed something other than the expected token
	distinct int // distinct stdout values among the successful callers
	firstErr string
}

// tallyTokens checks every result against want (the stored access token); want "" accepts any
// token and only counts distinct ones.
func tallyTokens(res []result, want string) tally {
	var t tally
	seen := map[string]bool{}
	for _, r := range res {
		if r.code != 0 || r.stderr != "" {
			t.failed++
			if t.firstErr == "" {
				t.firstErr = fmt.Sprintf("exit %d: %s", r.code, strings.TrimSpace(r.stderr))
			}
			continue
		}
		seen[r.stdout] = true
		if want != "" && r.stdout != want+"\n" {
			t.wrong++
		}
	}
	t.distinct = len(seen)
	return t
}
