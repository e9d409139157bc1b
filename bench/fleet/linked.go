package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tokctl/tokctl/bench/internal/measure"
	"github.com/tokctl/tokctl/bench/torture/engine"
	"github.com/tokctl/tokctl/oauthtest"
)

// linkedRedisCommit is the commit that linked the Redis store into the command line; the
// baseline is the commit right before it (-old).
const linkedRedisCommit = "f712504"

// build is one tokctl built from a commit in a worktree of its own.
type build struct {
	label, rev, short, bin string
	size                   int64
	redisPkgs              []string // redisstore/redisconn in the main package's dependencies
}

// worktreeBuild checks rev out into a temporary worktree and builds tokctl there with the
// release flags.
func (f *fleet) worktreeBuild(label, rev string) (*build, error) {
	b := &build{label: label, rev: rev}
	out, err := f.git("rev-parse", "--short=7", rev+"^{commit}")
	if err != nil {
		return nil, err
	}
	b.short = strings.TrimSpace(out)
	dir := filepath.Join(f.scratch, "wt-"+label)
	if _, err := f.git("worktree", "add", "--detach", dir, rev); err != nil {
		return nil, err
	}
	defer f.git("worktree", "remove", "--force", dir)
	b.bin = filepath.Join(f.scratch, "tokctl-"+label)
	if err := engine.Build(dir, b.bin, ""); err != nil {
		return nil, err
	}
	if b.size, err = measure.Settle(b.bin); err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "list", "-deps", "-tags", "urfave_cli_no_docs", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	deps, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps in %s: %w", b.short, err)
	}
	for _, p := range strings.Fields(string(deps)) {
		if strings.HasSuffix(p, "/redisstore") || strings.HasSuffix(p, "/redisconn") {
			b.redisPkgs = append(b.redisPkgs, strings.TrimPrefix(p, "github.com/tokctl/tokctl/"))
		}
	}
	return b, nil
}

// git runs git in the module root (retrying while another git holds the index lock).
func (f *fleet) git(args ...string) (string, error) {
	var out []byte
	var err error
	for range 20 {
		cmd := exec.Command("git", args...)
		cmd.Dir = f.root
		out, err = cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), ".lock") {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		return "", fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// linked is scenario d: the file-store hot path of tokctl built from the commit before the
// Redis store was linked into the command line vs HEAD, both from clean worktrees.
func (f *fleet) linked() error {
	old, err := f.worktreeBuild("old", f.oldRev)
	if err != nil {
		return err
	}
	head, err := f.worktreeBuild("head", "HEAD")
	if err != nil {
		return err
	}
	srv := oauthtest.NewServer(oauthtest.Options{})
	defer srv.Close()
	h, err := f.newHome("linked-file", srv.TokenURL(), "")
	if err != nil {
		return err
	}
	c, err := h.put(srv, time.Hour)
	if err != nil {
		return err
	}
	a := &side{bin: head.bin, args: h.args()}
	b := &side{bin: old.bin, args: h.args()}
	if err := f.pairedRuns(a, b, f.n.oldWarm, f.n.oldPairs); err != nil {
		return fmt.Errorf("old vs HEAD: %w", err)
	}
	ta, tb := measure.TallyTokens(a.outs, c.AccessToken), measure.TallyTokens(b.outs, c.AccessToken)
	o := &f.out
	o.checkInt("d. file hot path, HEAD and "+old.short+": failed runs", ta.Failed+tb.Failed, 0)
	o.checkInt("d. file hot path, HEAD and "+old.short+": runs printing another token than the stored one", ta.Wrong+tb.Wrong, 0)
	o.checkInt("d. file hot path: token-endpoint calls", srv.Stats().TokenRequests, 0)

	ia, err := f.initTrace(head.bin, h.args())
	if err != nil {
		return err
	}
	ib, err := f.initTrace(old.bin, h.args())
	if err != nil {
		return err
	}
	p, cp := a.pairsWith(b), a.cpuPairsWith(b)
	o.rows = append(o.rows, row{
		scenario: fmt.Sprintf("d. file-store hot path: `tokctl token` built from HEAD (%s, Redis store linked) vs from %s (the commit before %s linked it), wall per call (%s)", head.short, old.short, linkedRedisCommit, measure.Plural(len(p.A), "pair")),
		measured: "HEAD " + a.took.MedP90(),
		baseline: old.short + " " + b.took.MedP90(),
		ratio:    p.RatioText() + fmt.Sprintf("; CPU %s vs %s, %s per pair", measure.Ms(a.cpu.Median()), measure.Ms(b.cpu.Median()), measure.Times(measure.MedianF(cp.Ratios()))),
	})
	var md strings.Builder
	fmt.Fprintf(&md, "### d. Linking the Redis client and the file-store hot path\n\n")
	fmt.Fprintf(&md, "Both binaries built with `%s` from clean `git worktree`s of their commits; the same file-store home (a valid credential); %s, the order alternating; %s discarded.\n\n", releaseCommand, measure.Plural(len(p.A), "pair"), measure.Plural(f.n.oldWarm, "warm-up pair"))
	fmt.Fprintf(&md, "| build | redisstore/redisconn linked | size | wall median (p90) | CPU (user+sys) | minor faults | init work, all packages (GODEBUG=inittrace=1, median of %d runs) | init lines of redisstore/redisconn |\n|---|---|---|---|---|---|---|---|\n", f.n.initRuns)
	for _, r := range []struct {
		b *build
		s *side
		i initStats
	}{{head, a, ia}, {old, b, ib}} {
		linked := "no"
		if len(r.b.redisPkgs) > 0 {
			linked = "yes (" + strings.Join(r.b.redisPkgs, ", ") + ")"
		}
		fmt.Fprintf(&md, "| %s `%s` | %s | %.2f MiB (%d bytes) | %s | %s | %.0f | %s clock, %s, %d packages | %s |\n", r.b.label, r.b.short, linked,
			float64(r.b.size)/(1<<20), r.b.size, r.s.took.MedP90(), measure.Ms(r.s.cpu.Median()), measure.MedianF(r.s.minflt), measure.Ms(r.i.total), fmtBytes(r.i.bytes), r.i.pkgs, r.i.redisText())
	}
	parent := "?"
	if out, err := f.git("rev-parse", "--short=7", linkedRedisCommit+"^"); err == nil {
		parent = strings.TrimSpace(out)
	}
	fmt.Fprintf(&md, "\nThe baseline is %s; the parent of %s (the commit that linked the Redis store into the command line) is %s.", old.short, linkedRedisCommit, parent)
	if parent == old.short && old.short == "afc180a" {
		fmt.Fprintf(&md, " The last commit before %s that touched the hot path is e190582 (\"build only the command being run\"); between it and afc180a landed 2d17896 (--version names the build), 621795c and afc180a (demo output, README) — `git diff --stat e190582 afc180a`: README.md, commands/demo.go, commands/testdata/script/demo.txtar, main.go, version.go, version_test.go. The demo and README changes do not touch `tokctl token`. 2d17896 does, slightly, and in the baseline's favour: at e190582 main.go called `moduleVersion`, which for an unstamped build (version \"dev\", as these benchmark builds are: no `-X main.version`) ran `debug.ReadBuildInfo` on every invocation; from 2d17896 on, `versionFor` reads the build info only for a command line that may print the version (--version, help, man), never for `tokctl token`. A goreleaser-stamped release returned early in both. So afc180a is the fair baseline; e190582 would have carried that extra work (about 0.1 ms per call by 2d17896's own estimate) and flattered HEAD.", linkedRedisCommit)
	}
	fmt.Fprintf(&md, "\n\nHEAD vs %s per pair: wall %s; CPU %s (p90 %s); size %+d bytes (%+.1f %%).\n", old.short, p.RatioText(), measure.Times(measure.MedianF(cp.Ratios())), measure.Times(measure.PctF(cp.Ratios(), 90)), head.size-old.size, 100*float64(head.size-old.size)/float64(old.size))
	o.sections = append(o.sections, md.String())
	return nil
}

// initStats sums a binary's GODEBUG=inittrace=1 lines.
type initStats struct {
	total time.Duration // median over runs of the sum of every package's init clock
	bytes float64       // median of the bytes allocated by init
	pkgs  int           // packages with init work (the last run)
	redis []string      // lines naming redisstore or redisconn (the last run)
}

var initLine = regexp.MustCompile(`^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock, ([0-9]+) bytes, ([0-9]+) allocs`)

func (f *fleet) initTrace(bin string, args []string) (initStats, error) {
	var s initStats
	env := append(append([]string{}, f.env...), "GODEBUG=inittrace=1")
	var totals measure.Sample
	var bytes []float64
	for range f.n.initRuns {
		r, err := f.runOne(bin, env, args...)
		if err != nil {
			return s, err
		}
		if r.Code != 0 {
			return s, fmt.Errorf("inittrace run of %s: exit %d: %s", bin, r.Code, r.Stderr)
		}
		var sum time.Duration
		var b float64
		s.pkgs, s.redis = 0, nil
		for _, l := range strings.Split(r.Stderr, "\n") {
			m := initLine.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			s.pkgs++
			clock, _ := strconv.ParseFloat(m[2], 64)
			sum += time.Duration(clock * float64(time.Millisecond))
			n, _ := strconv.ParseFloat(m[3], 64)
			b += n
			if strings.Contains(m[1], "redisstore") || strings.Contains(m[1], "redisconn") {
				s.redis = append(s.redis, l)
			}
		}
		totals = append(totals, sum)
		bytes = append(bytes, b)
	}
	s.total, s.bytes = totals.Median(), measure.MedianF(bytes)
	return s, nil
}

func (s initStats) redisText() string {
	if len(s.redis) == 0 {
		return "none"
	}
	sort.Strings(s.redis)
	return "`" + strings.Join(s.redis, "`; `") + "`"
}

func fmtBytes(b float64) string {
	return fmt.Sprintf("%.1f KiB", b/1024)
}
