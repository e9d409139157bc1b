package measure

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Settle flushes the binary at path to disk and drops it from the page cache, so that it is run
// as read back from disk, as an installed program is, whatever way it was written, and returns
// its size. How a file came into the page cache changes how fast it starts: here the same tokctl
// written with one write(2) starts ≈ 30 % faster (333 page faults instead of 413: the page cache
// holds it in large folios), while the file the Go linker leaves and the file read back from
// disk start alike (bench/RESULTS.md, "Start-up of the hot path"). Every binary gets the same
// treatment, and the warm-up rounds take the first reads from disk.
func Settle(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return 0, fmt.Errorf("drop %s from the page cache: %w", path, err)
	}
	return st.Size(), nil
}
