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

// utsScript runs tokctl under its own hostname: "unshare -u sh -c SCRIPT HOSTNAME TOKCTL
// ARGS…" names the new UTS namespace (exit 97 if that fails) and becomes tokctl, as
// commands/fleet_helpers_test.go simulates hosts.
const utsScript = `hostname "$0" || exit 97; exec "$@"`

// gatedScript is utsScript behind a start gate: it waits for its standard input (a pipe) to
// reach EOF before it becomes tokctl, so that every caller of a burst is ready when the gate
// opens.
const gatedScript = `hostname "$0" || exit 97; read -r _; exec "$@"`

// childEnv is our environment without TOKCTL_* variables (a developer's own TOKCTL_HOME must
// not steer the callers), plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOKCTL_") && !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// proc is a started or startable child with its output buffers.
type proc struct {
	cmd         *exec.Cmd
	out, errOut bytes.Buffer
	host        string
}

// newProc prepares "bin ARGS…"; with host (and uts), under that hostname in a UTS namespace of
// its own.
func (f *fleet) newProc(host, bin string, args ...string) *proc {
	p := &proc{host: host}
	if host != "" && f.uts {
		p.cmd = exec.Command("unshare", append([]string{"-u", "sh", "-c", utsScript, host, bin}, args...)...)
	} else {
		p.cmd = exec.Command(bin, args...)
	}
	p.cmd.Env = f.env
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	return p
}

// newGatedProc is newProc behind the start gate: it becomes tokctl when gate (its standard
// input) reaches EOF. Without UTS namespaces the gate is kept, only the hostname is not set.
func (f *fleet) newGatedProc(host string, gate *os.File, bin string, args ...string) *proc {
	p := &proc{host: host}
	if f.uts {
		p.cmd = exec.Command("unshare", append([]string{"-u", "sh", "-c", gatedScript, host, bin}, args...)...)
	} else {
		p.cmd = exec.Command("sh", append([]string{"-c", `read -r _; exec "$@"`, host, bin}, args...)...)
	}
	p.cmd.Env = f.env
	p.cmd.Stdin = gate
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	return p
}

// wait waits for p and says how it ended.
func (p *proc) wait() (measure.Result, error) {
	code, err := measure.ExitCode(p.cmd.Wait())
	r := measure.Result{Stdout: p.out.String(), Stderr: p.errOut.String()}
	if err != nil {
		return r, err
	}
	r.Code = code
	r.RecordUsage(p.cmd.ProcessState)
	if r.Code == 97 && p.host != "" {
		return r, fmt.Errorf("could not set hostname %q in a UTS namespace: %s", p.host, strings.TrimSpace(r.Stderr))
	}
	return r, nil
}

// runOne runs bin once, without a hostname wrapper, timed from Start to the end of Wait.
func (f *fleet) runOne(bin string, env []string, args ...string) (measure.Result, error) {
	p := f.newProc("", bin, args...)
	if env != nil {
		p.cmd.Env = env
	}
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		return measure.Result{}, err
	}
	r, err := p.wait()
	r.Took = time.Since(start)
	return r, err
}

// gatedBurst starts every proc (made by newGatedProc with gateR as their standard input), then
// opens the gate by closing gateW; wall runs from the gate's opening to the last reaped
// process, spawn from the first Start to the gate's opening.
func gatedBurst(procs []*proc, gateR, gateW *os.File) (wall, spawn time.Duration, res []measure.Result, err error) {
	first := time.Now()
	for i, p := range procs {
		if err := p.cmd.Start(); err != nil {
			gateW.Close()
			for _, q := range procs[:i] {
				q.cmd.Process.Kill()
				q.cmd.Wait()
			}
			return 0, 0, nil, fmt.Errorf("start process %d of %d: %w", i+1, len(procs), err)
		}
	}
	gateR.Close()
	start := time.Now()
	gateW.Close() // every "read" returns at once: the burst starts
	spawn = start.Sub(first)
	res = make([]measure.Result, len(procs))
	var firstErr error
	for i, p := range procs {
		r, err := p.wait()
		if err != nil && firstErr == nil {
			firstErr = err
		}
		res[i] = r
	}
	return time.Since(start), spawn, res, firstErr
}
