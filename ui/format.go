package ui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/perch-dev/perch/internal/termtext"
	"github.com/perch-dev/perch/model"
)

// shortARN keeps the part of an ARN a person recognises: the role and
// session for an assumed role, the user name for a user.
// arn:aws:sts::123456789012:assumed-role/Deployer/alice -> Deployer/alice.
func shortARN(arn string) string {
	if !strings.HasPrefix(arn, "arn:") {
		return arn
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return arn
	}
	res := parts[5]
	for _, p := range []string{"assumed-role/", "user/", "role/", "federated-user/"} {
		if strings.HasPrefix(res, p) {
			return strings.TrimPrefix(res, p)
		}
	}
	if res == "root" {
		return "root@" + parts[4]
	}
	return res
}

// hms prints a clock time in UTC.
func hms(t time.Time) string { return t.UTC().Format("15:04:05") }

// age prints a duration the way a glance reads it: 3s, 4m10s, 2h05m.
func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// pct is model.FormatPercent, named short for the many call sites.
func pct(p float64) string { return model.FormatPercent(p) }

// trunc cuts a (possibly styled) line to w cells, marking the cut.
func trunc(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// fit truncates every line of s to w cells.
func fit(s string, w int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = trunc(l, w)
	}
	return strings.Join(lines, "\n")
}

// firstLine keeps the first line of an error message: AWS errors can carry
// request IDs and stack-like detail over several lines.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// shorten cuts text to n cells (its first line, when it has several),
// making any control in it visible.
func shorten(s string, n int) string {
	return termtext.Clean(firstLine(s), max(n, 1))
}

// Widths that one name from outside perch may take on a line, so a long
// one cannot push the clock, the split or the rest of a line off screen.
const (
	nameWidth  = 48
	shortWidth = 24
)

// padLines makes s exactly h lines tall (cutting or padding with blanks).
func padLines(s string, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// joinFit joins segments with sep, dropping trailing segments that do not
// fit in w cells rather than cutting one in half.
func joinFit(segs []string, sep string, w int) string {
	var b strings.Builder
	used := 0
	sw := lipgloss.Width(sep)
	for i, s := range segs {
		sWidth := lipgloss.Width(s)
		extra := sWidth
		if i > 0 {
			extra += sw
		}
		if used+extra > w {
			if i == 0 {
				return trunc(s, w)
			}
			break
		}
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
		used += extra
	}
	return b.String()
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten, so axis labels
// read as round numbers.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	exp := math.Floor(math.Log10(v))
	base := math.Pow(10, exp)
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*base >= v*(1-1e-9) {
			return m * base
		}
	}
	return 10 * base
}

// num prints a value compactly for labels: 0.5, 12, 1.2k, 3.4M.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return trimZero(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case a >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case a >= 1e3:
		return trimZero(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case a >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return trimZero(fmt.Sprintf("%.1f", v))
	default:
		return trimZero(fmt.Sprintf("%.2f", v))
	}
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// visibleWidth is the width in cells of a possibly styled string.
func visibleWidth(s string) int { return ansi.StringWidth(s) }
