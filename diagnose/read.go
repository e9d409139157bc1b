package diagnose

import "fmt"

// batch is how many entries an input's reader hands over at once.
const batch = 256

// stream is one input being read on its own goroutine.
type stream struct {
	stats *InputStats
	ch    chan []Entry
	head  []Entry
	err   error
	desc  bool // its entries run newest first
}

// Read reads the inputs to the end, concurrently, merging their entries by time so that
// several hosts' logs correlate. Inputs that run newest first (as some exports do) are merged
// among themselves, newest first, after the others. It returns one error per input that could
// not be read to the end (nil entries for the others); what was read of it still counts.
func (a *Analyzer) Read(inputs ...Input) []error {
	streams := make([]*stream, len(inputs))
	for i, in := range inputs {
		s := &stream{stats: &InputStats{Name: in.Name}, ch: make(chan []Entry, 4)}
		a.inputs = append(a.inputs, s.stats)
		streams[i] = s
		go s.run(in, a.opt.Year)
	}
	var asc, desc []*stream
	for _, s := range streams {
		s.fill()
		if s.desc {
			desc = append(desc, s)
		} else {
			asc = append(asc, s)
		}
	}
	a.merge(asc, false)
	a.merge(desc, true)
	errs := make([]error, len(streams))
	for i, s := range streams {
		if s.err != nil {
			errs[i] = fmt.Errorf("%s: %w", inputs[i].Name, s.err)
		}
	}
	return errs
}

func (s *stream) run(in Input, year int) {
	var buf []Entry
	rd := &reader{name: in.Name, year: year, stats: s.stats, emit: func(e Entry) {
		buf = append(buf, e)
		if len(buf) == batch {
			s.ch <- buf
			buf = make([]Entry, 0, batch)
		}
	}}
	err := rd.read(in.R)
	if len(buf) > 0 {
		s.ch <- buf
	}
	s.err = err // written before close: the merge reads it after the channel is drained
	close(s.ch)
}

// fill makes head non-empty unless the stream has ended; the first batch decides the
// stream's direction.
func (s *stream) fill() bool {
	first := s.head == nil
	for len(s.head) == 0 {
		b, ok := <-s.ch
		if !ok {
			return false
		}
		s.head = b
	}
	if first {
		up, down := 0, 0
		for i := 1; i < len(s.head); i++ {
			switch d := s.head[i].Time.Sub(s.head[i-1].Time); {
			case d > 0:
				up++
			case d < 0:
				down++
			}
		}
		s.desc = down > up
	}
	return true
}

// merge feeds the streams' entries to the bursts in time order (reverse order when desc), then
// closes every burst.
func (a *Analyzer) merge(streams []*stream, desc bool) {
	for {
		var next *stream
		for _, s := range streams {
			if !s.fill() {
				continue
			}
			if next == nil || s.head[0].Time.Before(next.head[0].Time) != desc {
				next = s
			}
		}
		if next == nil {
			break
		}
		e := next.head[0]
		next.head = next.head[1:]
		a.add(e)
	}
	a.sweep(true)
}

// add counts e in its input's stats and hands it on.
func (rd *reader) add(e Entry) {
	rd.stats.count(e)
	rd.emit(e)
}
