package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/perch-dev/perch/model"
)

// drillReport is the JSON contract of `perch drill --json`.
type drillReport struct {
	Target        string     `json:"target"`
	Alarm         string     `json:"alarm"`
	Plan          string     `json:"plan"`
	StartPercent  float64    `json:"start_canary_percent"`
	AlarmSetAt    *time.Time `json:"alarm_set_at"`
	RolledBack    bool       `json:"rolled_back"`
	RollbackAt    *time.Time `json:"rollback_seen_at"`
	Elapsed       *float64   `json:"elapsed_seconds"`
	By            string     `json:"by,omitempty"`
	Reason        string     `json:"reason,omitempty"`
	AlarmSets     int        `json:"alarm_sets"`
	FinalSplit    drillSplit `json:"final_split"`
	AlarmRestored bool       `json:"alarm_restored"`
	RestoredAt    *time.Time `json:"alarm_restored_at,omitempty"`
	Error         string     `json:"error,omitempty"`
	Verdict       string     `json:"verdict,omitempty"`
}

type drillSplit struct {
	Known         bool    `json:"known"`
	StablePercent float64 `json:"stable_percent"`
	CanaryPercent float64 `json:"canary_percent"`
}

func splitOf(snap model.Snapshot) drillSplit {
	if !snap.SplitKnown {
		return drillSplit{}
	}
	return drillSplit{Known: true, StablePercent: snap.Split.StablePercent(), CanaryPercent: snap.Split.CanaryPercent()}
}

func printDrill(w io.Writer, r *drillReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	ew := &errWriterCLI{w: w}
	stamp := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Format("15:04:05.000Z")
	}
	fmt.Fprintf(ew, "drill      alarm %s on %s (canary at %s, plan %s)\n", text(r.Alarm), text(r.Target), model.FormatPercent(r.StartPercent), r.Plan)
	fmt.Fprintf(ew, "alarm set  ALARM at %s", stamp(r.AlarmSetAt))
	if r.AlarmSets > 1 {
		fmt.Fprintf(ew, " (set %d times: it re-evaluated before the rollback)", r.AlarmSets)
	}
	fmt.Fprintln(ew)
	if r.RolledBack {
		fmt.Fprintf(ew, "rollback   seen at %s by the %s: %s\n", stamp(r.RollbackAt), text(r.By), text(r.Reason))
		fmt.Fprintf(ew, "elapsed    %s from the alarm to traffic back on stable\n",
			time.Duration(*r.Elapsed*float64(time.Second)).Round(time.Millisecond))
	} else {
		fmt.Fprintf(ew, "rollback   NONE\n")
	}
	if r.FinalSplit.Known {
		fmt.Fprintf(ew, "final      stable %s / canary %s\n", model.FormatPercent(r.FinalSplit.StablePercent), model.FormatPercent(r.FinalSplit.CanaryPercent))
	} else {
		fmt.Fprintf(ew, "final      split unknown\n")
	}
	if r.AlarmRestored {
		fmt.Fprintf(ew, "alarm      back to OK at %s\n", stamp(r.RestoredAt))
	} else if r.AlarmSetAt != nil || r.AlarmSets > 0 {
		fmt.Fprintf(ew, "alarm      NOT restored: set it back to OK by hand\n")
	}
	if r.Error != "" {
		fmt.Fprintf(ew, "error      %s\n", text(r.Error))
	}
	return ew.err
}

type errWriterCLI struct {
	w   io.Writer
	err error
}

func (e *errWriterCLI) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
