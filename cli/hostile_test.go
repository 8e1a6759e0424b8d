package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/perch-dev/perch/model"
)

// hostile is an OSC 52 clipboard write, a screen clear, a cursor query, a
// title change and 8-bit CSI, raw and as UTF-8.
const hostile = "\x1b]52;c;cGVyY2g=\a\x1b[2J\x1b[6n\x1b]0;pwned\a\x9b2J\u009b6n"

// assertPrintable fails on any byte or rune a terminal would act on.
func assertPrintable(t *testing.T, what, s string) {
	t.Helper()
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f {
			t.Fatalf("%s: %q at byte %d reaches the terminal: …%q…", what, s[i:i+size], i, s[max(0, i-40):min(len(s), i+40)])
		}
		i += size
	}
}

func TestStatusTextShowsControlSequencesAsText(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	snap := model.Snapshot{Now: now, SplitKnown: true,
		Target: model.Target{Kind: model.KindCodeDeploy, Name: "t" + hostile, StableName: "blue" + hostile, CanaryName: "green" + hostile,
			DeploymentID: "d-" + hostile},
		Split:     model.Split{StableWeight: 90, CanaryWeight: 10},
		SplitErr:  "split" + hostile,
		Alarms:    []model.Alarm{{Name: "alarm" + hostile, State: model.AlarmState("ALARM" + hostile), Reason: "why" + hostile}},
		AlarmsErr: "alarms" + hostile,
		Deployment: &model.DeploymentStatus{ID: "d-" + hostile, Status: "Stopped" + hostile, Config: "cfg" + hostile, Step: "step" + hostile,
			ComputePlatform: "ECS" + hostile, ReadErr: "read" + hostile,
			Error:    &model.DeploymentError{Code: "ALARM_ACTIVE" + hostile, Message: "message" + hostile},
			Rollback: &model.DeploymentRollback{DeploymentID: "d-rb" + hostile, Message: "rolled back" + hostile}},
	}
	var text bytes.Buffer
	printStatus(&text, newStatus(snap, 5*time.Minute))
	assertPrintable(t, "status", text.String())
	for _, want := range []string{`t\x1b]52;c;`, `blue\x1b]52`, `alarm\x1b]52`, `message\x1b]52`, `rolled back\x1b]52`, `split\x1b]52`} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("status text lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := writeJSON(&js, newStatus(snap, 5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	assertPrintable(t, "status --json", js.String())
	var back status
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Alarms[0].Reason != "why"+strings.ToValidUTF8(hostile, "\uFFFD") {
		t.Errorf("JSON alarm reason decodes to %q", back.Alarms[0].Reason)
	}
}

// An endpoint that answers with an error message full of control
// sequences: the one-line error on stderr shows them as text.
func TestErrorLineShowsControlSequencesAsText(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-Errortype", "InvalidParameterValueException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		b, _ := json.Marshal(map[string]string{"message": "the alias is" + hostile})
		w.Write(b)
	}))
	defer srv.Close()
	code, out, errOut := c.run(t, "status", "--function", "fn", "--alias", "live", "--endpoint-url", srv.URL, "--region", "us-east-1")
	if code == 0 {
		t.Fatalf("status against an endpoint that only says no exited 0:\n%s", out)
	}
	assertPrintable(t, "stderr", errOut)
	if !strings.Contains(errOut, `\x1b]52;c;`) {
		t.Errorf("the error line lost the message: %q", errOut)
	}
}
