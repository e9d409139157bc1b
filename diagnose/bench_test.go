package diagnose

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// genLog is an io.Reader of size bytes of a busy service's log: token endpoint requests of
// 5000 users (nginx-like text), one per millisecond, with a race every 1000 lines and lines
// about other things in between. asArray renders it as an Auth0-style JSON array instead.
type genLog struct {
	size, n int64
	line    int
	buf     []byte
	asArray bool
}

var genStart = time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)

func (g *genLog) Read(p []byte) (int, error) {
	if g.n >= g.size && len(g.buf) == 0 {
		return 0, io.EOF
	}
	for len(g.buf) < len(p) && g.n < g.size {
		l := g.next()
		g.n += int64(len(l))
		g.buf = append(g.buf, l...)
	}
	if g.n >= g.size && g.asArray && len(g.buf) > 0 && g.buf[len(g.buf)-1] != ']' {
		g.buf = append(g.buf, "\n]"...)
	}
	k := copy(p, g.buf)
	g.buf = g.buf[:copy(g.buf, g.buf[k:])]
	return k, nil
}

func (g *genLog) next() string {
	i := g.line
	g.line++
	t := genStart.Add(time.Duration(i) * time.Millisecond)
	user := "u" + strconv.Itoa(i%5000)
	status, typ := 200, "sertft"
	if i%1000 == 1 || i%1000 == 2 { // the user of line i%1000 == 0 races
		user, status, typ = "u"+strconv.Itoa((i-i%1000)%5000), 400, "fertft"
	}
	if g.asArray {
		sep := ",\n"
		if i == 0 {
			sep = "[\n"
		}
		return fmt.Sprintf(`%s{"date":"%s","type":"%s","client_id":"app","user_id":"auth0|%s","ip":"10.1.%d.%d","description":"","log_id":"%d"}`,
			sep, t.Format(time.RFC3339Nano), typ, user, i%200, i%250, i)
	}
	if i%3 == 2 && status == 200 {
		return fmt.Sprintf("%s GET /api/items?page=%d 200 user=%s\n", t.Format(time.RFC3339Nano), i, user)
	}
	return fmt.Sprintf("%s POST /oauth2/token %d client_id=app user=%s ip=10.1.%d.%d\n", t.Format(time.RFC3339Nano), status, user, i%200, i%250)
}

// readGenerated analyses a generated log and returns its report and the peak heap in use.
func readGenerated(tb testing.TB, g *genLog) (*Report, uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	a := New(Options{})
	if err := a.Read(Input{Name: "gen", R: g})[0]; err != nil {
		tb.Fatal(err)
	}
	r := a.Report()
	close(done)
	return r, peak.Load()
}

// BenchmarkDiagnoseText and BenchmarkDiagnoseJSONArray measure throughput (MB/s) on generated
// logs of 64 MiB per operation.
func BenchmarkDiagnoseText(b *testing.B)      { benchGenerated(b, false) }
func BenchmarkDiagnoseJSONArray(b *testing.B) { benchGenerated(b, true) }

func benchGenerated(b *testing.B, asArray bool) {
	const size = 64 << 20
	b.SetBytes(size)
	var peak uint64
	for b.Loop() {
		_, p := readGenerated(b, &genLog{size: size, asArray: asArray})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// TestLargeInputsStreamInBoundedMemory reads a generated log (8 MiB; DIAGNOSE_BIG_MB sets
// another size, e.g. 1024) as text and as one JSON array: every race is found and the heap
// stays far below the input's size.
func TestLargeInputsStreamInBoundedMemory(t *testing.T) {
	size := int64(8 << 20)
	if mb, err := strconv.Atoi(os.Getenv("DIAGNOSE_BIG_MB")); err == nil {
		size = int64(mb) << 20
	}
	for _, asArray := range []bool{false, true} {
		t.Run(fmt.Sprintf("array=%v", asArray), func(t *testing.T) {
			g := &genLog{size: size, asArray: asArray}
			start := time.Now()
			r, peak := readGenerated(t, g)
			elapsed := time.Since(start)
			races := g.line / 1000
			t.Logf("%d MiB, %d lines in %v (%.0f MB/s), peak heap %.1f MiB, %d incidents (%v), %d omitted",
				size>>20, g.line, elapsed.Round(time.Millisecond), float64(size)/1e6/elapsed.Seconds(),
				float64(peak)/(1<<20), len(r.Incidents), r.Verdicts, r.Omitted)
			// The last few races have no later refresh to show they were transient.
			if got := r.Races(); got < races-5 || got > races+1 {
				t.Errorf("%d races found, want %d", got, races)
			}
			if peak > 96<<20 {
				t.Errorf("peak heap %d MiB: memory is not bounded", peak>>20)
			}
		})
	}
}
