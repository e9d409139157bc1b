package diagnose

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxLine bounds one line of a line-oriented input; longer lines are skipped and counted.
const maxLine = 1 << 20

// InputStats says what was found in one input.
type InputStats struct {
	Name      string         `json:"name"`
	Format    string         `json:"format"` // the most frequent record format, "" when none was relevant
	Records   int64          `json:"records"`
	Entries   int64          `json:"entries"`   // records about refreshes
	Malformed int64          `json:"malformed"` // records that could not be read, skipped
	Formats   map[string]int `json:"-"`
	Outcomes  map[string]int `json:"outcomes,omitempty"`
}

func (s *InputStats) count(e Entry) {
	s.Entries++
	if s.Formats == nil {
		s.Formats, s.Outcomes = map[string]int{}, map[string]int{}
	}
	s.Formats[e.Format]++
	s.Outcomes[e.Outcome.String()]++
	if s.Formats[e.Format] > s.Formats[s.Format] {
		s.Format = e.Format
	}
}

// reader turns one input into entries.
type reader struct {
	name  string
	year  int
	stats *InputStats
	emit  func(Entry)
}

// read detects the input's shape (gzip; a JSON array, or lines of JSON or text) and reads it
// to the end. Malformed records are counted; only a failing reader is an error.
func (rd *reader) read(r io.Reader) error {
	br := bufio.NewReaderSize(r, maxLine)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		defer gz.Close()
		br = bufio.NewReaderSize(gz, maxLine)
	}
	if first, err := firstByte(br); err != nil {
		return err
	} else if first == '[' {
		return rd.array(br)
	}
	return rd.lines(br)
}

// firstByte peeks at the first byte that is not white space or a byte order mark.
func firstByte(br *bufio.Reader) (byte, error) {
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			if err == io.EOF || err == bufio.ErrBufferFull {
				return 0, nil
			}
			return 0, err
		}
		switch c := b[n-1]; c {
		case ' ', '\t', '\r', '\n', 0xEF, 0xBB, 0xBF:
		default:
			return c, nil
		}
	}
}

// lines reads line-oriented input: JSON objects and text may be mixed. A line longer than
// maxLine is skipped and counted as malformed.
func (rd *reader) lines(br *bufio.Reader) error {
	var n int64
	long := false // inside an over-long line
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			if !long {
				n++
				rd.stats.Records++
				rd.stats.Malformed++
				long = true
			}
			continue
		case long:
			long = false // the end of the over-long line
		case len(line) > 0:
			n++
			rd.line(line, n)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (rd *reader) line(line []byte, n int64) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	rd.stats.Records++
	if !relevant(line) {
		return
	}
	where := rd.name + ":" + strconv.FormatInt(n, 10)
	if line[0] == '{' {
		rd.object(line, where)
		return
	}
	rd.text(line, where)
}

// array walks a JSON array element by element: a 1 GB export is never held in memory.
func (rd *reader) array(br *bufio.Reader) error {
	lc := &lineCounter{r: br}
	dec := json.NewDecoder(lc)
	if _, err := dec.Token(); err != nil { // '['
		rd.stats.Malformed++
		return nil
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// A broken array cannot be resynchronised: count it and stop reading this input.
			rd.stats.Records++
			rd.stats.Malformed++
			var syn *json.SyntaxError
			if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		rd.stats.Records++
		line := lc.lineAt(dec.InputOffset() - int64(len(raw)))
		if len(raw) == 0 || raw[0] != '{' {
			rd.stats.Malformed++
			continue
		}
		if relevant(raw) {
			rd.object(raw, rd.name+":"+strconv.Itoa(line))
		}
	}
	return nil
}

// lineCounter tells which line of its input a byte offset is on, keeping only the bytes the
// JSON decoder has read ahead.
type lineCounter struct {
	r     io.Reader
	buf   []byte // read but not yet counted, starting at offset base
	base  int64
	lines int // newlines before base
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.buf = append(c.buf, p[:n]...)
	return n, err
}

// lineAt returns the 1-based line number of offset off; offsets must not decrease.
func (c *lineCounter) lineAt(off int64) int {
	k := min(max(int(off-c.base), 0), len(c.buf))
	c.lines += bytes.Count(c.buf[:k], []byte{'\n'})
	c.buf = append(c.buf[:0], c.buf[k:]...)
	c.base += int64(k)
	return c.lines + 1
}

// relevant is a cheap filter: records that cannot be about a refresh are not parsed at all.
func relevant(b []byte) bool {
	for _, k := range keywords {
		if bytes.Contains(b, k) {
			return true
		}
	}
	return false
}

var keywords = [][]byte{[]byte("oken"), []byte("efresh"), []byte("rant"), []byte("ertft"), []byte("ferrt"), []byte("euse"), []byte("lock_"), []byte("OKEN")}
