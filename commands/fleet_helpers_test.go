package commands_test

// Helpers of the process-level fleet tests (fleet_*_test.go): tokctl processes on the hosts of
// redis_fleet_test.go's fleetHost, started together or one by one, optionally each in a UTS
// namespace of its own (so os.Hostname, and with it the lock's owner record and the event log,
// names a different host per process); the profile's keys read straight from Redis; and the
// secrets audit every fleet test runs (no Redis password, no value of tokctl's keys, no token
// in any process's stderr or argv).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/eventlog"
)

// Profile "work"'s keys in Redis under the default prefix (redisstore's keysFor).
const (
	fleetCredKey    = "tokctl:{work}:credential"
	fleetVersionKey = "tokctl:{work}:version"
	fleetLockKey    = "tokctl:{work}:lock"
	fleetRejectKey  = "tokctl:{work}:rejected"
	fleetChannel    = "tokctl:{work}:changed"
)

// fleetLogf logs one measured figure in the "fleet: …" format the report quotes.
func fleetLogf(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("fleet: "+format, args...)
}

// fleetRun is how one tokctl process of a fleet test ended.
type fleetRun struct {
	host           string // its hostname (UTS namespace), or "" for the machine's own
	pid            int
	stdout, stderr string
	code           int // exit code; -1 killed by a signal
	start, end     time.Time
}

func (r fleetRun) token() string { return strings.TrimSpace(r.stdout) }

// fleetProc is a started tokctl process.
type fleetProc struct {
	cmd         *exec.Cmd
	out, errOut bytes.Buffer
	run         fleetRun
}

// The shell scripts tokctl runs under. With a hostname ($0), as
// "unshare -u sh -c SCRIPT HOSTNAME TOKCTL ARGS…": name the new UTS namespace (exit 97 if that
// fails), then wait for the start gate (standard input reaching EOF; /dev/null passes at once)
// and become tokctl. Without a hostname, only the gate.
const (
	utsScript  = `hostname "$0" || exit 97; read -r _; exec "$@"`
	gateScript = `read -r _; exec "$@"`
)

// command is "tokctl ARGS --home HOME" on h; with hostname, in a UTS namespace of its own whose
// hostname it is; with gated, behind the start gate.
func (h *fleetHost) command(hostname string, gated bool, args ...string) *exec.Cmd {
	argv := append(append([]string{h.bin}, args...), "--home", h.home)
	var cmd *exec.Cmd
	switch {
	case hostname != "":
		cmd = exec.Command("unshare", append([]string{"-u", "sh", "-c", utsScript, hostname}, argv...)...)
	case gated:
		cmd = exec.Command("sh", append([]string{"-c", gateScript, "sh"}, argv...)...)
	default:
		cmd = exec.Command(argv[0], argv[1:]...)
	}
	cmd.Env = h.env
	return cmd
}

// start starts "tokctl ARGS" on h (see command); gate, when not nil, is its standard input.
func (h *fleetHost) start(hostname string, gate *os.File, args ...string) *fleetProc {
	h.t.Helper()
	p := &fleetProc{cmd: h.command(hostname, gate != nil, args...)}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	if gate != nil {
		p.cmd.Stdin = gate
	}
	p.run.host = hostname
	p.run.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	p.run.pid = p.cmd.Process.Pid
	return p
}

// wait waits for the process (safe from any goroutine) and says how it ended.
func (p *fleetProc) wait() fleetRun {
	err := p.cmd.Wait()
	p.run.end = time.Now()
	p.run.stdout, p.run.stderr = p.out.String(), p.errOut.String()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		p.run.code = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.run.code = -1
		}
	case err != nil:
		p.run.code, p.run.stderr = -2, p.run.stderr+"\n(wait: "+err.Error()+")"
	}
	return p.run
}

// fleetBurst runs perHost "tokctl ARGS" on every host at once: every process is started behind
// the start gate, which opens when all are started. names, when not nil, gives each host's
// processes their hostname (a UTS namespace each). Results come host by host.
func fleetBurst(t *testing.T, hosts []*fleetHost, names []string, perHost int, args ...string) []fleetRun {
	t.Helper()
	gateR, gateW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	procs := make([]*fleetProc, 0, len(hosts)*perHost)
	for i, h := range hosts {
		name := ""
		if names != nil {
			name = names[i]
		}
		for range perHost {
			procs = append(procs, h.start(name, gateR, args...))
		}
	}
	gateR.Close()
	gateW.Close() // every "read" returns at once: the burst starts
	runs := make([]fleetRun, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); runs[i] = p.wait() }()
	}
	wg.Wait()
	for _, r := range runs {
		if r.code == 97 {
			t.Fatalf("a process could not set its hostname %q in its UTS namespace:\n%s", r.host, r.stderr)
		}
	}
	return runs
}

// callerResults adapts runs to burst_test.go's burstVerdict.
func callerResults(runs []fleetRun) []callerResult {
	out := make([]callerResult, len(runs))
	for i, r := range runs {
		out[i] = callerResult{stdout: r.stdout, stderr: r.stderr, code: r.code}
	}
	return out
}

// exitCounts is "N×exit C" for each exit code seen.
func exitCounts(runs []fleetRun) string {
	counts := map[int]int{}
	for _, r := range runs {
		counts[r.code]++
	}
	var parts []string
	for code := -2; code < 256; code++ {
		if n := counts[code]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d×exit %d", n, code))
		}
	}
	return strings.Join(parts, ", ")
}

// events returns the records of h's event log (none when it does not exist).
func (h *fleetHost) events() []eventlog.Record {
	h.t.Helper()
	f, err := os.Open(filepath.Join(h.home, eventlog.FileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	var out []eventlog.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r eventlog.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			h.t.Fatalf("event log line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// clearEvents removes h's event log, so that the next records are the next run's only.
func (h *fleetHost) clearEvents() {
	os.Remove(filepath.Join(h.home, eventlog.FileName))
}

// redisDo runs one command on the server the test talks to directly.
type redisDo func(args ...string) (any, error)

// storedCredential is profile "work"'s credential in Redis, nil when there is none.
func storedCredential(t *testing.T, do redisDo) *creds.Credential {
	t.Helper()
	v, err := do("GET", fleetCredKey)
	if err != nil {
		t.Fatalf("GET the credential: %v", err)
	}
	if v == nil {
		return nil
	}
	s, _ := v.(string)
	c, err := creds.ParseCredential([]byte(s))
	if err != nil {
		t.Fatalf("the credential in Redis does not parse: %v", err)
	}
	return c
}

// storedVersion is profile "work"'s credential version in Redis ("" when unset).
func storedVersion(t *testing.T, do redisDo) string {
	t.Helper()
	v, err := do("GET", fleetVersionKey)
	if err != nil {
		t.Fatalf("GET the version: %v", err)
	}
	s, _ := v.(string)
	return s
}

// fleetAudit checks that no secret shows where other users of the machine can read it: the
// stderr of every tokctl process a test ran, and the argv of every process descended from the
// test binary (tokctl, sh, unshare, redis-server, redis-sentinel), swept from /proc while the
// test runs. Secrets are the Redis passwords, every value of tokctl's keys read from Redis
// (the credential and the rejection record) and every token oauthtest mints, which leak_test.go's
// sentinels recognise (at_…, rt_…, and "s3cret", which every password here contains).
type fleetAudit struct {
	t *testing.T

	mu       sync.Mutex
	secrets  []string
	findings []string
	stderrs  int // stderr texts checked
	argvs    int // distinct argv checked
	sweeps   int

	stop, done chan struct{}
}

func newFleetAudit(t *testing.T, secrets ...string) *fleetAudit {
	a := &fleetAudit{t: t, stop: make(chan struct{}), done: make(chan struct{})}
	a.secret(secrets...)
	go a.sweep(20 * time.Millisecond)
	t.Cleanup(a.finish)
	return a
}

// secret adds values that must never show.
func (a *fleetAudit) secret(values ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, v := range values {
		if len(v) >= 8 {
			a.secrets = append(a.secrets, v)
		}
	}
}

// redisValues adds the values of the profile's keys in Redis, and the tokens in the credential.
func (a *fleetAudit) redisValues(do redisDo) {
	for _, k := range []string{fleetCredKey, fleetRejectKey} {
		if v, err := do("GET", k); err == nil {
			if s, ok := v.(string); ok {
				a.secret(s)
				if c, err := creds.ParseCredential([]byte(s)); err == nil {
					a.secret(c.AccessToken, c.RefreshToken)
				}
			}
		}
	}
}

// check judges one text.
func (a *fleetAudit) check(where, text string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range sentinels {
		if s.re.MatchString(text) {
			a.findings = append(a.findings, fmt.Sprintf("%s holds %s", where, s.what))
		}
	}
	for _, v := range a.secrets {
		if strings.Contains(text, v) {
			a.findings = append(a.findings, fmt.Sprintf("%s holds a secret (a Redis password or a value stored in Redis)", where))
			break
		}
	}
}

// stderr checks the stderr of runs.
func (a *fleetAudit) stderr(runs ...fleetRun) {
	for _, r := range runs {
		a.check(fmt.Sprintf("the stderr of tokctl pid %d (exit %d)", r.pid, r.code), r.stderr)
		a.mu.Lock()
		a.stderrs++
		a.mu.Unlock()
	}
}

// sweep reads the argv of every descendant every interval until finish.
func (a *fleetAudit) sweep(interval time.Duration) {
	defer close(a.done)
	seen := map[string]bool{}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-tick.C:
		}
		for _, pid := range fleetDescendants() {
			argv, err := os.ReadFile("/proc/" + pid + "/cmdline")
			if err != nil || len(argv) == 0 || seen[pid+"\x00"+string(argv)] {
				continue
			}
			seen[pid+"\x00"+string(argv)] = true
			name, _, _ := strings.Cut(string(argv), "\x00")
			a.check(fmt.Sprintf("the argv of process %s (%s)", pid, filepath.Base(name)), string(bytes.ReplaceAll(argv, []byte{0}, []byte{' '})))
			a.mu.Lock()
			a.argvs++
			a.mu.Unlock()
		}
		a.mu.Lock()
		a.sweeps++
		a.mu.Unlock()
	}
}

// fleetDescendants lists the processes below the test binary. leak_proc_test.go's descendants
// reads the children of every thread of every process; with 200 tokctl processes of a dozen
// threads each that costs a core. Only the test binary (Go forks from any thread) needs that:
// sh, unshare, redis-server fork from their main thread, and tokctl forks nothing.
func fleetDescendants() []string {
	self := strconv.Itoa(os.Getpid())
	var out, queue []string
	tasks, _ := os.ReadDir("/proc/" + self + "/task")
	for _, t := range tasks {
		kids, _ := os.ReadFile("/proc/" + self + "/task/" + t.Name() + "/children")
		queue = append(queue, strings.Fields(string(kids))...)
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, p)
		kids, _ := os.ReadFile("/proc/" + p + "/task/" + p + "/children")
		queue = append(queue, strings.Fields(string(kids))...)
	}
	return out
}

// finish stops the sweep and fails the test on any finding.
func (a *fleetAudit) finish() {
	close(a.stop)
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.findings {
		a.t.Errorf("secret leak: %s", redact(f))
	}
	fleetLogf(a.t, "secrets: %d stderr texts and %d distinct argv (%d sweeps of /proc) checked against %d secrets (Redis passwords and values) and every oauthtest token: %d findings",
		a.stderrs, a.argvs, a.sweeps, len(a.secrets), len(a.findings))
}

// requireUTS skips the test unless "unshare -u" gives a process a hostname of its own (root,
// or a user namespace); as root, or with TOKCTL_TEST_REDIS=1, it fails instead.
func requireUTS(t *testing.T) {
	t.Helper()
	out, err := exec.Command("unshare", "-u", "sh", "-c", `hostname "$0" && hostname`, "tokctl-uts-probe").CombinedOutput()
	if err == nil && strings.TrimSpace(string(out)) == "tokctl-uts-probe" {
		return
	}
	msg := fmt.Sprintf("\"unshare -u\" cannot give a process a hostname of its own here (%v: %s); this test simulates hosts with one UTS namespace per process, which needs root", err, bytes.TrimSpace(out))
	if os.Geteuid() == 0 || redisWanted() {
		t.Fatal(msg)
	}
	t.Skip(msg + " (skipped: not root)")
}

// ms formats a duration in milliseconds for the figures.
func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + " ms" }
