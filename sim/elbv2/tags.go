package elbv2

import (
	"sort"
	"strings"

	"github.com/perch-dev/perch/sim/awsproto"
)

// ELBv2 tags, as AWS keeps them: per resource ARN (load balancers,
// listeners, listener rules, target groups), at most 50 per resource, keys
// 1-128 characters not starting with "aws:", values up to 256. perch keeps
// its rollout marker here.
const (
	maxTagsPerResource = 50
	maxTagResources    = 20
	maxTagKeyLen       = 128
	maxTagValueLen     = 256
)

// tagResource checks that arn names an existing resource and returns the
// error AWS gives for a missing one of its kind.
func (e *Service) tagResource(arn string) *awsproto.Error {
	switch {
	case strings.Contains(arn, ":listener-rule/"):
		if err := checkARN("listener-rule", arn); err != nil {
			return err
		}
		if e.ruleByARN[arn] == nil && e.defaultRuleOf(arn) == nil {
			return awsproto.SenderErr("RuleNotFound", "One or more rules not found: '%s'", arn)
		}
		return nil
	case strings.Contains(arn, ":listener/"):
		_, err := e.findListener(arn)
		return err
	case strings.Contains(arn, ":targetgroup/"):
		_, err := e.findTG(arn)
		return err
	case strings.Contains(arn, ":loadbalancer/"):
		_, err := e.findLB(arn)
		return err
	}
	return awsproto.ValidationErr("'%s' is not a valid Elastic Load Balancing resource ARN", arn)
}

func (e *Service) resourceARNs(t *awsproto.Node) ([]string, *awsproto.Error) {
	arns := t.Strings("ResourceArns")
	if len(arns) == 0 {
		return nil, awsproto.ValidationErr("ResourceArns is required")
	}
	if len(arns) > maxTagResources {
		return nil, awsproto.ValidationErr("1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to %d", maxTagResources)
	}
	for _, a := range arns {
		if err := e.tagResource(a); err != nil {
			return nil, err
		}
	}
	return arns, nil
}

func (e *Service) addTags(t *awsproto.Node) (string, *awsproto.Error) {
	arns, err := e.resourceARNs(t)
	if err != nil {
		return "", err
	}
	members := t.List("Tags")
	if len(members) == 0 {
		return "", awsproto.ValidationErr("Tags is required")
	}
	add := map[string]string{}
	for _, m := range members {
		k, v := m.Str("Key"), m.Str("Value")
		switch {
		case k == "" || len(k) > maxTagKeyLen:
			return "", awsproto.ValidationErr("Tag key '%s' must be between 1 and %d characters", k, maxTagKeyLen)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return "", awsproto.ValidationErr("Tag keys starting with 'aws:' are reserved for internal use")
		case len(v) > maxTagValueLen:
			return "", awsproto.ValidationErr("Tag value for key '%s' must be at most %d characters", k, maxTagValueLen)
		}
		if _, dup := add[k]; dup {
			return "", awsproto.SenderErr("DuplicateTagKeys", "Tag key was specified more than once: %s", k)
		}
		add[k] = v
	}
	for _, a := range arns {
		n := len(e.tags[a])
		for k := range add {
			if _, ok := e.tags[a][k]; !ok {
				n++
			}
		}
		if n > maxTagsPerResource {
			return "", awsproto.SenderErr("TooManyTags", "The quota for the number of tags that can be assigned to '%s' has been reached (%d)", a, maxTagsPerResource)
		}
	}
	for _, a := range arns {
		if e.tags[a] == nil {
			e.tags[a] = map[string]string{}
		}
		for k, v := range add {
			e.tags[a][k] = v
		}
	}
	return "", nil
}

func (e *Service) removeTags(t *awsproto.Node) (string, *awsproto.Error) {
	arns, err := e.resourceARNs(t)
	if err != nil {
		return "", err
	}
	keys := t.Strings("TagKeys")
	if len(keys) == 0 {
		return "", awsproto.ValidationErr("TagKeys is required")
	}
	for _, a := range arns {
		for _, k := range keys {
			delete(e.tags[a], k)
		}
	}
	return "", nil
}

func (e *Service) describeTags(t *awsproto.Node) (string, *awsproto.Error) {
	arns, err := e.resourceARNs(t)
	if err != nil {
		return "", err
	}
	var x awsproto.XMLWriter
	x.Open("TagDescriptions")
	for _, a := range arns {
		x.Open("member")
		x.Elem("ResourceArn", a)
		x.Open("Tags")
		keys := make([]string, 0, len(e.tags[a]))
		for k := range e.tags[a] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			x.Open("member")
			x.Elem("Key", k)
			x.Elem("Value", e.tags[a][k])
			x.Close("member")
		}
		x.Close("Tags")
		x.Close("member")
	}
	x.Close("TagDescriptions")
	return x.String(), nil
}
