package model

import (
	"fmt"
	"math"
	"time"
)

// formatMs prints a latency: 180 ms, 1.2 s.
func formatMs(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.3g s", ms/1000)
	}
	return fmt.Sprintf("%.3g ms", ms)
}

// formatCount prints a request count for the screen: 840, 12.3k, 4.1M.
func formatCount(n float64) string {
	switch {
	case math.IsInf(n, 1):
		return "∞"
	case n >= 1e9:
		return fmt.Sprintf("%.1fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", n/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", math.Ceil(n))
}

// formatETA prints a duration roughly: 40s, 12m, 3h20m, 9d.
func formatETA(d time.Duration) string {
	switch {
	case d < 0:
		return "never at the current traffic"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()+0.5))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()+0.5))
	case d < 48*time.Hour:
		h := int(d.Hours())
		return fmt.Sprintf("%dh%02dm", h, int(d.Minutes())-60*h)
	case d < 2*365*24*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24+0.5))
	}
	return "years"
}

// formatE prints an e-value: 0.31, 12, 4.2e+05.
func formatE(e float64) string {
	if e >= 1e4 {
		return fmt.Sprintf("%.1e", e)
	}
	if e >= 10 {
		return fmt.Sprintf("%.0f", e)
	}
	return fmt.Sprintf("%.2g", e)
}
