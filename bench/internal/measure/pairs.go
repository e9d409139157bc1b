package measure

import (
	"fmt"
	"time"
)

// Pairs holds paired measurements: A[i] and B[i] were taken back to back, so a slow moment of
// the machine hits both and cancels out of A[i]/B[i].
type Pairs struct{ A, B Sample }

// Add records one pair.
func (p *Pairs) Add(a, b time.Duration) {
	p.A = append(p.A, a)
	p.B = append(p.B, b)
}

// Ratios returns A[i]/B[i] for every pair.
func (p *Pairs) Ratios() []float64 {
	r := make([]float64, len(p.A))
	for i := range p.A {
		r[i] = float64(p.A[i]) / float64(max(p.B[i], 1))
	}
	return r
}

// Diffs returns A[i]-B[i] for every pair.
func (p *Pairs) Diffs() Sample {
	d := make(Sample, len(p.A))
	for i := range p.A {
		d[i] = p.A[i] - p.B[i]
	}
	return d
}

// RatioOfMedians returns median(A)/median(B).
func (p *Pairs) RatioOfMedians() float64 {
	return float64(p.A.Median()) / float64(max(p.B.Median(), 1))
}

// RatioText is "X× per pair (p90 Y×; ratio of medians Z×)".
func (p *Pairs) RatioText() string {
	r := p.Ratios()
	return fmt.Sprintf("%s per pair (p90 %s; ratio of medians %s)", Times(MedianF(r)), Times(PctF(r, 90)), Times(p.RatioOfMedians()))
}
