package cli

import (
	"fmt"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim"
)

// signalFlags are the saturation and log settings of a cockpit command:
// the same config.Signals a perch.yaml target has.
type signalFlags struct {
	logs         bool
	logGroups    []string
	sideGroups   [2]string
	streamPrefix [2]string
	errorRegex   string
	logEvery     time.Duration
	logWindow    time.Duration
	ecsCluster   string
	ecsService   [2]string
	judgeSat     []string
	// preset is what the flags add to: a perch.yaml target's settings, or
	// the demo's from the scenario's manifest.
	preset *config.Signals
}

func addSignalFlags(cmd *cobra.Command, s *signalFlags) {
	f := cmd.Flags()
	f.BoolVar(&s.logs, "logs", false, "watch each side's error-like log lines for NEW patterns (Lambda: /aws/lambda/FUNCTION, versions by stream name; others need --log-group)")
	f.StringSliceVar(&s.logGroups, "log-group", nil, "log group both sides write to (repeatable; implies --logs)")
	f.StringVar(&s.sideGroups[model.Stable], "stable-log-group", "", "the stable side's own log group")
	f.StringVar(&s.sideGroups[model.Canary], "canary-log-group", "", "the canary side's own log group")
	f.StringVar(&s.streamPrefix[model.Stable], "stable-stream-prefix", "", "the stable side's log streams start with this (an ECS awslogs-stream-prefix)")
	f.StringVar(&s.streamPrefix[model.Canary], "canary-stream-prefix", "", "the canary side's log streams start with this")
	f.StringVar(&s.errorRegex, "log-error-regex", perchaws.DefaultErrorRegex, "what makes a log line error-like")
	f.DurationVar(&s.logEvery, "log-every", rollout.DefaultLogsEvery, "at most one Logs Insights query per side this often (it bills by bytes scanned)")
	f.DurationVar(&s.logWindow, "log-window", rollout.DefaultLogsWindow, "how far back each log query looks")
	f.StringVar(&s.ecsCluster, "ecs-cluster", "default", "the cluster of --stable-ecs-service and --canary-ecs-service")
	f.StringVar(&s.ecsService[model.Stable], "stable-ecs-service", "", "the ECS service behind the stable target group: its CPU and memory are charted")
	f.StringVar(&s.ecsService[model.Canary], "canary-ecs-service", "", "the ECS service behind the canary target group")
	f.StringSliceVar(&s.judgeSat, "judge-saturation", nil, "judge a saturation signal: SIGNAL:higher|lower[:TOLERANCE], e.g. memory_utilization:higher:0.05 (repeatable)")
}

// settings are the flags as perch.yaml's Signals.
func (s *signalFlags) settings() (config.Signals, error) {
	var out config.Signals
	if s.preset != nil {
		out = *s.preset
	}
	if (s.ecsService[0] == "") != (s.ecsService[1] == "") {
		return out, usageErr("--stable-ecs-service and --canary-ecs-service go together")
	}
	if s.ecsService[0] != "" {
		for _, side := range model.Sides {
			out.ECS[side] = config.ECSService{Cluster: s.ecsCluster, Service: s.ecsService[side]}
		}
	}
	for _, j := range s.judgeSat {
		cs, err := config.ParseSaturationJudge(j)
		if err != nil {
			return out, usageErr("--judge-saturation %v", err)
		}
		out.Judge = append(out.Judge, cs)
	}
	if s.logs || len(s.logGroups) > 0 || s.sideGroups[0] != "" || s.sideGroups[1] != "" {
		l := &config.LogsSettings{StreamPrefix: s.streamPrefix, ErrorRegex: s.errorRegex, Every: s.logEvery, Window: s.logWindow}
		for _, side := range model.Sides {
			l.Groups[side] = append([]string(nil), s.logGroups...)
			if g := s.sideGroups[side]; g != "" {
				l.Groups[side] = append(l.Groups[side], g)
			}
		}
		if l.Every < time.Minute || l.Window < time.Minute {
			return out, usageErr("--log-every and --log-window must be at least 1m")
		}
		out.Logs = l
	}
	return out, nil
}

// querier is a metrics reader that takes more queries into its batch.
type querier interface {
	AddQueries([]perchaws.MetricQuery)
}

// wireSignals adds the saturation queries to the target's metrics batch
// and builds the log watch, if the settings ask for one. A cockpit always
// charts saturation (a few more metrics in its one call); a fleet member
// only when its perch.yaml entry has a saturation section, since every
// metric in a fleet's poll is billed for every target.
func wireSignals(cfg awssdk.Config, ad adapters, s config.Signals, always bool) (*rollout.LogsConfig, error) {
	t := ad.router.Target()
	var qs []perchaws.MetricQuery
	wanted := always || s.ECS[model.Stable].Service != "" || len(s.Judge) > 0
	switch {
	case !wanted:
	case t.Kind == model.KindALB:
		qs = perchaws.ALBSaturationQueries(t, "")
		if s.ECS[model.Stable].Service != "" {
			qs = append(qs, perchaws.ECSQueries([2]perchaws.ECSService{
				{Cluster: s.ECS[0].Cluster, Service: s.ECS[0].Service}, {Cluster: s.ECS[1].Cluster, Service: s.ECS[1].Service}}, "")...)
		}
	case t.Kind == model.KindLambda:
		qs = perchaws.LambdaSaturationQueries(t.Function, t.Alias, t.StableName, t.CanaryName, "")
	}
	if q, ok := ad.metrics.(querier); ok && len(qs) > 0 {
		q.AddQueries(qs)
	} else if !ok && (s.ECS[model.Stable].Service != "" || len(s.Judge) > 0) {
		return nil, usageErr("saturation signals are not supported on a %s target yet", t.Kind)
	}
	if s.Logs == nil {
		return nil, nil
	}
	opts := perchaws.LogsOptions{ErrorRegex: s.Logs.ErrorRegex}
	if t.Kind == model.KindLambda && len(s.Logs.Groups[0]) == 0 && len(s.Logs.Groups[1]) == 0 {
		opts.Sides = perchaws.LambdaLogSides(t.Function, t.StableName, t.CanaryName)
	} else {
		for _, side := range model.Sides {
			if len(s.Logs.Groups[side]) == 0 {
				return nil, usageErr("logs: no log group for the %s side (--log-group, or --%s-log-group)", side, side)
			}
			opts.Sides[side] = perchaws.LogSide{Groups: s.Logs.Groups[side], StreamFilter: perchaws.StreamPrefixFilter(s.Logs.StreamPrefix[side])}
		}
	}
	reader, err := perchaws.NewLogs(cfg, opts)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return &rollout.LogsConfig{Reader: reader, Every: s.Logs.Every, Window: s.Logs.Window}, nil
}

// manifestSignals are what the simulator says a scenario's canary logs
// and which ECS services back it: the demo watches them without flags.
func manifestSignals(m sim.ManifestTarget) *config.Signals {
	var s config.Signals
	if m.StableECSService != "" {
		s.ECS = [2]config.ECSService{{Cluster: m.ECSCluster, Service: m.StableECSService}, {Cluster: m.ECSCluster, Service: m.CanaryECSService}}
	}
	if m.LogGroup != "" {
		// A minute between queries: the demo runs faster than real time.
		l := &config.LogsSettings{StreamPrefix: [2]string{m.StableStreamPrefix, m.CanaryStreamPrefix}, Every: time.Minute}
		if m.Kind != "lambda" {
			l.Groups = [2][]string{{m.LogGroup}, {m.LogGroup}}
		}
		s.Logs = l
	}
	if s.Logs == nil && s.ECS[0].Service == "" {
		return nil
	}
	return &s
}

// signalArgs are the flags that watch what the simulator says a canary
// logs and which ECS services back it, for perch sim's printed commands.
func signalArgs(m sim.ManifestTarget) string {
	var b strings.Builder
	if m.StableECSService != "" {
		fmt.Fprintf(&b, " --ecs-cluster %s --stable-ecs-service %s --canary-ecs-service %s", m.ECSCluster, m.StableECSService, m.CanaryECSService)
	}
	switch {
	case m.LogGroup != "" && m.Kind == "lambda":
		b.WriteString(" --logs")
	case m.LogGroup != "":
		fmt.Fprintf(&b, " --log-group %s --stable-stream-prefix %s --canary-stream-prefix %s", m.LogGroup, m.StableStreamPrefix, m.CanaryStreamPrefix)
	}
	return b.String()
}
