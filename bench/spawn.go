package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/tokctl/tokctl/bench/internal/measure"
)

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

// runOne runs bin once and times it from Start to the end of Wait.
func runOne(bin string, args ...string) (measure.Result, error) {
	return runOneEnv(nil, bin, args...)
}

// runOneEnv is runOne with env added to the child's environment.
func runOneEnv(env []string, bin string, args ...string) (measure.Result, error) {
	cmd, out, errb := command(bin, args...)
	cmd.Env = append(cmd.Env, env...)
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code, err := measure.ExitCode(err)
	if err != nil {
		return measure.Result{}, fmt.Errorf("run %s: %w", bin, err)
	}
	r := measure.Result{Code: code, Stdout: out.String(), Stderr: errb.String(), Took: took}
	r.RecordUsage(cmd.ProcessState)
	return r, nil
}

// burst starts n processes (argv from argv(i)) as fast as exec.Cmd.Start allows, in a loop,
// then collects them with Wait in the same order. wall runs from just before the first Start
// to the return of the last Wait, which is when the slowest process has been reaped: waiting
// in order adds nothing, since a process that exited early is reaped at once.
func burst(n int, bin string, argv func(i int) []string) (wall time.Duration, res []measure.Result, err error) {
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
	res = make([]measure.Result, n)
	var firstErr error
	for i, cmd := range cmds {
		code, err := measure.ExitCode(cmd.Wait())
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("wait for process %d: %w", i+1, err)
		}
		res[i] = measure.Result{Code: code, Stdout: outs[i][0].String(), Stderr: outs[i][1].String()}
	}
	wall = time.Since(start)
	return wall, res, firstErr
}
