package rollout_test

import (
	"context"
	"testing"

	"github.com/perch-dev/perch/audit"
	"github.com/perch-dev/perch/model"
)

// Every poll stamps the snapshot with the audit log's head, including
// entries other writers appended; verify --head accepts it.
func TestSnapshotCarriesTheAuditLogHead(t *testing.T) {
	r := newRig(t, "healthy", false)
	ctx := context.Background()
	if s := r.engine.PollOnce(ctx); s.AuditSeq != 0 || s.AuditHead != audit.GenesisHash {
		t.Fatalf("empty log: head #%d %q", s.AuditSeq, s.AuditHead)
	}
	res := r.engine.Execute(ctx, model.Intent{Kind: model.StepUp, Actor: operator()})
	if res.Outcome != model.OutcomeOK {
		t.Fatalf("step: %+v", res)
	}
	// Another perch (a headless shift, say) appends to the same file.
	other, err := audit.Open(r.path)
	if err != nil {
		t.Fatal(err)
	}
	written, err := other.Append(model.AuditEntry{Actor: operator(), Action: "pause", Phase: model.PhaseEvent})
	other.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := r.engine.PollOnce(ctx)
	if s.AuditSeq != written.Seq || s.AuditHead != written.Hash {
		t.Fatalf("snapshot head #%d %.12s, want the other writer's #%d %.12s", s.AuditSeq, s.AuditHead, written.Seq, written.Hash)
	}
	if rep, err := audit.VerifyHead(r.path, s.AuditHead[:audit.MinHeadLen]); err != nil || rep.HeadSeq != written.Seq {
		t.Fatalf("verify --head with the snapshot's head: %+v %v", rep, err)
	}
}
