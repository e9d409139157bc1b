package main

import (
	"fmt"
	"slices"
	"time"
)

// sample is a series of measurements of one quantity, in the order they were taken (the same
// helpers as bench/stats.go).
type sample []time.Duration

// median returns the middle value (the mean of the two middle ones for an even count).
func (s sample) median() time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// pct returns the p-th percentile (0 < p ≤ 100) by the nearest-rank method.
func (s sample) pct(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	rank := int(p/100*float64(len(c))+0.999999) - 1
	return c[max(0, min(rank, len(c)-1))]
}

// medP90 formats "median (p90 …)".
func (s sample) medP90() string {
	return fmt.Sprintf("%s (p90 %s)", ms(s.median()), ms(s.pct(90)))
}

// pairs holds paired measurements: a[i] and b[i] were taken back to back.
type pairs struct{ a, b sample }

func (p *pairs) add(a, b time.Duration) {
	p.a = append(p.a, a)
	p.b = append(p.b, b)
}

// ratios returns a[i]/b[i] for every pair.
func (p *pairs) ratios() []float64 {
	r := make([]float64, len(p.a))
	for i := range p.a {
		r[i] = float64(p.a[i]) / float64(max(p.b[i], 1))
	}
	return r
}

// diffs returns a[i]-b[i] for every pair.
func (p *pairs) diffs() sample {
	d := make(sample, len(p.a))
	for i := range p.a {
		d[i] = p.a[i] - p.b[i]
	}
	return d
}

// ratioOfMedians returns median(a)/median(b).
func (p *pairs) ratioOfMedians() float64 {
	return float64(p.a.median()) / float64(max(p.b.median(), 1))
}

// ratioText is "X× per pair (p90 Y×; ratio of medians Z×)".
func (p *pairs) ratioText() string {
	r := p.ratios()
	return fmt.Sprintf("%s per pair (p90 %s; ratio of medians %s)", times(medianF(r)), times(pctF(r, 90)), times(p.ratioOfMedians()))
}

func medianF(xs []float64) float64 {
	c := slices.Clone(xs)
	slices.Sort(c)
	if len(c) == 0 {
		return 0
	}
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func pctF(xs []float64, p float64) float64 {
	c := slices.Clone(xs)
	slices.Sort(c)
	if len(c) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(c))+0.999999) - 1
	return c[max(0, min(rank, len(c)-1))]
}

// ms formats a duration in milliseconds with a precision that suits its size.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 0 && v > -10, v >= 0 && v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 1000 && v > -1000:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

// times formats a ratio.
func times(r float64) string { return fmt.Sprintf("%.2f×", r) }

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
