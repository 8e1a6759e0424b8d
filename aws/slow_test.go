package aws

import "testing"

func TestSlowThresholdBound(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0.180543, "0.181"}, {181.4, "181"}, {0.0012345, "0.00123"}, {12345, "12300"}, {0.000000000049, "0"},
	} {
		if got := formatBound(roundSignificant(c.v, 3)); got != c.want {
			t.Errorf("bound for %v = %q, want %q", c.v, got, c.want)
		}
	}
	if roundSignificant(-1, 3) != 0 || roundSignificant(0, 3) != 0 {
		t.Error("a threshold at or below zero is no threshold")
	}
}
