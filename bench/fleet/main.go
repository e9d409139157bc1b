// Command fleet measures tokctl's Redis fleet store against its file store, side by side and
// interleaved, and checks the fleet promise while doing so: one refresh for any number of
// callers on any number of hosts.
//
//	go run ./bench/fleet            # full run, ≈ 6 minutes; writes bench/FLEET.md
//	go run ./bench/fleet -quick     # CI smoke test, < 60 s with a warm build cache
//	go run ./bench/fleet -out FILE  # write the report elsewhere
//	go run ./bench/fleet -quick -scenarios b -tokctl-tags tokctl_nolock -out F   # must exit 1
//
// It builds tokctl as a release is built (CGO_ENABLED=0 -trimpath -tags urfave_cli_no_docs
// -ldflags "-s -w", bench/torture/engine.Build), starts a redis-server (redistest: 127.0.0.1, a
// random port, a password, AOF with an fsync per write) and the strict authorization server
// oauthtest in process, and runs:
//
//	a. the hot path: tokctl token on a valid credential, Redis store vs file store, in pairs;
//	b. an expired credential, 8 hosts × 25 tokctl token on the Redis store vs the same 200
//	   callers on one host's file store, in pairs: token-endpoint calls, failures, distinct
//	   tokens, wall;
//	c. the lock handoff across hosts after the holder is SIGKILLed mid-refresh: kill → the
//	   waiter's token request at the provider, with the default lease (10s) and ?lease=2s;
//	d. the file-store hot path of tokctl built from the commit before the Redis store was linked
//	   into the command line vs HEAD (git worktrees), in pairs, with sizes and inittrace.
//
// Hosts are simulated as the fleet tests do: each process in a UTS namespace of its own
// (unshare -u) named host-N, which needs root; without it the processes keep this machine's
// hostname and the report says so.
//
// The exit status is 1 when a correctness figure is wrong (token-endpoint calls, refreshes,
// failures, distinct tokens, the waiter's token, the lock released) or the harness could not
// run; timings never change it.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokctl/tokctl/bench/internal/measure"
	"github.com/tokctl/tokctl/bench/torture/engine"
	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
	"github.com/tokctl/tokctl/redisstore"
	"github.com/tokctl/tokctl/redistest"
)

// releaseCommand is how the binaries are built, for the report.
const releaseCommand = `CGO_ENABLED=0 go build -trimpath -tags urfave_cli_no_docs -ldflags "-s -w"`

// counts are the iterations of each scenario.
type counts struct {
	hotWarm, hotPairs     int
	burstWarm, burstPairs int
	handoff10, handoff2   int // handoff iterations with the default lease and with ?lease=2s
	oldWarm, oldPairs     int
	initRuns              int
}

var (
	fullCounts  = counts{hotWarm: 20, hotPairs: 300, burstWarm: 1, burstPairs: 10, handoff10: 5, handoff2: 9, oldWarm: 20, oldPairs: 300, initRuns: 30}
	quickCounts = counts{hotWarm: 3, hotPairs: 30, burstWarm: 0, burstPairs: 1, handoff10: 0, handoff2: 1, oldWarm: 3, oldPairs: 30, initRuns: 5}
)

// fleet is one run.
type fleet struct {
	root, scratch string
	tokctl        string // release build of the working tree
	redis         *redistest.Server
	password      string
	env           []string // every tokctl's environment
	uts           bool     // unshare -u can name a process's host
	n             counts
	quick         bool
	oldRev        string // -old
	tags          string // -tokctl-tags
	out           outcome

	handoffExplained bool
}

func main() { os.Exit(run()) }

func run() int {
	quick := flag.Bool("quick", false, "few iterations (CI smoke test, < 60 s); still fails on a wrong correctness figure")
	out := flag.String("out", "", "write the Markdown report to `FILE` (default bench/FLEET.md in the module)")
	tags := flag.String("tokctl-tags", "", "extra build `TAGS` for the working tree's tokctl (tokctl_nolock must make the run fail)")
	only := flag.String("scenarios", "abcd", "run only these `LETTERS` of the scenarios a, b, c, d")
	old := flag.String("old", "afc180a", "scenario d: the `COMMIT` before the Redis store was linked into the command line")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "fleet: unexpected argument %q\n", flag.Arg(0))
		return 2
	}
	began := time.Now()
	f := &fleet{n: fullCounts, quick: *quick, oldRev: *old, tags: *tags}
	if *quick {
		f.n = quickCounts
	}
	var err error
	if f.root, err = engine.ModuleRoot(); err != nil {
		return fail(err)
	}
	if *out == "" {
		*out = filepath.Join(f.root, "bench", "FLEET.md")
	}
	if err := redistest.Available(); err != nil {
		return fail(err)
	}
	if f.scratch, err = os.MkdirTemp("", "tokctl-fleet-"); err != nil {
		return fail(err)
	}
	defer os.RemoveAll(f.scratch)

	fmt.Fprintf(os.Stderr, "fleet: building tokctl (%s)\n", releaseCommand)
	f.tokctl = filepath.Join(f.scratch, "tokctl")
	if err := engine.Build(f.root, f.tokctl, *tags); err != nil {
		return fail(err)
	}
	if _, err := measure.Settle(f.tokctl); err != nil {
		return fail(err)
	}
	pw := make([]byte, 16)
	rand.Read(pw)
	f.password = hex.EncodeToString(pw)
	if f.redis, err = redistest.StartServer(redistest.Options{Password: f.password, AppendOnly: true}); err != nil {
		return fail(err)
	}
	defer f.redis.Stop()
	f.env = childEnv("TOKCTL_REDIS_PASSWORD=" + f.password)
	f.uts = exec.Command("unshare", "-u", "sh", "-c", `hostname "$0" && test "$(hostname)" = "$0"`, "tokctl-uts-probe").Run() == nil

	scenarios := []struct {
		name string
		run  func() error
	}{
		{"a hot path", f.hotPath},
		{"b expired burst on 8 hosts", f.expiredBurst},
		{"c handoff after SIGKILL", f.handoff},
		{"d file hot path before/after the Redis client was linked", f.linked},
	}
	for _, s := range scenarios {
		if !strings.Contains(*only, s.name[:1]) {
			continue
		}
		t := time.Now()
		fmt.Fprintf(os.Stderr, "fleet: scenario %s …", s.name)
		if err := s.run(); err != nil {
			fmt.Fprintf(os.Stderr, "\nfleet: scenario %s: %v\n", s.name, err)
			return 1
		}
		fmt.Fprintf(os.Stderr, " %s\n", time.Since(t).Round(100*time.Millisecond))
	}

	var md bytes.Buffer
	f.markdown(&md, began)
	os.Stdout.Write(md.Bytes())
	if err := engine.WriteSection(*out, "fleet", md.String()); err != nil {
		return fail(fmt.Errorf("write report: %w", err))
	}
	fmt.Fprintf(os.Stderr, "fleet: report written to %s (took %s)\n", *out, time.Since(began).Round(time.Second))
	if !f.out.correct() {
		fmt.Fprintln(os.Stderr, "fleet: FAIL: a correctness figure is wrong (see the Correctness table)")
		return 1
	}
	return 0
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "fleet: %v\n", err)
	return 1
}

// home is one host's tokctl home: profile "default" on the file store or a Redis URL.
type home struct {
	dir   string
	paths config.Paths
	store creds.Store // the harness's handle on the profile's credential
}

const profile = "default"

// newHome creates home name for a profile at tokenURL; storeURL "" is the file store.
func (f *fleet) newHome(name, tokenURL, storeURL string) (*home, error) {
	dir := filepath.Join(f.scratch, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	h := &home{dir: dir, paths: config.Paths{Config: dir, State: dir}}
	if err := h.paths.SaveProfile(&config.Profile{Name: profile, TokenURL: tokenURL, ClientID: "tokctl-test", Store: storeURL}); err != nil {
		return nil, fmt.Errorf("save profile: %w", err)
	}
	if err := config.EnsurePrivateDir(h.paths.CredentialDir()); err != nil {
		return nil, err
	}
	if storeURL == "" {
		h.store = creds.NewFileStore(h.paths.CredentialFile(profile))
		return h, nil
	}
	s, err := redisstore.Open(redisstore.Options{URL: storeURL, Profile: profile, Password: f.password, Host: "fleet-harness"})
	if err != nil {
		return nil, err
	}
	h.store = s
	return h, nil
}

// redisURL is the Redis store's URL with extra query (e.g. "?lease=2s").
func (f *fleet) redisURL(query string) string { return f.redis.URL() + "/0" + query }

// args is "token --home H [extra…]".
func (h *home) args(extra ...string) []string {
	return append([]string{"token", "--home", h.dir}, extra...)
}

// put starts a new token family at srv (a fresh login), stores it with an access token valid
// for ttl (negative: expired) and zeroes the server's counters.
func (h *home) put(srv *oauthtest.Server, ttl time.Duration) (*creds.Credential, error) {
	r := srv.Issue("openid", ttl)
	c := &creds.Credential{AccessToken: r.AccessToken, TokenType: "Bearer", RefreshToken: r.RefreshToken,
		Scope: r.Scope, Expiry: time.Now().Add(ttl)}
	if err := h.store.Save(c); err != nil {
		return nil, fmt.Errorf("store credential in %s: %w", h.store.Location(), err)
	}
	srv.ResetStats()
	return c, nil
}

// outcome collects correctness checks, table rows, notes and extra sections.
type outcome struct {
	checks   []check
	rows     []row
	notes    []string
	sections []string
}

type check struct {
	name      string
	got, want string
	ok        bool
}

type row struct{ scenario, measured, baseline, ratio string }

func (o *outcome) checkInt(name string, got, want int) {
	o.checks = append(o.checks, check{name: name, got: fmt.Sprint(got), want: fmt.Sprint(want), ok: got == want})
}

// checkAll checks that every value is want, showing them all.
func (o *outcome) checkAll(name string, got []int, want int) {
	ok := len(got) > 0
	var parts []string
	for _, g := range got {
		ok = ok && g == want
		parts = append(parts, fmt.Sprint(g))
	}
	o.checks = append(o.checks, check{name: name, got: compact(parts), want: fmt.Sprintf("%d in every run", want), ok: ok})
}

// compact shows a list of values as "v×n" groups when they repeat.
func compact(vals []string) string {
	if len(vals) == 0 {
		return "—"
	}
	var parts []string
	for i := 0; i < len(vals); {
		j := i
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		if j-i > 1 {
			parts = append(parts, fmt.Sprintf("%s×%d", vals[i], j-i))
		} else {
			parts = append(parts, vals[i])
		}
		i = j
	}
	return strings.Join(parts, ", ")
}

func (o *outcome) notef(format string, args ...any) {
	o.notes = append(o.notes, fmt.Sprintf(format, args...))
}

func (o *outcome) correct() bool {
	for _, c := range o.checks {
		if !c.ok {
			return false
		}
	}
	return len(o.checks) > 0
}

// markdown writes the report.
func (f *fleet) markdown(w *bytes.Buffer, began time.Time) {
	mode := "full run"
	if f.quick {
		mode = "quick run (-quick: few iterations; figures are a smoke test, not measurements)"
	}
	ver := "?"
	if info, err := f.redis.Info("server"); err == nil {
		ver = info["redis_version"]
	}
	hosts := "each process in a UTS namespace of its own (`unshare -u sh -c 'hostname \"$0\" && exec \"$@\"' host-N tokctl …`, run as root), so every host's lock owner record and event log carry its own hostname"
	if !f.uts {
		hosts = "**not simulated**: `unshare -u` could not give a process a hostname of its own here (it needs root), so every process kept this machine's hostname; the 8 hosts differ by TOKCTL_HOME only"
	}
	fmt.Fprintf(w, "## Fleet store (Redis) vs file store\n\n")
	fmt.Fprintf(w, "- Command: `%s` (%s)\n", commandLine(), mode)
	fmt.Fprintf(w, "- Date: %s (took %s)\n", began.UTC().Format(time.RFC3339), time.Since(began).Round(time.Second))
	fmt.Fprintf(w, "- Machine: %s; load average at the end: %s\n", engine.Machine(), loadavg())
	extra := ""
	if f.tags != "" {
		extra = fmt.Sprintf(", **plus -tags %s** (scenarios a–c; a build meant to break the promise)", f.tags)
	}
	fmt.Fprintf(w, "- tokctl: `%s` of the working tree%s (every binary flushed and dropped from the page cache after the build)\n", releaseCommand, extra)
	fmt.Fprintf(w, "- Redis: redis-server %s (redistest: 127.0.0.1, random port, password via TOKCTL_REDIS_PASSWORD, appendonly with an fsync per write); profile store `redis://127.0.0.1:PORT/0` (lease 10s) unless a row says otherwise\n", ver)
	fmt.Fprintf(w, "- Provider: oauthtest in process (strict rotation, family revoked on reuse)\n")
	fmt.Fprintf(w, "- Hosts: %s\n\n", hosts)
	fmt.Fprintf(w, "Every measured side ran next to its baseline, the order alternating pair by pair; a ratio or a difference is taken within each pair, then its median is shown (p90 in brackets). The machine is a shared 2-core VM whose speed drifts: compare within a pair, not across runs or machines.\n\n")
	fmt.Fprintf(w, "| scenario | measured | baseline | per pair |\n|---|---|---|---|\n")
	for _, r := range f.out.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.scenario, r.measured, r.baseline, r.ratio)
	}
	fmt.Fprintf(w, "\n### Correctness\n\n| check | got | must be | ok? |\n|---|---|---|---|\n")
	for _, c := range f.out.checks {
		mark := "yes"
		if !c.ok {
			mark = "**NO**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", c.name, c.got, c.want, mark)
	}
	if len(f.out.notes) > 0 {
		fmt.Fprintf(w, "\n### Notes\n\n")
		for _, n := range f.out.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	for _, s := range f.out.sections {
		fmt.Fprintf(w, "\n%s", s)
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	fields := strings.Fields(string(b))
	if len(fields) < 3 {
		return "?"
	}
	return strings.Join(fields[:3], " ")
}

// commandLine reconstructs how the harness was invoked.
func commandLine() string {
	return strings.TrimSpace("go run ./bench/fleet " + strings.Join(os.Args[1:], " "))
}
