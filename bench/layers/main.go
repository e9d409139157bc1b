// Command layers shows, measured, why tokctl has each of its layers (design.md §4, §5): side by
// side in one run, on the same expired credential and the same bursts (N = 10, 50, 200 callers),
// it runs tokctl and three refreshers that each lack one layer (bench/layers/variant):
//
//   - naive: no lock — every caller refreshes at once (N parallel POSTs);
//   - lock-only: tokctl's lock, but no re-read under it — refreshes are serialised, yet each
//     caller still refreshes, with the refresh token it read before waiting;
//   - non-atomic: lock and re-read, but the file is truncated and rewritten in place, and the
//     first writer is SIGKILLed halfway through the write;
//
// and, for a fair comparison, tokctl SIGKILLed at the same moment of its save (new file written,
// not yet renamed); both killed rows run again against a provider that accepts a rotated
// refresh token for 60 s (Okta's grace, Hydra's optional one). For each it reports token-endpoint calls, failed callers, whether the token
// family survived at the provider and whether the credential file was left unreadable.
//
//	go run ./bench/layers [-reps 3] [-out bench/RESULTS.md]
//
// The provider is oauthtest with strict rotation and family revocation on reuse (Grace 0 unless
// the row says otherwise), 50 ms latency.
// The table is written as its own section of -out. The exit status is 1 when tokctl itself
// (without kills) broke the promise or the run failed; the variants are expected to break it.
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
	"github.com/tokctl/tokctl/oauthtest"
)

func main() { os.Exit(run()) }

func run() int {
	reps := flag.Int("reps", 3, "bursts per contender and N")
	out := flag.String("out", "", "write the table as a section of `FILE` (default bench/RESULTS.md)")
	flag.Parse()
	began := time.Now()
	root, err := engine.ModuleRoot()
	if err != nil {
		return fail(err)
	}
	if *out == "" {
		*out = filepath.Join(root, "bench", "RESULTS.md")
	}
	scratch, err := os.MkdirTemp("", "tokctl-layers-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(scratch)
	fmt.Fprintln(os.Stderr, "layers: building tokctl (release and tokctl_torture) and bench/layers/variant")
	bins := map[string]string{}
	for _, b := range []struct{ name, pkg, tags string }{
		{"tokctl", ".", ""}, {"tokctl-torture", ".", "tokctl_torture"}, {"variant", "./bench/layers/variant", ""},
	} {
		bins[b.name] = filepath.Join(scratch, b.name)
		if err := engine.BuildPackage(root, b.pkg, bins[b.name], b.tags); err != nil {
			return fail(err)
		}
	}
	const latency = 50 * time.Millisecond
	srv := oauthtest.NewServer(oauthtest.Options{Latency: latency})
	defer srv.Close()
	// Okta (up to 60 s) and Hydra (optional) accept a rotated refresh token again for a while:
	// there, a kill after the rotation costs nothing when the old credential is still on disk.
	graceSrv := oauthtest.NewServer(oauthtest.Options{Latency: latency, Grace: time.Minute})
	defer graceSrv.Close()

	cs := contenders(bins)
	sizes := []int{10, 50, 200}
	cells := map[string]*cell{}
	for _, n := range sizes {
		for rep := range *reps {
			// The same bursts for everyone: each contender in turn, in a shuffled order.
			order := rand.Perm(len(cs))
			for _, i := range order {
				c := cs[i]
				s := srv
				if c.grace {
					s = graceSrv
				}
				h, err := newHome(scratch, fmt.Sprintf("%s-%d-%d", c.key, n, rep), s)
				if err != nil {
					return fail(err)
				}
				fmt.Fprintf(os.Stderr, "layers: %s, N=%d, burst %d\n", c.key, n, rep+1)
				o, err := h.burst(c, n)
				if err != nil {
					return fail(fmt.Errorf("%s, N=%d: %w", c.key, n, err))
				}
				key := fmt.Sprintf("%s/%d", c.key, n)
				if cells[key] == nil {
					cells[key] = &cell{}
				}
				cells[key].add(o)
			}
		}
	}
	var md bytes.Buffer
	writeTable(&md, cs, sizes, cells, header{
		command: strings.TrimSpace("go run ./bench/layers " + strings.Join(os.Args[1:], " ")),
		date:    began.UTC().Format(time.RFC3339), took: time.Since(began), machine: engine.Machine(),
		reps: *reps, latency: latency,
	})
	os.Stdout.Write(md.Bytes())
	if err := engine.WriteSection(*out, "layers", md.String()); err != nil {
		return fail(err)
	}
	fmt.Fprintf(os.Stderr, "layers: table written to %s\n", *out)
	for _, n := range sizes {
		if c := cells[fmt.Sprintf("tokctl/%d", n)]; !c.promiseKept() {
			fmt.Fprintf(os.Stderr, "layers: FAIL: tokctl broke the promise at N=%d\n", n)
			return 1
		}
	}
	return 0
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "layers: %v\n", err)
	return 1
}
