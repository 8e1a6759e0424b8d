package model

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeLine(t *testing.T) {
	cases := map[string]string{
		`ERROR OrderService: timeout after 3000ms calling "inventory" (req 7f3a2b1c-0d4e-4f5a-8b6c-1d2e3f4a5b6c)`: `ERROR OrderService: timeout after <id> calling <str> (req <uuid>)`,
		`java.lang.NullPointerException at com.shop.Cart.total(Cart.java:142)`:                                    `java.lang.NullPointerException at com.shop.Cart.total(Cart.java:<num>)`,
		`WARN retry 2/5 for 10.0.3.17 key='abc'`:                                                                  `WARN retry <num>/<num> for <num> key=<str>`,
		`panic: runtime error: index out of range [5] with length 3 goroutine 0xc000123abc`:                       `panic: runtime error: index out of range [<num>] with length <num> goroutine <hex>`,
		"ERROR   deadbeef0cafe\tshard i-0abc12":                                                                   `ERROR <hex> shard <id>`,
	}
	for in, want := range cases {
		if got := NormalizeLine(in); got != want {
			t.Errorf("NormalizeLine(%q)\n got %q\nwant %q", in, got, want)
		}
		if again := NormalizeLine(want); again != want {
			t.Errorf("not idempotent: %q -> %q", want, again)
		}
	}
}

func TestGroupLinesCountsAndSamples(t *testing.T) {
	lines := []string{
		"ERROR payment declined for order 1001",
		"ERROR payment declined for order 1002",
		"WARN retry 1 of 3",
		"ERROR payment declined for order 1003",
	}
	got := GroupLines(lines)
	if len(got) != 2 || got[0].Count != 3 || got[0].Sample != lines[0] || got[1].Pattern != "WARN retry <num> of <num>" {
		t.Fatalf("GroupLines = %+v", got)
	}
	merged := MergePatterns(got, GroupLines(lines[2:3]))
	if merged[1].Count != 2 {
		t.Fatalf("MergePatterns = %+v", merged)
	}
}

// The canary at 10% of 10,000 requests logs a pattern stable never does:
// NEW. Stable's usual pattern, logged at the same rate per request on both
// sides, is not; nor is one the canary logs somewhat more often.
func TestComparePatternsMarksNewPerRequest(t *testing.T) {
	sides := [2][]LogPattern{
		Stable: {{Pattern: "ERROR usual <num>", Count: 90}, {Pattern: "WARN retry <num>", Count: 45}},
		Canary: {{Pattern: "ERROR usual <num>", Count: 10}, {Pattern: "WARN retry <num>", Count: 8}, {Pattern: "ERROR NewThing", Count: 8, Sample: "ERROR NewThing x"}},
	}
	rows := ComparePatterns(sides, [2]float64{Stable: 9000, Canary: 1000}, NewPatternRule{})
	if !rows[0].New || rows[0].Pattern != "ERROR NewThing" || rows[0].Counts != [2]int{0, 8} || rows[0].Sample != "ERROR NewThing x" {
		t.Fatalf("first row %+v, want ERROR NewThing marked NEW", rows[0])
	}
	for _, r := range rows[1:] {
		if r.New {
			t.Errorf("%q marked NEW (counts %v, p %.3g)", r.Pattern, r.Counts, r.P)
		}
	}
	// Too few to tell: two lines at a 10% share could be chance.
	sides[Canary][2].Count = 2
	if rows := ComparePatterns(sides, [2]float64{9000, 1000}, NewPatternRule{}); rows[0].New {
		t.Errorf("2 lines marked NEW: %+v", rows[0])
	}
	// The same 8 lines at a 50% canary share are not enough either: stable
	// would be expected to log as many.
	sides[Canary][2].Count = 8
	if rows := ComparePatterns(sides, [2]float64{5000, 5000}, NewPatternRule{}); rows[0].New {
		t.Errorf("8 lines at 50%% marked NEW: %+v", rows[0])
	}
}

// A healthy canary (same per-request rates) gets no NEW marks in 200
// seeded windows: the rule's false-mark rate is within its alpha.
func TestComparePatternsHealthyFalseMarks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	marked := 0
	for range 200 {
		var sides [2][]LogPattern
		for i, rate := range []float64{0.01, 0.002, 0.0005} {
			for _, side := range Sides {
				n := 9000
				if side == Canary {
					n = 1000
				}
				k := 0
				for range n {
					if r.Float64() < rate {
						k++
					}
				}
				if k > 0 {
					sides[side] = append(sides[side], LogPattern{Pattern: fmt.Sprint("p", i), Count: k})
				}
			}
		}
		for _, row := range ComparePatterns(sides, [2]float64{9000, 1000}, NewPatternRule{}) {
			if row.New {
				marked++
			}
		}
	}
	if marked > 4 {
		t.Fatalf("%d of 200 healthy windows had a NEW mark", marked)
	}
}

func TestBinomialUpperTail(t *testing.T) {
	if got := BinomialUpperTail(10, 10, 0.5); got < 0.000976 || got > 0.000977 {
		t.Fatalf("P(X>=10 | 10, .5) = %v", got)
	}
	if got := BinomialUpperTail(10, 0, 0.5); got != 1 {
		t.Fatalf("P(X>=0) = %v", got)
	}
	if got := BinomialUpperTail(4, 2, 0.5); got < 0.6874 || got > 0.6876 {
		t.Fatalf("P(X>=2 | 4, .5) = %v", got)
	}
}

func FuzzNormalizeLine(f *testing.F) {
	for _, s := range []string{"", "ERROR x 12", `"a" 'b`, "<num> <str>", "0xdeadbeef", "\xff\xfe 1", strings.Repeat("1 ", 600), "a\n \tb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p := NormalizeLine(line)
		if !utf8.ValidString(p) {
			t.Fatalf("invalid UTF-8 pattern %q", p)
		}
		if len(p) > MaxPatternLine {
			t.Fatalf("pattern of %d bytes", len(p))
		}
		if q := NormalizeLine(p); q != p {
			t.Fatalf("not idempotent: %q -> %q -> %q", line, p, q)
		}
	})
}

// benchLines are 100,000 error-like lines from a dozen templates with
// varying ids, numbers and quoted strings, as a busy service logs them.
func benchLines() []string {
	r := rand.New(rand.NewPCG(7, 7))
	templates := []string{
		`ERROR OrderService: timeout after %dms calling "inventory-%d" (req %08x-0d4e-4f5a-8b6c-1d2e3f4a5b6c)`,
		`WARN retry %d/5 for 10.0.%d.17 after %dms`,
		`java.lang.IllegalStateException: cart %d has no owner at com.shop.Cart.total(Cart.java:%d)`,
		`panic: runtime error: index out of range [%d] with length %d`,
		`ERROR payment declined code=%d order=ord-%d user='u%d'`,
	}
	lines := make([]string, 100_000)
	for i := range lines {
		tpl := templates[r.IntN(len(templates))]
		lines[i] = fmt.Sprintf(tpl, r.IntN(5000), r.IntN(300), r.IntN(1<<30))
	}
	return lines
}

func BenchmarkGroupLines100k(b *testing.B) {
	lines := benchLines()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if got := GroupLines(lines); len(got) != 5 {
			b.Fatalf("%d patterns, want 5", len(got))
		}
	}
}
