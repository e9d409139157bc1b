package eventlog

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestMain doubles as a writer process: EVENTLOG_WRITER=PATH,MAXSIZE,N appends N records.
func TestMain(m *testing.M) {
	if spec := os.Getenv("EVENTLOG_WRITER"); spec != "" {
		parts := strings.Split(spec, ",")
		max, _ := strconv.ParseInt(parts[1], 10, 64)
		n, _ := strconv.Atoi(parts[2])
		l := New(parts[0], max)
		l.Errorf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
		for i := range n {
			l.Write(Record{Kind: "refresh", Profile: "p", Outcome: "success", Attempt: i + 1, ClientID: strings.Repeat("c", 100)})
		}
		l.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// writers runs procs processes appending n records each to path, all at once.
func writers(t *testing.T, path string, maxSize int64, procs, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("EVENTLOG_WRITER=%s,%d,%d", path, maxSize, n))
			if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
				t.Errorf("writer: %v %s", err, out)
			}
		}()
	}
	wg.Wait()
}

// lines reads path and fails the test on any line that is not one whole record.
func lines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, sc := 0, bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Kind != "refresh" || r.PID == 0 || r.Host == "" {
			t.Fatalf("%s line %d is torn or incomplete: %q", path, n+1, sc.Text())
		}
		n++
	}
	return n
}

func TestNothingIsOpenedBeforeTheFirstWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", FileName)
	l := New(path, 0)
	l.Close()
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Fatalf("New or Close touched the disk: %v", err)
	}
	l.Write(Record{Kind: "login", Outcome: "success"})
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("after a write: %v, mode %v; want a 0600 file", err, st.Mode().Perm())
	}
}

func TestConcurrentProcessesNeverTearALine(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	writers(t, path, 1<<30, 8, 200)
	if n := lines(t, path); n != 8*200 {
		t.Fatalf("%d lines, want %d: appends were lost", n, 8*200)
	}
}

func TestRotationKeepsOneOldFileAndBoundsTheSize(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	const max = 16 << 10
	writers(t, path, max, 6, 300) // ~ 6 × 300 × 250 B ≈ 450 KiB: dozens of rotations
	cur, old := lines(t, path), lines(t, path+".1")
	if old == 0 {
		t.Fatal("no rotated file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("files %v, want the log and one rotated file", entries)
	}
	for _, p := range []string{path, path + ".1"} {
		// A writer may append a line or two past the limit before it rotates.
		if st, _ := os.Stat(p); st.Size() > max+8*1024 {
			t.Fatalf("%s has %d bytes, limit %d", p, st.Size(), max)
		}
	}
	t.Logf("after rotations: %d + %d lines kept", cur, old)
}

func TestAFailingLogNeverFailsTheCaller(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "state")
	os.WriteFile(blocker, nil, 0o600) // a file where the directory should be
	l := New(filepath.Join(blocker, FileName), 0)
	var errs []string
	l.Errorf = func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	l.Write(Record{Kind: "refresh", Outcome: "success"})
	if len(errs) != 1 {
		t.Fatalf("errors reported: %q, want one", errs)
	}
}
