package metricmath

import (
	"reflect"
	"testing"
)

func TestRenameAndIDs(t *testing.T) {
	expr := `100 * failed / FILL(orders, 1) + SEARCH('{Shop} failed', 'Sum', 60) + 1e3`
	got := Rename(expr, map[string]string{"failed": "t1_canary_failed", "orders": "t1_canary_orders"})
	want := `100 * t1_canary_failed / FILL(t1_canary_orders, 1) + SEARCH('{Shop} failed', 'Sum', 60) + 1e3`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	ids := IDs(expr)
	if !reflect.DeepEqual(ids, []string{"failed", "FILL", "orders", "SEARCH"}) {
		t.Errorf("ids %v", ids)
	}
}
