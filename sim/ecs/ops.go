package ecs

import (
	"sort"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
)

// The operations: reads of clusters, services, revisions and deployments,
// and the writes that start, stop and continue deployments.

func (e *Service) createCluster(body []byte) (any, *awsproto.Error) {
	var in struct {
		ClusterName string `json:"clusterName"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	if in.ClusterName == "" {
		in.ClusterName = "default"
	}
	if !validName(in.ClusterName) {
		return nil, invalid("Cluster name must be 1-255 letters, numbers, hyphens and underscores.")
	}
	return obj{"cluster": e.addCluster(in.ClusterName, e.now).describe()}, nil
}

func (e *Service) listClusters(body []byte) (any, *awsproto.Error) {
	var arns []string
	for _, name := range awsproto.SortedKeys(e.clusters) {
		arns = append(arns, e.clusters[name].arn)
	}
	return obj{"clusterArns": nonNil(arns)}, nil
}

func (e *Service) listServices(body []byte) (any, *awsproto.Error) {
	var in struct {
		Cluster string `json:"cluster"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	c, aerr := e.findCluster(in.Cluster)
	if aerr != nil {
		return nil, aerr
	}
	var arns []string
	for _, name := range awsproto.SortedKeys(c.services) {
		arns = append(arns, c.services[name].arn)
	}
	return obj{"serviceArns": nonNil(arns)}, nil
}

func (e *Service) describeServices(body []byte) (any, *awsproto.Error) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, invalid("services must hold 1 to 10 names or ARNs.")
	}
	c, aerr := e.findCluster(in.Cluster)
	if aerr != nil {
		return nil, aerr
	}
	services, failures := []obj{}, []obj{}
	for _, ref := range in.Services {
		s, aerr := e.findService(c, ref)
		if aerr != nil {
			failures = append(failures, obj{"arn": ref, "reason": "MISSING"})
			continue
		}
		services = append(services, s.describe())
	}
	return obj{"services": services, "failures": failures}, nil
}

func (e *Service) listServiceDeployments(body []byte) (any, *awsproto.Error) {
	var in struct {
		Cluster    string   `json:"cluster"`
		Service    string   `json:"service"`
		Status     []string `json:"status"`
		MaxResults int      `json:"maxResults"`
		NextToken  string   `json:"nextToken"`
		CreatedAt  *struct {
			After  *float64 `json:"after"`
			Before *float64 `json:"before"`
		} `json:"createdAt"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	c, aerr := e.findCluster(in.Cluster)
	if aerr != nil {
		return nil, aerr
	}
	s, aerr := e.findService(c, in.Service)
	if aerr != nil {
		return nil, aerr
	}
	want := map[string]bool{}
	for _, st := range in.Status {
		want[st] = true
	}
	// Newest first.
	ds := append([]*deployment(nil), s.deployments...)
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].created.After(ds[j].created) })
	var out []obj
	for _, d := range ds {
		if len(want) > 0 && !want[d.status] {
			continue
		}
		if in.CreatedAt != nil && !inRange(d.created, in.CreatedAt.After, in.CreatedAt.Before) {
			continue
		}
		out = append(out, d.brief())
	}
	return page(out, in.MaxResults, in.NextToken, "serviceDeployments")
}

func inRange(t time.Time, after, before *float64) bool {
	sec := float64(t.UnixMilli()) / 1000
	return (after == nil || sec > *after) && (before == nil || sec < *before)
}

func (e *Service) describeServiceDeployments(body []byte) (any, *awsproto.Error) {
	var in struct {
		ARNs []string `json:"serviceDeploymentArns"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	if len(in.ARNs) == 0 || len(in.ARNs) > maxDescribe {
		return nil, invalid("serviceDeploymentArns must hold 1 to %d ARNs.", maxDescribe)
	}
	out, failures := []obj{}, []obj{}
	for _, arn := range in.ARNs {
		d := e.byARN[arn]
		if d == nil {
			failures = append(failures, obj{"arn": arn, "reason": "MISSING"})
			continue
		}
		out = append(out, d.describe())
	}
	return obj{"serviceDeployments": out, "failures": failures}, nil
}

func (e *Service) describeServiceRevisions(body []byte) (any, *awsproto.Error) {
	var in struct {
		ARNs []string `json:"serviceRevisionArns"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	if len(in.ARNs) == 0 || len(in.ARNs) > maxDescribe {
		return nil, invalid("serviceRevisionArns must hold 1 to %d ARNs.", maxDescribe)
	}
	out, failures := []obj{}, []obj{}
	for _, arn := range in.ARNs {
		r := e.revisions[arn]
		if r == nil {
			failures = append(failures, obj{"arn": arn, "reason": "MISSING"})
			continue
		}
		out = append(out, r.describe())
	}
	return obj{"serviceRevisions": out, "failures": failures}, nil
}

func (e *Service) stopServiceDeployment(body []byte) (any, *awsproto.Error) {
	var in struct {
		ARN      string `json:"serviceDeploymentArn"`
		StopType string `json:"stopType"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	d, aerr := e.findDeployment(in.ARN)
	if aerr != nil {
		return nil, aerr
	}
	switch in.StopType {
	case "":
		in.StopType = "ROLLBACK"
	case "ROLLBACK", "ABORT":
	default:
		return nil, invalid("stopType must be ROLLBACK or ABORT.")
	}
	switch {
	case d.terminal():
		return nil, errf("ConflictException", "The service deployment %s is %s and cannot be stopped.", d.arn, d.status)
	case d.rollingBack():
		return nil, errf("ConflictException", "The service deployment %s is already %s.", d.arn, d.status)
	case d.stage == "" && in.StopType == "ROLLBACK":
		return nil, errf("UnsupportedFeatureException", "Rollback is only supported for service deployments with a BLUE_GREEN, CANARY or LINEAR strategy.")
	}
	e.stop(d, in.StopType, e.now)
	return obj{"serviceDeploymentArn": d.arn}, nil
}

func (e *Service) continueServiceDeployment(body []byte) (any, *awsproto.Error) {
	var in struct {
		ARN    string `json:"serviceDeploymentArn"`
		HookID string `json:"hookId"`
		Action string `json:"action"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	d, aerr := e.findDeployment(in.ARN)
	if aerr != nil {
		return nil, aerr
	}
	switch {
	case in.HookID == "":
		return nil, invalid("hookId can not be blank.")
	case in.Action == "":
		in.Action = "CONTINUE"
	case in.Action != "CONTINUE" && in.Action != "ROLLBACK":
		return nil, invalid("action must be CONTINUE or ROLLBACK.")
	}
	switch {
	case d.status != stInProgress:
		return nil, errf("ConflictException", "The service deployment %s is %s, not IN_PROGRESS.", d.arn, d.status)
	case d.hook == nil || d.hook.id != in.HookID:
		return nil, invalid("The lifecycle hook %s is not awaiting action on service deployment %s.", in.HookID, d.arn)
	}
	if in.Action == "ROLLBACK" {
		e.rollback(d, e.now, "Service deployment rolled back by ContinueServiceDeployment (ROLLBACK) at lifecycle hook "+in.HookID+".")
	} else {
		d.hook = nil
		e.resume(d, e.now)
	}
	return obj{"serviceDeploymentArn": d.arn}, nil
}

// page cuts out one page of a list; the token is the index to go on from.
func page(all []obj, max int, token, key string) (any, *awsproto.Error) {
	if max <= 0 || max > 100 {
		max = 20
	}
	from := 0
	if token != "" {
		n, err := parseToken(token)
		if err != nil || n > len(all) {
			return nil, invalid("Invalid nextToken.")
		}
		from = n
	}
	to := min(len(all), from+max)
	out := obj{key: nonNilObjs(all[from:to])}
	if to < len(all) {
		out["nextToken"] = makeToken(to)
	}
	return out, nil
}
