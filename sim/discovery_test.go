package sim_test

import (
	"testing"

	"github.com/perch-dev/perch/sim"
)

func TestDiscoveryScenarioLoads(t *testing.T) {
	sc, err := sim.LoadScenario("discovery")
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.ALBs) != 6 || len(sc.Lambdas) != 2 || sc.CodeDeploy == nil {
		t.Fatalf("discovery scenario: %d ALBs, %d Lambdas", len(sc.ALBs), len(sc.Lambdas))
	}
}
