package config

import (
	"errors"
	"os"
	"testing"

	"github.com/perch-dev/perch/model"
)

func sideOf(i int) model.Side { return model.Sides[i] }

// FuzzParseConfig: no input panics; a rejected file says where, and an
// accepted one holds only complete, uniquely named targets.
func FuzzParseConfig(f *testing.F) {
	if b, err := os.ReadFile("testdata/perch.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("targets:\n  - {name: a, lambda: {function: f, alias: live}}\n"))
	f.Add([]byte("targets:\n  - name: a\n    codedeploy: {deployment_id: d-ABCDEFGH1}\n"))
	f.Add([]byte("targets:\n  - name: a\n    ecs: {cluster: prod, service: web}\n"))
	f.Add([]byte("defaults: {plan: {steps: [{percent: 5, bake: 1m}, {percent: 100}]}}\ntargets: [{name: x, lambda: {function: f, alias: a}}]\n"))
	f.Add([]byte("targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    custom:\n      - {name: r, direction: higher_is_worse, expression: \"a/b\", metrics: {a: {namespace: S, name: A, stat: Sum}, b: {namespace: S, name: B, stat: p99}}}\n"))
	f.Add([]byte(signalsYAML))
	f.Add([]byte("- [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			var es *Errors
			if !errors.As(err, &es) || len(es.List) == 0 {
				t.Fatalf("error is not a non-empty *Errors: %v", err)
			}
			for _, e := range es.List {
				if e.Line < 1 {
					t.Fatalf("error without a line: %q", e.Msg)
				}
			}
			return
		}
		seen := map[string]bool{}
		for _, tg := range cfg.Targets {
			if tg.Name == "" || seen[tg.Name] {
				t.Fatalf("target name %q empty or repeated", tg.Name)
			}
			seen[tg.Name] = true
			if tg.Kind == "" || len(tg.Ladder) < 2 {
				t.Fatalf("incomplete target %+v", tg)
			}
			for _, c := range tg.Custom {
				for _, side := range []int{0, 1} {
					if c.Def(sideOf(side)) == nil {
						t.Fatalf("custom %s has no definition for side %d", c.Name, side)
					}
				}
			}
		}
	})
}
