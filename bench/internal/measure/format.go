package measure

import (
	"fmt"
	"strconv"
	"time"
)

// Ms formats a duration in milliseconds with a precision that suits its size.
func Ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 0 && v > -10, v >= 0 && v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 1000 && v > -1000:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

// Times formats a ratio: "1.23×".
func Times(r float64) string { return fmt.Sprintf("%.2f×", r) }

// Plural formats "1 pair", "2 pairs".
func Plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
