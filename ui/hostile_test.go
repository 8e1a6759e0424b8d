package ui

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/perch-dev/perch/model"
)

// hostile is what an attacker writes into every string perch shows: an
// OSC 52 clipboard write, a screen clear and a cursor query, a title
// change, and the same clear and query as 8-bit CSI, both raw and as
// UTF-8.
const hostile = "\x1b]52;c;cGVyY2g=\a\x1b[2J\x1b[6n\x1b]0;pwned\a\x9b2J\u009b6n"

func evil(tag string) string { return tag + hostile }

// hostileSnapshot carries control sequences in every field that reaches
// the screen from AWS (names, alarm names and reasons, CodeDeploy
// messages, errors), from the audit log (reasons, actors, details) and, in
// a replay, from the recording.
func hostileSnapshot(kind model.TargetKind) model.Snapshot {
	s := errorSpikeSnapshot()
	s.Target = model.Target{Kind: kind, Name: evil("target"), Region: evil("region"),
		StableName: evil("stable-tg"), CanaryName: evil("canary-tg"), Function: evil("fn"), Alias: evil("alias")}
	s.Identity.ARN = "arn:aws:sts::123456789012:assumed-role/Deployer/" + evil("session")
	s.Split.StableID, s.Split.CanaryID = evil("1"), evil("2")
	s.SplitErr, s.MetricsErr, s.AlarmsErr, s.HealthErr = evil("split-err"), evil("metrics-err"), evil("alarms-err"), evil("health-err")
	s.Alarms = []model.Alarm{
		{Name: evil("alarm"), State: model.AlarmAlarm, Reason: evil("reason")},
		{Name: evil("ok-alarm"), State: model.AlarmOK},
		{Name: evil("odd-state"), State: model.AlarmState(evil("state"))},
	}
	s.Verdict.Summary = evil("verdict")
	s.Autopilot.Decision.Reason = evil("decision")
	actor := model.Actor{ARN: "arn:aws:iam::1:user/" + evil("arn"), OSUser: evil("osuser"), Via: evil("via")}
	for i := range s.Audit {
		s.Audit[i].Actor = actor
		s.Audit[i].Reason = evil("audit-reason")
		s.Audit[i].Detail = evil("detail")
		s.Audit[i].Action = evil("action")
	}
	s.Last = &model.Result{Intent: model.Intent{Kind: model.Rollback, Reason: evil("intent")}, Outcome: model.OutcomeFailed,
		Err: evil("last-err"), Warnings: []string{evil("warning")}, From: s.Split, To: s.Split}
	if kind == model.KindCodeDeploy {
		s.Target.DeploymentID = evil("d-")
		s.Target.ComputePlatform = "ECS"
		s.Deployment = &model.DeploymentStatus{ID: evil("d-"), Status: evil("status"), Config: evil("config"),
			Step: evil("step"), Description: evil("description"), Creator: evil("creator"), ReadErr: evil("read-err"),
			Waiting: model.WaitReady, NextShiftAt: fixNow.Add(time.Minute), NextShiftTo: 20,
			Hooks:    []model.LifecycleHook{{Name: evil("hook"), Status: "Failed"}, {Name: evil("hook2"), Status: "InProgress"}},
			Error:    &model.DeploymentError{Code: evil("code"), Message: evil("error-message")},
			Rollback: &model.DeploymentRollback{DeploymentID: evil("rb"), Message: evil("rollback-message")},
			Alarms:   []string{evil("group-alarm")}, RollbackEvents: []string{evil("event")}}
	}
	return s
}

// assertNoControls fails if the raw frame holds any byte or rune a
// terminal would act on: the renderer is ASCII, so perch's own styling
// adds no escape sequences and every ESC would have come from the data.
func assertNoControls(t *testing.T, what, frame string) {
	t.Helper()
	for i := 0; i < len(frame); {
		r, size := utf8.DecodeRuneInString(frame[i:])
		bad := r == utf8.RuneError && size == 1 || // a raw byte such as 0x9b, 8-bit CSI
			r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f
		if bad {
			t.Errorf("%s: %q at byte %d reaches the terminal: …%q…", what, frame[i:i+size], i, frame[max(0, i-40):min(len(frame), i+40)])
			return
		}
		i += size
	}
	if !strings.Contains(frame, `\x1b`) {
		t.Errorf("%s: no hostile field shows up escaped (is the data on screen at all?)\n%s", what, frame)
	}
}

func TestHostileTextNeverReachesTheTerminal(t *testing.T) {
	for _, kind := range []model.TargetKind{model.KindALB, model.KindLambda, model.KindCodeDeploy} {
		t.Run(string(kind), func(t *testing.T) {
			pairing := newFakePairing(PairState{Me: evil("me"), Driving: true, Driver: evil("me"),
				Watchers: []string{evil("watcher")}, Asker: evil("asker"), PassesAt: fixNow.Add(time.Minute)})
			m, _ := newTestModel(hostileSnapshot(kind), Options{Title: evil("recording-title"),
				Actor: model.Actor{OSUser: evil("me"), ARN: "arn:aws:iam::1:user/" + evil("me")}, Pairing: pairing})
			for _, size := range [][2]int{{200, 50}, {80, 24}, {120, 60}} {
				m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				assertNoControls(t, "cockpit", m.View())
			}
			m.Update(keyMsg("?"))
			assertNoControls(t, "full help", m.View())
			m.Update(keyMsg("?"))

			m.Update(keyMsg("r"))
			assertNoControls(t, "after r", m.View())
			m.Update(keyMsg("esc"))

			res := model.Result{Intent: model.Intent{Kind: model.StepUp}, Outcome: model.OutcomeRefused,
				Err: evil("refused"), Warnings: []string{evil("warn")}}
			m.Update(resultMsg{res})
			assertNoControls(t, "after a refused result", m.View())

			m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
			m.Update(keyMsg("tab"))
			assertNoControls(t, "audit pane focused", m.View())
		})
	}
}

func TestHostileTextInTheFleetView(t *testing.T) {
	f := &fakeFleet{}
	for _, k := range []model.TargetKind{model.KindALB, model.KindLambda, model.KindCodeDeploy} {
		f.engines = append(f.engines, newFake(hostileSnapshot(k)))
	}
	m := NewFleet(f, FleetOptions{Renderer: asciiRenderer(), Actor: fixActor, Title: evil("config")})
	m.Init()
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 40})
	assertNoControls(t, "fleet", m.View())
	m.Update(keyMsg("enter"))
	assertNoControls(t, "fleet's cockpit", m.View())
}

// Every string reachable from a snapshot, in every field there is now or
// is added later, comes out clean; the splits (compare-and-set IDs) stay
// exactly as read; the snapshot that was passed in is not changed.
func TestDisplaySnapshotCleansEveryString(t *testing.T) {
	var s model.Snapshot
	fill(reflect.ValueOf(&s).Elem(), 0)
	before := snapshotStrings(reflect.ValueOf(s), nil)
	got := displaySnapshot(s)
	if after := snapshotStrings(reflect.ValueOf(s), nil); !reflect.DeepEqual(before, after) {
		t.Fatal("displaySnapshot changed the snapshot it was given (other viewers share it)")
	}
	var checked int
	walkStrings(reflect.ValueOf(got), "snapshot", func(path, v string, raw bool) {
		checked++
		switch {
		case raw && v != hostile:
			t.Errorf("%s: a split's ID was changed to %q; compare-and-set needs it as read", path, v)
		case !raw && strings.ContainsAny(v, "\x1b\a\u009b") || !raw && strings.Contains(v, "\x9b"):
			t.Errorf("%s still holds controls: %q", path, v)
		}
	})
	if checked < 40 {
		t.Fatalf("only %d strings filled: the walk does not reach the snapshot's fields", checked)
	}
}

// fill sets every string to hostile, every slice to one element and every
// pointer and map to a value, recursively.
func fill(v reflect.Value, depth int) {
	if depth > 10 || !v.CanSet() {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(hostile)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), depth+1)
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), depth+1)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

func walkStrings(v reflect.Value, path string, f func(path, v string, raw bool)) {
	walkStringsIn(v, path, false, f)
}

func walkStringsIn(v reflect.Value, path string, raw bool, f func(path, v string, raw bool)) {
	switch v.Kind() {
	case reflect.String:
		f(path, v.String(), raw)
	case reflect.Struct:
		raw = raw || v.Type() == reflect.TypeFor[model.Split]()
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkStringsIn(v.Field(i), path+"."+v.Type().Field(i).Name, raw, f)
			}
		}
	case reflect.Array, reflect.Slice:
		if v.Type() == reflect.TypeFor[model.Signals]() {
			return // metric series: numbers, keyed by perch's own signal names
		}
		for i := range v.Len() {
			walkStringsIn(v.Index(i), path+"[]", raw, f)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			walkStringsIn(v.Elem(), path, raw, f)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			walkStringsIn(it.Key(), path+"{key}", raw, f)
			walkStringsIn(it.Value(), path+"{}", raw, f)
		}
	}
}

func snapshotStrings(v reflect.Value, out []string) []string {
	walkStrings(v, "", func(_, s string, _ bool) { out = append(out, s) })
	return out
}

// The audit pane shows the log's head as perch audit verify --head takes
// it: the newest entry's number and the first 12 digits of its hash,
// whichever is newer of the engine's last look at the log and an entry
// it wrote since.
func TestAuditPaneShowsTheLogHead(t *testing.T) {
	s := healthySnapshot()
	s.AuditSeq, s.AuditHead = 41, "3f9a1c2be0d4"+strings.Repeat("0", 52)
	m, eng := newTestModel(s, Options{})
	if v := screen(t, m, 120, 40); !strings.Contains(v, "audit log  head #41 3f9a1c2be0d4  newest first") {
		t.Fatalf("no head in the audit pane:\n%s", v)
	}
	s.Audit = append(s.Audit, model.AuditEntry{Seq: 42, Time: fixNow, Action: "shift", Phase: model.PhaseOutcome,
		Outcome: model.OutcomeOK, Hash: "77aa" + strings.Repeat("1", 60)})
	eng.publish(s)
	m.Update(snapshotMsg{s})
	if v := screen(t, m, 120, 40); !strings.Contains(v, "head #42 77aa11111111 ") {
		t.Fatalf("the pane does not show the entry written after the poll as the head:\n%s", v)
	}
}
