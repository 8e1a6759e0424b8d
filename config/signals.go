package config

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/perch-dev/perch/model"
)

// Signals are a target's saturation and log settings: what the seed calls
// the other signals, beside requests, errors and latency.
//
//	saturation:
//	  ecs: {cluster: shop, stable_service: checkout-blue, canary_service: checkout-green}
//	  judge:                               # judged only when declared
//	    - {signal: memory_utilization, direction: higher_is_worse, tolerance: 0.05}
//	logs:
//	  group: /ecs/checkout                 # both sides; or per side below
//	  stable: {group: /ecs/checkout, stream_prefix: checkout-stable/}
//	  canary: {group: /ecs/checkout, stream_prefix: checkout-canary/}
//	  error_regex: "(?i)(error|exception|panic|timeout|retry)"
//	  every: 2m                            # at most one query per side this often
//	  window: 10m                          # how far back each query looks
//
// A Lambda target needs no group: `logs: {}` reads /aws/lambda/FUNCTION,
// each version's streams told apart by the [VERSION] in their names.
type Signals struct {
	// ECS names each side's service (Cluster, Service); empty: none.
	ECS [2]ECSService
	// Judge are the saturation signals the judge compares.
	Judge []model.CustomSignal
	// Logs is nil when the target's logs are not watched.
	Logs *LogsSettings
}

// ECSService is one side's ECS service.
type ECSService struct{ Cluster, Service string }

// LogsSettings say where each side's lines are and how often to look.
type LogsSettings struct {
	Groups       [2][]string
	StreamPrefix [2]string
	ErrorRegex   string
	Every        time.Duration
	Window       time.Duration
}

// SaturationSignalNames are the signals saturation's judge may name.
func SaturationSignalNames() []string {
	out := make([]string, len(model.SaturationSignals))
	for i, s := range model.SaturationSignals {
		out[i] = string(s)
	}
	return out
}

// ParseSaturationJudge reads "SIGNAL:higher|lower[:TOLERANCE]", the
// --judge-saturation flag's form.
func ParseSaturationJudge(s string) (model.CustomSignal, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return model.CustomSignal{}, errorf("%q: want SIGNAL:higher|lower[:TOLERANCE]", s)
	}
	cs := model.CustomSignal{Name: model.Signal(parts[0]), Tolerance: DefaultTolerance}
	if !slices.Contains(SaturationSignalNames(), parts[0]) {
		return cs, errorf("%q: the signal is one of %s", s, strings.Join(SaturationSignalNames(), ", "))
	}
	switch parts[1] {
	case "higher", "higher_is_worse":
		cs.HigherIsWorse = true
	case "lower", "lower_is_worse":
	default:
		return cs, errorf("%q: say higher or lower (which way is worse)", s)
	}
	if len(parts) == 3 {
		f, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || !(f >= 0 && f <= 10) {
			return cs, errorf("%q: the tolerance is a fraction from 0 to 10", s)
		}
		cs.Tolerance = f
	}
	return cs, nil
}

func errorf(format string, a ...any) error { return &Error{Msg: fmt.Sprintf(format, a...)} }

func (p *parser) saturation(n *yaml.Node, t *Target) {
	fs := p.mapping(n, "saturation", "ecs", "judge")
	if fs == nil {
		return
	}
	if v := fs.get("ecs"); v != nil {
		es := p.mapping(v, "saturation ecs", "cluster", "stable_service", "canary_service")
		if es != nil {
			cluster := "default"
			if c := es.get("cluster"); c != nil {
				cluster, _ = p.str(c, "cluster")
			}
			for i, k := range []string{"stable_service", "canary_service"} {
				if s := es.get(k); s != nil {
					name, _ := p.str(s, k)
					t.Signals.ECS[i] = ECSService{Cluster: cluster, Service: name}
				} else {
					p.errf(v.Line, "saturation ecs: needs %s", k)
				}
			}
		}
	}
	if v := fs.get("judge"); v != nil {
		if v.Kind != yaml.SequenceNode {
			p.errf(v.Line, "saturation judge: want a list of {signal, direction, tolerance}")
			return
		}
		for _, j := range v.Content {
			p.saturationJudge(j, t)
		}
	}
}

func (p *parser) saturationJudge(n *yaml.Node, t *Target) {
	fs := p.mapping(n, "saturation judge", "signal", "direction", "tolerance")
	if fs == nil {
		return
	}
	spec := ""
	for _, k := range []string{"signal", "direction"} {
		v := fs.get(k)
		if v == nil {
			p.errf(n.Line, "saturation judge: needs %s (no default: a wrong direction would cheer a regression)", k)
			return
		}
		s, _ := p.str(v, k)
		spec += strings.TrimSuffix(s, "_is_worse") + ":"
	}
	if v := fs.get("tolerance"); v != nil {
		spec += v.Value
	} else {
		spec = strings.TrimSuffix(spec, ":")
	}
	cs, err := ParseSaturationJudge(spec)
	if err != nil {
		p.errf(n.Line, "saturation judge: %s", err.(*Error).Msg)
		return
	}
	t.Signals.Judge = append(t.Signals.Judge, cs)
}

func (p *parser) logs(n *yaml.Node, t *Target) {
	fs := p.mapping(n, "logs", "group", "stable", "canary", "error_regex", "every", "window")
	if fs == nil {
		return
	}
	l := &LogsSettings{}
	if v := fs.get("group"); v != nil {
		if g, ok := p.str(v, "logs group"); ok {
			l.Groups = [2][]string{{g}, {g}}
		}
	}
	for i, side := range []string{"stable", "canary"} {
		v := fs.get(side)
		if v == nil {
			continue
		}
		ss := p.mapping(v, "logs "+side, "group", "stream_prefix")
		if ss == nil {
			continue
		}
		if g := ss.get("group"); g != nil {
			if s, ok := p.str(g, side+" group"); ok {
				l.Groups[i] = []string{s}
			}
		}
		if sp := ss.get("stream_prefix"); sp != nil {
			l.StreamPrefix[i], _ = p.str(sp, side+" stream_prefix")
		}
	}
	if t.Kind != model.KindLambda && (len(l.Groups[0]) == 0 || len(l.Groups[1]) == 0) {
		p.errf(n.Line, "logs: name the log group (group, or stable and canary each with a group)")
	}
	if v := fs.get("error_regex"); v != nil {
		if s, ok := p.str(v, "error_regex"); ok {
			if _, err := regexp.Compile(s); err != nil {
				p.errf(v.Line, "error_regex %q: %v", s, err)
			}
			l.ErrorRegex = s
		}
	}
	for _, k := range []string{"every", "window"} {
		if v := fs.get(k); v != nil {
			if d, ok := p.duration(v, "logs "+k); ok {
				if d < time.Minute || d > 24*time.Hour {
					p.errf(v.Line, "logs %s %v: want 1m to 24h", k, d)
				}
				if k == "every" {
					l.Every = d
				} else {
					l.Window = d
				}
			}
		}
	}
	t.Signals.Logs = l
}
