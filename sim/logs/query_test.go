package logs

import (
	"strings"
	"testing"
	"time"
)

func testEvents() []event {
	t0 := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	mk := func(s int, stream, msg string) event {
		return event{at: t0.Add(time.Duration(s) * time.Second), group: "/g", stream: stream, msg: msg}
	}
	return []event{
		mk(1, "2026/11/26/[7]aa", "ERROR timeout after 300ms"),
		mk(2, "2026/11/26/[8]bb", "ERROR timeout after 900ms"),
		mk(3, "2026/11/26/[8]bb", "INFO fine"),
		mk(4, "2026/11/26/[8]bb", "ERROR NullPointerException in cart 12"),
	}
}

func mustRun(t *testing.T, q string) []row {
	t.Helper()
	p, err := ParseQuery(q)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", q, err)
	}
	rows, _ := p.run(testEvents())
	return rows
}

func TestQueryCommands(t *testing.T) {
	rows := mustRun(t, `fields @timestamp, @message | filter @logStream like /\[8\]/ and @message like "ERROR" | sort @timestamp asc`)
	if len(rows) != 2 || rows[0].vals["@message"] != "ERROR timeout after 900ms" || strings.Join(rows[0].names, ",") != "@timestamp,@message" {
		t.Fatalf("fields/filter/sort: %+v", rows)
	}
	rows = mustRun(t, `filter @message like /(?i)error/ | parse @logStream /\[(?<version>\d+)\]/ | stats count(*) as n by version | sort n desc`)
	if len(rows) != 2 || rows[0].vals["version"] != "8" || rows[0].vals["n"] != "2" || rows[1].vals["n"] != "1" {
		t.Fatalf("parse/stats: %+v", rows)
	}
	rows = mustRun(t, `filter not @message like "INFO" | pattern @message # a comment | not a command`)
	if len(rows) != 2 || rows[0].vals["@pattern"] != "ERROR timeout after <*>" || rows[0].vals["@sampleCount"] != "2" {
		t.Fatalf("pattern: %+v", rows)
	}
	rows = mustRun(t, `parse @message "ERROR * after *" as what, took | filter what = "timeout" | display took | limit 1`)
	if len(rows) != 1 || rows[0].vals["took"] != "900ms" || len(rows[0].names) != 1 {
		t.Fatalf("glob parse/display/limit: %+v", rows)
	}
}

func TestParseQueryRefuses(t *testing.T) {
	for _, q := range []string{"", "frobnicate", "filter", "filter @message like", "limit 0", "limit 10001",
		"stats avg(x)", "sort a b", `parse @message "no star" as a`, `filter (@message like "a"`, "fields a |  | limit 1",
		`filter @message like /unterminated`, strings.Repeat("(", 100) + `a="b"` + strings.Repeat(")", 100)} {
		if _, err := ParseQuery(q); err == nil {
			t.Errorf("ParseQuery(%q) accepted", q)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		`fields @timestamp, @message | filter @message like /(?i)(error|exception|panic|timeout|retry)/ | sort @timestamp desc | limit 10000`,
		`filter @logStream like /\[8\]/ | pattern @message`,
		`parse @message "* *" as a, b | stats count(*) as n by a`,
		`filter not (a = "x" or b != 'y') and c =~ /z/`,
		"# only a comment", `fields a as b | display b`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			return
		}
		rows, st := q.run(testEvents())
		if len(rows) > MaxLimit || st.recordsScanned != float64(len(testEvents())) {
			t.Fatalf("%q: %d rows, %v scanned", s, len(rows), st.recordsScanned)
		}
	})
}
