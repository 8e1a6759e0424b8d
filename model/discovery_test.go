package model

import (
	"strings"
	"testing"
)

func TestWithoutOwnedRulesListsADeploymentsRuleOnce(t *testing.T) {
	side := func(name string, w float64) FoundSide { return FoundSide{Name: name, Weight: w} }
	found := []Found{
		{Kind: KindALB, Name: "web rule 10", Region: "us-east-1", Sides: []FoundSide{side("web-canary", 10), side("web-stable", 90)}},
		{Kind: KindALB, Name: "web rule 10 in eu", Region: "eu-west-1", Sides: []FoundSide{side("web-stable", 90), side("web-canary", 10)}},
		{Kind: KindALB, Name: "cart rule 10", Region: "us-east-1", Sides: []FoundSide{side("web-stable", 70), side("cart-canary", 30)}},
		{Kind: KindCodeDeploy, Name: "web-app/web-bg", Region: "us-east-1", TargetGroups: []string{"web-stable", "web-canary"}},
	}
	var names []string
	for _, f := range WithoutOwnedRules(found) {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ", "); got != "web rule 10 in eu, cart rule 10, web-app/web-bg" {
		t.Fatalf("kept %s", got)
	}
}
