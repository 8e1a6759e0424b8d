package aws

import (
	"context"
	"testing"
	"time"

	"github.com/perch-dev/perch/clock"
)

// TestRateLimiterWritesNeverWaitBehindReads: with the read budget spent,
// a read waits for the clock while a write goes at once from its own
// budget; the read goes when a token is due.
func TestRateLimiterWritesNeverWaitBehindReads(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := NewRateLimiter(clk, map[string]ServiceRates{"Elastic Load Balancing v2": {Read: Rate{2, 2}, Write: Rate{1, 1}}})
	ctx := context.Background()
	for range 2 {
		if err := l.Wait(ctx, "Elastic Load Balancing v2", "DescribeRules"); err != nil {
			t.Fatal(err)
		}
	}
	read := make(chan error, 1)
	go func() { read <- l.Wait(ctx, "Elastic Load Balancing v2", "DescribeRules") }()
	if err := l.Wait(ctx, "Elastic Load Balancing v2", "ModifyRule"); err != nil {
		t.Fatalf("write: %v", err)
	}
	select {
	case err := <-read:
		t.Fatalf("a read past the budget went at once (%v)", err)
	default:
	}
	if err := l.Wait(ctx, "STS", "GetCallerIdentity"); err != nil {
		t.Fatalf("an unlimited service waited: %v", err)
	}
	clk.BlockUntil(1)
	clk.Advance(500 * time.Millisecond)
	if err := <-read; err != nil {
		t.Fatal(err)
	}
}

func TestParseRates(t *testing.T) {
	r, err := ParseRates([]string{"elbv2=1/0.5", "cloudwatch=20", "ecs=2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r["Elastic Load Balancing v2"]; got.Read.Per != 1 || got.Write.Per != 0.5 {
		t.Errorf("elbv2 %+v", got)
	}
	if got := r["CloudWatch"]; got.Read.Per != 20 || got.Write != DefaultRates["CloudWatch"].Write {
		t.Errorf("cloudwatch %+v", got)
	}
	if got := r["ECS"]; got.Read.Per != 2 || got.Write != DefaultRates["ECS"].Write {
		t.Errorf("ecs %+v", got)
	}
	if off, _ := ParseRates([]string{"off"}); len(off) != 0 {
		t.Errorf("off: %v", off)
	}
	for _, bad := range []string{"s3=1", "elbv2", "elbv2=0", "elbv2=x", "elbv2=1/-1"} {
		if _, err := ParseRates([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
