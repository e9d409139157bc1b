// Command torture hammers tokctl with bursts of real processes on an expired credential
// against the strict in-process authorization server oauthtest (rotation, family revocation on
// reuse, random latency), SIGKILLs callers at chosen and random moments in a share of the
// bursts, and judges every burst (bench/torture/engine): one refresh, no refresh token
// presented twice, no unreadable credential, no failed caller that was not killed, a lock that
// recovers by itself, and every lost refresh token explained by a kill between the provider's
// rotation and the save.
//
//	go run ./bench/torture                      # full run: 2,000 bursts; writes bench/TORTURE.md
//	go run ./bench/torture -duration 60s -out F # the CI slice
//	go run ./bench/torture -bursts 30 -tokctl-tags tokctl_nolock   # must fail: proves the checks bite
//	go run ./bench/torture -store redis -duration 30s -out F          # the Redis store, CI slice
//
// With -store redis the credential and its lock live in a redis-server started for the run
// (redistest: 127.0.0.1, a random port, a password, AOF) under a short lease (-lease, 2s), so a
// killed holder's lock runs out quickly; the callers wait it out within their --lock-timeout
// (-lock-timeout, 15s, longer than the lease). The kill moments are the store's (before-post,
// during-post, after-response, saved, random: Redis saves in one fenced script, so the file's
// save-temp-synced and save-renamed do not exist), the verdicts the same; the summary goes to
// its own section of the file.
//
// The exit status is 1 when any burst broke the promise or the harness could not run.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokctl/tokctl/bench/torture/engine"
	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/oauthtest"
)

func main() { os.Exit(run()) }

func run() int {
	bursts := flag.Int("bursts", 2000, "stop after `N` bursts")
	duration := flag.Duration("duration", 0, "stop starting bursts `D` after the first one began (0: no limit)")
	out := flag.String("out", "", "write the summary to `FILE` (default bench/TORTURE.md in the module)")
	tags := flag.String("tokctl-tags", "", "extra build `TAGS` for tokctl (tokctl_nolock must make the run fail)")
	killRate := flag.Float64("kill-rate", 0.1, "share of bursts in which callers are SIGKILLed")
	minN := flag.Int("min", 8, "fewest callers per burst")
	maxN := flag.Int("max", 200, "most callers per burst")
	latency := flag.Duration("latency", 100*time.Millisecond, "the server adds a random latency in [0, `D`] to each token request")
	seed := flag.Uint64("seed", 0, "random seed (0: random)")
	storeKind := flag.String("store", "file", "where the credential and its lock live: `file` (one --home) or redis (a redis-server started for the run)")
	lease := flag.Duration("lease", 2*time.Second, "redis: the lock's lease (the store URL's ?lease=; at least 2s)")
	lockTimeout := flag.Duration("lock-timeout", 15*time.Second, "redis: the callers' --lock-timeout (longer than the lease, so a dead holder's lock is waited out)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "torture: unexpected argument %q\n", flag.Arg(0))
		return 2
	}
	if *storeKind != "file" && *storeKind != "redis" {
		fmt.Fprintf(os.Stderr, "torture: -store must be file or redis, not %q\n", *storeKind)
		return 2
	}
	if *storeKind == "redis" && *lockTimeout <= *lease {
		fmt.Fprintf(os.Stderr, "torture: -lock-timeout %s must be longer than -lease %s: callers must outwait a killed holder's lease\n", *lockTimeout, *lease)
		return 2
	}
	if *seed == 0 {
		*seed = rand.Uint64()
	}
	began := time.Now()
	root, err := engine.ModuleRoot()
	if err != nil {
		return fail(err)
	}
	if *out == "" {
		*out = filepath.Join(root, "bench", "TORTURE.md")
	}
	scratch, err := os.MkdirTemp("", "tokctl-torture-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(scratch)

	fmt.Fprintf(os.Stderr, "torture: building tokctl (release flags + tokctl_torture %s) and the release binary\n", *tags)
	bin, release := filepath.Join(scratch, "tokctl-torture"), filepath.Join(scratch, "tokctl")
	if err := engine.Build(root, bin, strings.Trim("tokctl_torture,"+*tags, ",")); err != nil {
		return fail(err)
	}
	if err := engine.Build(root, release, *tags); err != nil {
		return fail(err)
	}
	if has, err := engine.HasHooks(release); err != nil || has {
		return fail(fmt.Errorf("the release build carries the torture hooks (err %v)", err))
	}
	if has, err := engine.HasHooks(bin); err != nil || !has {
		return fail(fmt.Errorf("the torture build carries no hooks (err %v): phases cannot be classified", err))
	}

	srv := oauthtest.NewServer(oauthtest.Options{Jitter: *latency})
	defer srv.Close()
	home := filepath.Join(scratch, "home")
	paths := config.Paths{Config: home, State: home}
	cfg := engine.Config{
		Bin: bin, Args: []string{"token", "--home", home}, Env: childEnv(),
		CredPath: paths.CredentialFile("default"), LockPath: paths.LockFile("default"),
		Provider: &provider{srv: srv}, MinN: *minN, MaxN: *maxN, KillRate: *killRate,
		Latency: *latency, Rand: rand.New(rand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15)),
	}
	prof := &config.Profile{Name: "default", TokenURL: srv.TokenURL(), ClientID: "tokctl-test"}
	section, title, storeDesc := "oauthtest", "oauthtest: strict rotation, family revocation on reuse, latency 0–"+latency.String(), ""
	if *storeKind == "redis" {
		fmt.Fprintf(os.Stderr, "torture: starting redis-server (redistest: password, AOF; lease %s)\n", lease)
		fs, err := startFleetStore(*lease)
		if err != nil {
			return fail(err)
		}
		defer fs.stop()
		prof.Store = fs.url
		cfg.Store, cfg.LockHeld, cfg.Moments = fs.store, fs.lockHeld, engine.StoreMoments
		cfg.Args = append(cfg.Args, "--lock-timeout", lockTimeout.String())
		cfg.Env = append(cfg.Env, "TOKCTL_REDIS_PASSWORD="+fs.password)
		section = "oauthtest-redis"
		title = "Redis store (lease " + lease.String() + "): oauthtest, strict rotation, family revocation on reuse, latency 0–" + latency.String()
		storeDesc = fmt.Sprintf("Redis (redistest: redis-server %s on 127.0.0.1, password, appendonly with fsync always), profile store `%s` (lease %s; the minimum a URL may ask for); callers run `tokctl token --lock-timeout %s`; kill moments %s",
			fs.version, fs.display, lease, lockTimeout, strings.Join(engine.StoreMoments, ", "))
	}
	if err := paths.SaveProfile(prof); err != nil {
		return fail(err)
	}
	if err := config.EnsurePrivateDir(paths.CredentialDir()); err != nil {
		return fail(err)
	}
	r, err := engine.New(cfg)
	if err != nil {
		return fail(err)
	}
	defer r.Close()

	sum := engine.NewSummary()
	h := engine.Header{
		Title:    title,
		Store:    storeDesc,
		Command:  commandLine(),
		Date:     began.UTC().Format(time.RFC3339),
		Machine:  engine.Machine(),
		Binary:   fmt.Sprintf("release flags + `-tags tokctl_torture%s` (hooks: creds/torture_hooks.go); the release build was checked to carry no hooks", prefixed(*tags)),
		Provider: fmt.Sprintf("oauthtest in process, Jitter %s, Grace 0; seed %d; callers %d…%d; kill rate %.0f %%", latency, *seed, *minN, *maxN, *killRate*100),
	}
	write := func(partial string) error {
		h.Took, h.Partial = time.Since(began), partial
		var md bytes.Buffer
		sum.Markdown(&md, h)
		return engine.WriteSection(*out, section, md.String())
	}
	looping := time.Now() // -duration counts bursts only, not the builds
	for i := 0; i < *bursts && (*duration == 0 || time.Since(looping) < *duration); i++ {
		b, err := r.Burst()
		if err != nil {
			return fail(err)
		}
		sum.Add(b)
		if len(b.Broken) > 0 {
			fmt.Fprintf(os.Stderr, "torture: burst %d (%d callers, kill %q) BROKE: %s\n", b.Seq, b.N, b.Moment, strings.Join(b.Broken, "; "))
		}
		if b.Seq%25 == 0 {
			fmt.Fprintf(os.Stderr, "torture: %d bursts, %s, %d broken\n", b.Seq, time.Since(began).Round(time.Second), sum.BrokenBursts)
			if err := write(fmt.Sprintf("%d of %d bursts so far", b.Seq, *bursts)); err != nil {
				return fail(err)
			}
		}
	}
	if err := write(""); err != nil {
		return fail(err)
	}
	var md bytes.Buffer
	sum.Markdown(&md, h)
	os.Stdout.Write(md.Bytes())
	fmt.Fprintf(os.Stderr, "torture: summary written to %s\n", *out)
	if !sum.OK() {
		fmt.Fprintln(os.Stderr, "torture: FAIL: the promise broke (see the table)")
		return 1
	}
	return 0
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "torture: %v\n", err)
	return 1
}

// childEnv is our environment without TOKCTL_* variables, which could steer the callers.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOKCTL_") {
			env = append(env, kv)
		}
	}
	return env
}

// commandLine reconstructs how the harness was invoked.
func commandLine() string {
	return strings.TrimSpace("go run ./bench/torture " + strings.Join(os.Args[1:], " "))
}

func prefixed(tags string) string {
	if tags == "" {
		return ""
	}
	return "," + tags
}
