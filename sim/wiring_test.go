package sim

import (
	"testing"

	"github.com/perch-dev/perch/clock"
)

// Every service the Sim routes to can be named in a fault: the scenario
// package's list of service names must follow the services wired here.
func TestEveryServiceCanBeFaulted(t *testing.T) {
	s, err := New(Options{Clock: clock.NewManual(epoch)})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.services) == 0 {
		t.Fatal("no services wired")
	}
	for _, svc := range s.services {
		name := svc.Endpoint().Name
		if err := s.InjectFault(Fault{Service: name, Code: "Throttling"}); err != nil {
			t.Errorf("service %s cannot be faulted: %v", name, err)
		}
	}
}
