package cli

import (
	"context"
	"sync"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
)

// fleetPrefetch makes a fleet poll's shared reads: for each AWS config
// (profile and region), every member's rule, alias, deployment and alarms
// in the fewest calls (aws.PollReader), the configs at once, each
// member's engine then reading its part from its context.
type fleetPrefetch struct {
	members []prefetchMember // by fleet member
}

type prefetchMember struct {
	group  *fleetGroup
	needs  func() perchaws.BatchNeeds // nil: nothing to batch
	alarms []string
}

// batchNeeder is a router that can have its routing read in a batch.
type batchNeeder interface{ BatchNeeds() perchaws.BatchNeeds }

func newPrefetchMember(group *fleetGroup, router rollout.Router, alarms []string) prefetchMember {
	m := prefetchMember{group: group, alarms: alarms}
	if b, ok := router.(batchNeeder); ok {
		m.needs = b.BatchNeeds
	}
	return m
}

func (p *fleetPrefetch) prefetch(ctx context.Context, members []int) func(int) context.Context {
	reqs := map[*fleetGroup]*perchaws.BatchRequest{}
	var order []*fleetGroup
	for _, i := range members {
		m := p.members[i]
		req := reqs[m.group]
		if req == nil {
			req = &perchaws.BatchRequest{}
			reqs[m.group] = req
			order = append(order, m.group)
		}
		var needs perchaws.BatchNeeds
		if m.needs != nil {
			needs = m.needs()
		}
		req.Add(needs, m.alarms)
	}
	ctxs := make(map[*fleetGroup]context.Context, len(order))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, g := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := g.reader.Read(ctx, *reqs[g])
			mu.Lock()
			ctxs[g] = perchaws.WithPollBatch(ctx, b)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return func(i int) context.Context {
		if c, ok := ctxs[p.members[i].group]; ok {
			return c
		}
		return ctx
	}
}

// prefetchOpen reads, for each AWS config, what opening its ALB rule
// targets needs in shared calls (aws.PollReader.ReadOpen), the configs at
// once, and returns the context each target opens with.
func (gs *fleetGroups) prefetchOpen(ctx context.Context, targets []config.Target) (func(int) context.Context, error) {
	rules := map[*fleetGroup][]string{}
	of := make([]*fleetGroup, len(targets))
	for i, t := range targets {
		if t.Kind != model.KindALB || t.RuleARN == "" {
			continue
		}
		g, err := gs.group(ctx, t.Profile, t.Region)
		if err != nil {
			return nil, err
		}
		of[i] = g
		rules[g] = append(rules[g], t.RuleARN)
	}
	ctxs := make(map[*fleetGroup]context.Context, len(rules))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g, arns := range rules {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := g.reader.ReadOpen(ctx, arns)
			mu.Lock()
			ctxs[g] = perchaws.WithPollBatch(ctx, b)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return func(i int) context.Context {
		if c, ok := ctxs[of[i]]; ok && of[i] != nil {
			return c
		}
		return ctx
	}, nil
}
