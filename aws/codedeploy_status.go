package aws

import (
	"context"
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/perch-dev/perch/model"
)

// Deployment reads the watched deployment: status, configuration,
// lifecycle hooks, error and rollback information. Following a group, it
// first moves on to a newer deployment once the watched one has been
// reported finished.
func (r *CodeDeployRouter) Deployment(ctx context.Context) (model.DeploymentStatus, error) {
	if err := r.followNext(ctx); err != nil {
		return model.DeploymentStatus{}, err
	}
	v := r.view()
	d, err := r.getDeployment(ctx, v.id)
	if err != nil {
		return model.DeploymentStatus{}, err
	}
	targets, err := r.readTargets(ctx, v)
	if err != nil {
		return model.DeploymentStatus{}, err
	}
	st := model.DeploymentStatus{
		ID: v.id, Application: awssdk.ToString(d.ApplicationName), Group: awssdk.ToString(d.DeploymentGroupName),
		ComputePlatform: string(d.ComputePlatform), Config: awssdk.ToString(d.DeploymentConfigName),
		Status: string(d.Status), Creator: string(d.Creator), Description: awssdk.ToString(d.Description),
		CreatedAt: awssdk.ToTime(d.CreateTime), CompletedAt: awssdk.ToTime(d.CompleteTime),
		Alarms: append([]string(nil), v.alarms...),
	}
	if st.Routing, err = r.routing(ctx, st.Config); err != nil {
		return model.DeploymentStatus{}, err
	}
	if split, err := splitOfTargets(v, targets); err == nil {
		st.CanaryPercent = split.CanaryPercent()
	}
	for _, t := range targets {
		var events []cdtypes.LifecycleEvent
		switch {
		case t.EcsTarget != nil:
			events = t.EcsTarget.LifecycleEvents
		case t.LambdaTarget != nil:
			events = t.LambdaTarget.LifecycleEvents
		}
		for _, e := range events {
			h := model.LifecycleHook{Name: awssdk.ToString(e.LifecycleEventName), Status: string(e.Status),
				Start: awssdk.ToTime(e.StartTime), End: awssdk.ToTime(e.EndTime)}
			if h.Name == "AllowTraffic" {
				st.ShiftStartedAt = h.Start
			}
			st.Hooks = append(st.Hooks, h)
		}
	}
	switch {
	case d.Status == cdtypes.DeploymentStatusReady:
		st.Waiting = model.WaitReady
	case d.InstanceTerminationWaitTimeStarted && d.Status == cdtypes.DeploymentStatusInProgress:
		st.Waiting = model.WaitTermination
	}
	if ar := d.AutoRollbackConfiguration; ar != nil {
		st.AutoRollback = ar.Enabled
		for _, e := range ar.Events {
			st.RollbackEvents = append(st.RollbackEvents, string(e))
		}
	}
	if e := d.ErrorInformation; e != nil {
		st.Error = &model.DeploymentError{Code: string(e.Code), Message: awssdk.ToString(e.Message)}
	}
	if rb := d.RollbackInfo; rb != nil {
		st.Rollback = &model.DeploymentRollback{DeploymentID: awssdk.ToString(rb.RollbackDeploymentId),
			TriggeredBy: awssdk.ToString(rb.RollbackTriggeringDeploymentId), Message: awssdk.ToString(rb.RollbackMessage)}
	}
	if st.Terminal() {
		r.mu.Lock()
		if r.cur == v {
			r.reported = true
		}
		r.mu.Unlock()
	}
	return st, nil
}

// followNext switches to the group's newest deployment in progress once
// the watched one has finished and been reported.
func (r *CodeDeployRouter) followNext(ctx context.Context) error {
	r.mu.Lock()
	should := r.follow && r.reported
	cur := r.cur
	r.mu.Unlock()
	if !should {
		return nil
	}
	id, err := r.newestActive(ctx, cur.id)
	if err != nil || id == "" {
		return err
	}
	v, err := r.resolve(ctx, id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.cur, r.reported = v, false
	r.mu.Unlock()
	return nil
}

// routing reads a deployment configuration's traffic routing (cached:
// configurations cannot be changed).
func (r *CodeDeployRouter) routing(ctx context.Context, name string) (model.TrafficRouting, error) {
	r.mu.Lock()
	rt, ok := r.configs[name]
	r.mu.Unlock()
	if ok || name == "" {
		return rt, nil
	}
	out, err := r.cd.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: awssdk.String(name)})
	if err != nil {
		return rt, fmt.Errorf("get deployment config %s: %w", name, err)
	}
	if c := out.DeploymentConfigInfo; c != nil && c.TrafficRoutingConfig != nil {
		tr := c.TrafficRoutingConfig
		rt.Type = string(tr.Type)
		switch {
		case tr.TimeBasedCanary != nil:
			rt.Percent, rt.Interval = float64(tr.TimeBasedCanary.CanaryPercentage), time.Duration(tr.TimeBasedCanary.CanaryInterval)*time.Minute
		case tr.TimeBasedLinear != nil:
			rt.Percent, rt.Interval = float64(tr.TimeBasedLinear.LinearPercentage), time.Duration(tr.TimeBasedLinear.LinearInterval)*time.Minute
		}
	}
	r.mu.Lock()
	r.configs[name] = rt
	r.mu.Unlock()
	return rt, nil
}
