package termtext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

func TestCleanMakesControlsVisible(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain ascii", "plain ascii"},
		{"", ""},
		{"héllo ✓ 日本", "héllo ✓ 日本"},
		{"\x1b]52;c;aGVsbG8=\a\x1b[2J\x1b[6n", `\x1b]52;c;aGVsbG8=\x07\x1b[2J\x1b[6n`},
		{"\x1b]0;title\a", `\x1b]0;title\x07`},
		{"raw 8-bit CSI \x9b2J", `raw 8-bit CSI \x9b2J`},
		{"UTF-8 CSI \u009b2J and OSC \u009d0;x\u009c", `UTF-8 CSI \u009b2J and OSC \u009d0;x\u009c`},
		{"del\x7f nul\x00 bs\x08", `del\x7f nul\x00 bs\x08`},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"cut \xe2\x9c", `cut \xe2\x9c`},
		{"rl\u202eoverride\u202c", `rl\u202eoverride\u202c`},
		{"isolate\u2066x\u2069", `isolate\u2066x\u2069`},
	} {
		got := Clean(tc.in, 0)
		if got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
		assertSafe(t, got)
	}
}

func TestCleanTruncatesByDisplayWidth(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"日本語のテキスト", 7, "日本語…"}, // two cells per character
		{"\x1b[2Jabc", 6, `\x1b[…`},
	} {
		got := Clean(tc.in, tc.width)
		if got != tc.want {
			t.Errorf("Clean(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
		if w := ansi.StringWidth(got); w > tc.width {
			t.Errorf("Clean(%q, %d) is %d cells wide", tc.in, tc.width, w)
		}
	}
}

// Every byte value and every rune up to U+3000, alone and in company,
// comes out as valid UTF-8 with no control in it.
func TestCleanNeverLetsAControlThrough(t *testing.T) {
	for b := 0; b < 256; b++ {
		assertSafe(t, Clean(string([]byte{byte(b)}), 0))
		assertSafe(t, Clean("x"+string([]byte{byte(b)})+"y", 3))
	}
	for r := rune(0); r < 0x3000; r++ {
		assertSafe(t, Clean(string(r), 0))
	}
}

func FuzzClean(f *testing.F) {
	f.Add("\x1b]52;c;x\a\x9b2J", 10)
	f.Add("日本\u202e", 0)
	f.Fuzz(func(t *testing.T, s string, w int) {
		w %= 300
		got := Clean(s, w)
		assertSafe(t, got)
		if w > 0 && ansi.StringWidth(got) > w {
			t.Fatalf("Clean(%q, %d) is %d cells", s, w, ansi.StringWidth(got))
		}
	})
}

func assertSafe(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("not valid UTF-8: %q", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || isC1(r) || isBidi(r) {
			t.Fatalf("control %U left in %q", r, s)
		}
	}
}

func TestJSONKeepsMeaningAndDropsRawControls(t *testing.T) {
	in := map[string]string{"reason": "del\x7f c1\u009b2J \u009d0;t\u009c rlo\u202e ok ✓"}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	safe := JSON(raw)
	for _, r := range string(safe) {
		if r < 0x20 || r == 0x7f || isC1(r) || isBidi(r) {
			t.Fatalf("control %U left in %s", r, safe)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(safe, &back); err != nil {
		t.Fatal(err)
	}
	if back["reason"] != in["reason"] {
		t.Fatalf("decoded %q, want %q", back["reason"], in["reason"])
	}
	if !strings.Contains(string(safe), `\u009b`) {
		t.Fatalf("C1 CSI not escaped: %s", safe)
	}
}
