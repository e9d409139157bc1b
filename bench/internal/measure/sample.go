package measure

import (
	"fmt"
	"slices"
	"time"
)

// Sample is a series of measurements of one quantity, in the order they were taken.
type Sample []time.Duration

// Median returns the middle value (the mean of the two middle ones for an even count).
func (s Sample) Median() time.Duration {
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

// Pct returns the p-th percentile (0 < p ≤ 100) by the nearest-rank method.
func (s Sample) Pct(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	rank := int(p/100*float64(len(c))+0.999999) - 1
	return c[max(0, min(rank, len(c)-1))]
}

// Max returns the largest value.
func (s Sample) Max() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return slices.Max(s)
}

// MedP90 formats "median (p90 …)".
func (s Sample) MedP90() string {
	return fmt.Sprintf("%s (p90 %s)", Ms(s.Median()), Ms(s.Pct(90)))
}

// MedianF is Median of plain numbers (ratios, page faults).
func MedianF(xs []float64) float64 {
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

// PctF is Pct of plain numbers.
func PctF(xs []float64, p float64) float64 {
	c := slices.Clone(xs)
	slices.Sort(c)
	if len(c) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(c))+0.999999) - 1
	return c[max(0, min(rank, len(c)-1))]
}
