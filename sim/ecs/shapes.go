package ecs

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"time"
)

// The API's shapes, rendered as JSON objects.

type obj = map[string]any

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

func validName(s string) bool { return nameRE.MatchString(s) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilObjs(s []obj) []obj {
	if s == nil {
		return []obj{}
	}
	return s
}

func makeToken(n int) string {
	return base64.StdEncoding.EncodeToString([]byte("ecs:" + strconv.Itoa(n)))
}

func parseToken(tok string) (int, error) {
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil || len(b) < 4 || string(b[:4]) != "ecs:" {
		return 0, strconv.ErrSyntax
	}
	return strconv.Atoi(string(b[4:]))
}

// epoch renders a time the awsJson way; nil for the zero time.
func epoch(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return float64(t.UnixMilli()) / 1000
}

// put sets k to v unless v is nil or empty.
func put(o obj, k string, v any) {
	switch x := v.(type) {
	case nil:
		return
	case string:
		if x == "" {
			return
		}
	}
	o[k] = v
}

func (c *cluster) describe() obj {
	running := 0
	for _, s := range c.services {
		running += s.desired
	}
	return obj{"clusterArn": c.arn, "clusterName": c.name, "status": "ACTIVE", "activeServicesCount": len(c.services),
		"runningTasksCount": running, "pendingTasksCount": 0, "registeredContainerInstancesCount": 0}
}

func (c deployConfig) describe() obj {
	o := obj{"maximumPercent": 200, "minimumHealthyPercent": 100, "strategy": c.strategy,
		"deploymentCircuitBreaker": obj{"enable": false, "rollback": false}}
	if len(c.alarms) > 0 {
		o["alarms"] = obj{"alarmNames": c.alarms, "enable": c.alarmsEnable, "rollback": c.alarmsRB}
	}
	switch c.strategy {
	case strCanary:
		o["canaryConfiguration"] = obj{"canaryPercent": c.canaryPct, "canaryBakeTimeInMinutes": c.canaryBake}
	case strLinear:
		o["linearConfiguration"] = obj{"stepPercent": c.stepPct, "stepBakeTimeInMinutes": c.stepBake}
	}
	if c.strategy != strRolling {
		o["bakeTimeInMinutes"] = c.bake
	}
	var hooks []obj
	for _, h := range c.hooks {
		hooks = append(hooks, obj{"hookTargetArn": h.targetARN, "roleArn": h.roleARN, "lifecycleStages": h.stages,
			"targetType": "PAUSE", "timeoutConfiguration": obj{"timeoutInMinutes": int(h.timeout / time.Minute), "timeoutAction": h.timeoutAction}})
	}
	if hooks != nil {
		o["lifecycleHooks"] = hooks
	}
	return o
}

func (lb *lbConfig) describe(tg string) obj {
	o := obj{"targetGroupArn": tg, "containerName": lb.containerName, "containerPort": lb.containerPort}
	if lb.advanced {
		adv := obj{"alternateTargetGroupArn": lb.alternate, "productionListenerRule": lb.prodRule, "roleArn": lb.roleARN}
		put(adv, "testListenerRule", lb.testRule)
		o["advancedConfiguration"] = adv
	}
	return o
}

func (s *service) describe() obj {
	o := obj{
		"serviceArn": s.arn, "serviceName": s.name, "clusterArn": s.cluster.arn, "status": "ACTIVE",
		"taskDefinition": taskDefARN(s, s.taskDef), "desiredCount": s.desired, "runningCount": s.desired, "pendingCount": 0,
		"launchType": s.launchType, "createdAt": epoch(s.created), "createdBy": s.createdBy, "schedulingStrategy": "REPLICA",
		"deploymentConfiguration": s.cfg.describe(), "deploymentController": obj{"type": "ECS"},
		"loadBalancers": []obj{}, "events": []obj{},
	}
	if s.lb != nil {
		o["loadBalancers"] = []obj{s.lb.describe(s.lb.targetGroup)}
	}
	var deps []obj
	if d := s.active(); d != nil {
		o["currentServiceDeployment"] = d.arn
		deps = append(deps, obj{"id": "ecs-svc/" + d.id, "status": "PRIMARY", "taskDefinition": taskDefARN(s, d.target.taskDef),
			"rolloutState": "IN_PROGRESS", "desiredCount": s.desired, "runningCount": s.desired, "createdAt": epoch(d.created), "updatedAt": epoch(d.updated)})
	} else if n := len(s.deployments); n > 0 {
		o["currentServiceDeployment"] = s.deployments[n-1].arn
	}
	if s.current != nil {
		deps = append(deps, obj{"id": "ecs-svc/" + s.current.id, "status": "ACTIVE", "taskDefinition": taskDefARN(s, s.current.taskDef),
			"rolloutState": "COMPLETED", "desiredCount": s.desired, "runningCount": s.desired, "createdAt": epoch(s.current.created)})
		o["currentServiceRevisions"] = []obj{{"arn": s.current.arn, "requestedTaskCount": s.desired, "runningTaskCount": s.desired, "pendingTaskCount": 0}}
	}
	if len(deps) > 0 && deps[0]["status"] == "ACTIVE" {
		deps[0]["status"] = "PRIMARY"
	}
	o["deployments"] = nonNilObjs(deps)
	return o
}

// taskDefARN expands family:revision into a task definition ARN.
func taskDefARN(s *service, td string) string {
	return "arn:aws:ecs:" + s.regionAccount() + ":task-definition/" + td
}

func (r *revision) describe() obj {
	s := r.svc
	o := obj{"serviceRevisionArn": r.arn, "serviceArn": s.arn, "clusterArn": s.cluster.arn, "taskDefinition": taskDefARN(s, r.taskDef),
		"launchType": s.launchType, "createdAt": epoch(r.created), "loadBalancers": []obj{}, "guardDutyEnabled": false,
		"containerImages": []obj{{"containerName": s.name, "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + r.taskDef}}}
	if s.lb != nil && r.tg != "" {
		o["loadBalancers"] = []obj{s.lb.describe(r.tg)}
	}
	return o
}

func (d *deployment) brief() obj {
	o := obj{"serviceDeploymentArn": d.arn, "serviceArn": d.svc.arn, "clusterArn": d.svc.cluster.arn, "status": d.status,
		"createdAt": epoch(d.created), "startedAt": epoch(d.started), "targetServiceRevisionArn": d.target.arn}
	put(o, "finishedAt", epoch(d.finished))
	put(o, "statusReason", d.reason)
	return o
}

func (d *deployment) describe() obj {
	o := obj{"serviceDeploymentArn": d.arn, "serviceArn": d.svc.arn, "clusterArn": d.svc.cluster.arn, "status": d.status,
		"createdAt": epoch(d.created), "startedAt": epoch(d.started), "updatedAt": epoch(d.updated),
		"deploymentConfiguration": d.cfg.describe(), "sourceServiceRevisions": []obj{},
		"deploymentCircuitBreaker": obj{"status": "DISABLED", "failureCount": 0, "threshold": 0}}
	put(o, "finishedAt", epoch(d.finished))
	put(o, "stoppedAt", epoch(d.stopped))
	put(o, "statusReason", d.reason)
	put(o, "lifecycleStage", d.stage)
	desired := d.svc.desired
	o["targetServiceRevision"] = obj{"arn": d.target.arn, "requestedTaskCount": desired, "runningTaskCount": desired, "pendingTaskCount": 0,
		"requestedProductionTrafficWeight": d.pct, "requestedTestTrafficWeight": 100.0}
	if d.source != nil {
		o["sourceServiceRevisions"] = []obj{{"arn": d.source.arn, "requestedTaskCount": desired, "runningTaskCount": desired, "pendingTaskCount": 0,
			"requestedProductionTrafficWeight": 100 - d.pct, "requestedTestTrafficWeight": 0.0}}
	}
	if len(d.cfg.alarms) > 0 {
		status := "MONITORING"
		switch {
		case len(d.triggered) > 0:
			status = "TRIGGERED"
		case d.monitorDone:
			status = "MONITORING_COMPLETE"
		}
		o["alarms"] = obj{"alarmNames": d.cfg.alarms, "status": status, "triggeredAlarmNames": nonNil(d.triggered)}
	}
	if !d.rbStarted.IsZero() && d.source != nil {
		o["rollback"] = obj{"reason": d.rbReason, "startedAt": epoch(d.rbStarted), "serviceRevisionArn": d.source.arn}
	}
	if h := d.hook; h != nil && h.id != "" {
		o["lifecycleHookDetails"] = []obj{{"hookId": h.id, "targetArn": h.targetARN, "targetType": "PAUSE",
			"status": "AWAITING_ACTION", "expiresAt": epoch(h.expires), "timeoutAction": h.timeoutAction}}
	}
	return o
}
