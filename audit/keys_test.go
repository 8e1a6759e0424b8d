package audit_test

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/perch-dev/perch/audit"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
)

var _ rollout.AuditLog = (*audit.Log)(nil)

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// The log must never hold credentials. Entries are built from typed model
// fields, so that holds as long as nobody adds a free-form field: any new key
// (or a map or interface field) fails here and makes someone think.
func TestEntryHasExactlyTheExpectedKeys(t *testing.T) {
	l, err := audit.Open(filepath.Join(t.TempDir(), "a.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	e, err := l.Append(model.AuditEntry{
		Time:      time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Actor:     model.Actor{ARN: "arn:aws:sts::1:assumed-role/r/s", OSUser: "u", Via: "headless"},
		Target:    "lambda:fn:live",
		Action:    "rollback",
		Phase:     model.PhaseOutcome,
		Outcome:   model.OutcomeFailed,
		From:      model.Pct(10),
		To:        model.Pct(0),
		Verified:  true,
		Reason:    "r",
		Detail:    "d",
		IntentSeq: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"action", "actor", "detail", "from_percent", "hash", "intent_seq", "outcome",
		"phase", "prev", "reason", "seq", "target", "time", "to_percent", "verified"}
	if got := keys(m); !slices.Equal(got, want) {
		t.Fatalf("entry keys %v\nwant %v", got, want)
	}
	actor, _ := m["actor"].(map[string]any)
	if got := keys(actor); !slices.Equal(got, []string{"arn", "os_user", "via"}) {
		t.Fatalf("actor keys %v", got)
	}
	// Catch free-form fields even while they are empty.
	for _, typ := range []reflect.Type{reflect.TypeFor[model.AuditEntry](), reflect.TypeFor[model.Actor]()} {
		for f := range typ.Fields() {
			switch f.Type.Kind() {
			case reflect.Map, reflect.Interface, reflect.Slice:
				t.Errorf("%s.%s is a %s: the audit log must hold only typed fields", typ.Name(), f.Name, f.Type.Kind())
			}
		}
	}
}
