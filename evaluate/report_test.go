package evaluate

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/perch-dev/perch/sim"
)

// perch evaluate's report, whole, as text (with the per-run rows) and as
// JSON: both are read by people and scripts, and every figure in them
// comes from seeded runs, so any change to the judge, the alarms or the
// simulator shows here as a diff.
func TestReportOutput(t *testing.T) {
	sc, err := sim.LoadScenario("eval-10x")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(t.Context(), Options{Scenario: sc, Runs: 3, Seed: 1, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	rep.Elapsed = 1500 * time.Millisecond // the one wall-clock figure
	t.Run("text", func(t *testing.T) {
		var b bytes.Buffer
		if err := rep.WriteText(&b, true); err != nil {
			t.Fatal(err)
		}
		golden.RequireEqual(t, b.Bytes())
	})
	t.Run("json", func(t *testing.T) {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden.RequireEqual(t, append(b, '\n'))
	})
}
