package audit

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/perch-dev/perch/model"
)

const (
	ruleA = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/1/2/aaa"
	ruleB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/1/2/bbb"
)

// incidentLog writes a small incident to a real log: two steps by ana
// over SSH, bob's stale step refused, a drift, the autopilot's rollback
// with the judge's evidence, a pause, an intent cut short by a crash, and
// one entry on another target.
func incidentLog(t *testing.T) (string, []model.AuditEntry) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openT(t, path)
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	ana := model.Actor{ARN: "arn:aws:sts::123456789012:assumed-role/Deployer/ana", OSUser: "ana", Via: "ssh:ana SHA256:abc"}
	bob := model.Actor{OSUser: "bob", Via: "cockpit"}
	auto := model.Actor{OSUser: "ana", Via: "autopilot"}
	app := func(e model.AuditEntry) model.AuditEntry {
		t.Helper()
		if e.Target == "" {
			e.Target = ruleA
		}
		w, err := l.Append(e)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	step := func(min int, who model.Actor, action string, from, to float64, reason string, out model.Outcome, detail string) {
		in := app(model.AuditEntry{Time: at.Add(time.Duration(min) * time.Minute), Actor: who, Action: action,
			Phase: model.PhaseIntent, From: model.Pct(from), To: model.Pct(to), Reason: reason})
		app(model.AuditEntry{Time: at.Add(time.Duration(min)*time.Minute + 2*time.Second), Actor: who, Action: action,
			Phase: model.PhaseOutcome, Outcome: out, Verified: out == model.OutcomeOK, From: model.Pct(from), To: model.Pct(to),
			IntentSeq: in.Seq, Reason: reason, Detail: detail})
	}
	step(0, ana, "shift", 0, 5, "start v2.14", model.OutcomeOK, "")
	step(10, ana, "shift", 5, 25, "", model.OutcomeOK, "")
	app(model.AuditEntry{Time: at.Add(11 * time.Minute), Actor: bob, Action: "shift", Phase: model.PhaseOutcome,
		Outcome: model.OutcomeRefused, From: model.Pct(25), Detail: "split changed since you looked | you saw 5%"})
	app(model.AuditEntry{Time: at.Add(12 * time.Minute), Actor: model.Actor{Via: "observed"}, Action: "drift",
		Phase: model.PhaseEvent, From: model.Pct(25), To: model.Pct(30), Detail: "split changed outside perch"})
	step(14, auto, "rollback", 30, 0, "FAIL errors_5xx (e=142.0 ≥ 100)", model.OutcomeOK, "")
	app(model.AuditEntry{Time: at.Add(15 * time.Minute), Actor: ana, Action: "pause", Phase: model.PhaseEvent,
		Detail: "autopilot paused (plan 5%:10m,25%:10m,100%)"})
	app(model.AuditEntry{Time: at.Add(20 * time.Minute), Target: ruleB, Actor: bob, Action: "shift", Phase: model.PhaseIntent,
		From: model.Pct(0), To: model.Pct(1)})
	app(model.AuditEntry{Time: at.Add(21 * time.Minute), Actor: ana, Action: "promote", Phase: model.PhaseIntent,
		From: model.Pct(0), To: model.Pct(100), Reason: "multi\nline"})
	l.Close()
	entries, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, entries
}

func TestTimelineFoldsIntentsAndOutcomes(t *testing.T) {
	_, entries := incidentLog(t)
	rows := Timeline(entries, ExportFilter{Target: ruleA})
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join([]string{r.Time.Format("15:04:05"), r.Action, percents(r.From, r.To), r.Outcome, r.Via}, " | "))
	}
	want := []string{
		"09:00:00 | shift | 0% → 5% | ok | ssh:ana SHA256:abc",
		"09:10:00 | shift | 5% → 25% | ok | ssh:ana SHA256:abc",
		"09:11:00 | shift | at 25% | refused | cockpit",
		"09:12:00 | drift | 25% → 30% | event | observed",
		"09:14:00 | rollback | 30% → 0% | ok | autopilot",
		"09:15:00 | pause |  | event | ssh:ana SHA256:abc",
		"09:21:00 | promote | 0% → 100% | no outcome | ssh:ana SHA256:abc",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := rows[0]; len(r.Seqs) != 2 || r.Done == nil || !r.Verified || r.Reason != "start v2.14" {
		t.Errorf("first row: %+v", r)
	}
	if n := len(Timeline(entries, ExportFilter{})); n != 8 {
		t.Errorf("all targets: %d rows, want 8", n)
	}
	since := Timeline(entries, ExportFilter{Target: ruleA, Since: time.Date(2026, 11, 26, 9, 12, 0, 0, time.UTC)})
	if len(since) != 4 || since[0].Action != "drift" {
		t.Errorf("since 09:12: %+v", since)
	}
}

func TestMarkdownTimeline(t *testing.T) {
	path, entries := incidentLog(t)
	rows := Timeline(entries, ExportFilter{Target: ruleA})
	var b bytes.Buffer
	meta := ExportMeta{Log: path, Entries: len(entries), Verified: true}
	if err := WriteMarkdown(&b, meta, rows); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(b.String(), path, "LOG")
	want := "## perch audit timeline\n\n" +
		"- Log: `LOG`, 11 entries; hash chain verified\n" +
		"- Target: `" + ruleA + "`\n" +
		"- Window: 2026-11-26 09:00:00 to 2026-11-26 09:21:00 UTC\n" +
		"- Canary: 0% → 5% → 25% → 30% → 0%\n" +
		"- 3 actions (0 failed), 1 refused, 2 events, **1 without an outcome**\n\n" +
		"| Time (UTC) | Who | Action | Canary | Outcome | Reason / detail |\n" +
		"|---|---|---|---|---|---|\n" +
		"| 2026-11-26 09:00:00 | ana (arn:aws:sts::123456789012:assumed-role/Deployer/ana) via ssh:ana SHA256:abc | shift | 0% → 5% | ✓ ok, verified | “start v2.14” |\n" +
		"| 2026-11-26 09:10:00 | ana (arn:aws:sts::123456789012:assumed-role/Deployer/ana) via ssh:ana SHA256:abc | shift | 5% → 25% | ✓ ok, verified |  |\n" +
		"| 2026-11-26 09:11:00 | bob via cockpit | shift | at 25% | refused | split changed since you looked \\| you saw 5% |\n" +
		"| 2026-11-26 09:12:00 | ? via observed | drift | 25% → 30% | event | split changed outside perch |\n" +
		"| 2026-11-26 09:14:00 | ana via autopilot | rollback | 30% → 0% | ✓ ok, verified | “FAIL errors_5xx (e=142.0 ≥ 100)” |\n" +
		"| 2026-11-26 09:15:00 | ana (arn:aws:sts::123456789012:assumed-role/Deployer/ana) via ssh:ana SHA256:abc | pause |  | event | autopilot paused (plan 5%:10m,25%:10m,100%) |\n" +
		"| 2026-11-26 09:21:00 | ana (arn:aws:sts::123456789012:assumed-role/Deployer/ana) via ssh:ana SHA256:abc | promote | 0% → 100% | ⚠ no outcome recorded | “multi line” |\n"
	if got != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", got, want)
	}
	// Every table row has the same number of cells as the header.
	for _, line := range strings.Split(got, "\n") {
		if strings.HasPrefix(line, "|") {
			if n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); n != 7 {
				t.Errorf("%d separators in %q", n, line)
			}
		}
	}

	b.Reset()
	meta.Verified, meta.VerifyError = false, "entry 3 (line 3): hash mismatch"
	if err := WriteMarkdown(&b, meta, Timeline(entries, ExportFilter{})); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "**hash chain NOT verified: entry 3 (line 3): hash mismatch**") ||
		!strings.Contains(out, "| Time (UTC) | Target | Who |") || !strings.Contains(out, "| listener-rule/app/shop/1/2/bbb |") ||
		strings.Contains(out, "- Canary:") {
		t.Errorf("two targets, broken chain:\n%s", out)
	}
	b.Reset()
	if err := WriteMarkdown(&b, meta, nil); err != nil || !strings.Contains(b.String(), "_No entries match._") {
		t.Errorf("empty timeline: %v\n%s", err, b.String())
	}
}

func TestJSONTimeline(t *testing.T) {
	path, entries := incidentLog(t)
	var b bytes.Buffer
	if err := WriteJSON(&b, ExportMeta{Log: path, Entries: len(entries), Verified: true}, Timeline(entries, ExportFilter{Target: ruleA})); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Log      string `json:"log"`
		Verified bool   `json:"chain_verified"`
		Timeline []Row  `json:"timeline"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Log != path || !doc.Verified || len(doc.Timeline) != 7 || doc.Timeline[4].Reason != "FAIL errors_5xx (e=142.0 ≥ 100)" {
		t.Errorf("json: %+v", doc)
	}
	b.Reset()
	if err := WriteJSON(&b, ExportMeta{}, nil); err != nil || !strings.Contains(b.String(), `"timeline": []`) {
		t.Errorf("empty json: %v %s", err, b.String())
	}
}

// A reason typed with --reason, an actor from an SSH login and a detail
// quoting AWS are the writer's text: the exported timeline shows their
// control sequences as escapes, never as controls, and the JSON still
// decodes to exactly what the log holds.
func TestExportShowsControlSequencesAsText(t *testing.T) {
	const hostile = "\x1b]52;c;cGVyY2g=\a\x1b[2J\x1b[6n\x1b]0;pwned\a\x9b2J\u009b6n\x7f"
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openT(t, path)
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	who := model.Actor{ARN: "arn:aws:iam::1:user/" + hostile, OSUser: "ana" + hostile, Via: "ssh:" + hostile}
	for _, tgt := range []string{ruleA + hostile, ruleB} {
		if _, err := l.Append(model.AuditEntry{Time: at, Target: tgt, Actor: who, Action: "shift" + hostile, Phase: model.PhaseEvent,
			Reason: "because" + hostile, Detail: "AWS said" + hostile}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	entries, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	meta := ExportMeta{Log: path + hostile, Entries: 2, VerifyError: "entry 1" + hostile, Filter: "target " + hostile}
	for _, single := range []bool{true, false} {
		rows := Timeline(entries, ExportFilter{})
		if single {
			rows = Timeline(entries, ExportFilter{Target: entries[0].Target})
		}
		var md bytes.Buffer
		if err := WriteMarkdown(&md, meta, rows); err != nil {
			t.Fatal(err)
		}
		assertPrintable(t, "markdown", md.String())
		if !strings.Contains(md.String(), `because\x1b]52;c;`) {
			t.Errorf("markdown does not show the reason's escape:\n%s", md.String())
		}
		var js bytes.Buffer
		if err := WriteJSON(&js, meta, rows); err != nil {
			t.Fatal(err)
		}
		assertPrintable(t, "json", js.String())
		var doc struct {
			Timeline []Row `json:"timeline"`
		}
		if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Timeline[0].Reason != "because"+strings.ToValidUTF8(hostile, "\uFFFD") {
			t.Errorf("json reason decodes to %q", doc.Timeline[0].Reason)
		}
	}
}

// assertPrintable fails on any byte or rune a terminal acts on.
func assertPrintable(t *testing.T, what, s string) {
	t.Helper()
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f {
			t.Fatalf("%s: %q at byte %d: …%q…", what, s[i:i+size], i, s[max(0, i-30):min(len(s), i+30)])
		}
		i += size
	}
}
