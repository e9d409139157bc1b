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

	"golang.org/x/sys/unix"
)

// result is what one child process did.
type result struct {
	host           string
	code           int // -1: killed by a signal
	stdout, stderr string
	took           time.Duration // Start to the end of Wait (single runs)
	cpu            time.Duration // user + system CPU time (single runs)
	minflt         int64         // minor page faults (single runs)
}

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
func (p *proc) wait() (result, error) {
	err := p.cmd.Wait()
	r := result{host: p.host, stdout: p.out.String(), stderr: p.errOut.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.code = -1
		}
	default:
		return r, err
	}
	if ps := p.cmd.ProcessState; ps != nil {
		r.cpu = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.minflt = ru.Minflt
		}
	}
	if r.code == 97 && p.host != "" {
		return r, fmt.Errorf("could not set hostname %q in a UTS namespace: %s", p.host, strings.TrimSpace(r.stderr))
	}
	return r, nil
}

// runOne runs bin once, without a hostname wrapper, timed from Start to the end of Wait.
func (f *fleet) runOne(bin string, env []string, args ...string) (result, error) {
	p := f.newProc("", bin, args...)
	if env != nil {
		p.cmd.Env = env
	}
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		return result{}, err
	}
	r, err := p.wait()
	r.took = time.Since(start)
	return r, err
}

// gatedBurst starts every proc (made by newGatedProc with gateR as their standard input), then
// opens the gate by closing gateW; wall runs from the gate's opening to the last reaped
// process, spawn from the first Start to the gate's opening.
func gatedBurst(procs []*proc, gateR, gateW *os.File) (wall, spawn time.Duration, res []result, err error) {
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
	res = make([]result, len(procs))
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

// tally is how a set of callers that should all succeed did.
type tally struct {
	failed   int // exit code not 0, or anything on stderr
	wrong    int // succeeded but printed another token than want
	distinct int // distinct tokens among the successful callers
	firstErr string
}

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

// settle flushes a binary to disk and drops it from the page cache, so that every binary is run
// as read back from disk, whatever way it was written (bench/build.go does the same and says
// why).
func settle(path string) (int64, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return 0, err
	}
	if err := fh.Sync(); err != nil {
		return 0, err
	}
	if err := unix.Fadvise(int(fh.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return 0, fmt.Errorf("drop %s from the page cache: %w", path, err)
	}
	return st.Size(), nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
