package aws

import (
	"context"
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/perch-dev/perch/model"
)

// The rollout marker's tag keys, on the listener rule (or, for a default
// action, the listener) for the length of a rollout. docs/iam.md lists the
// actions they need; README.md documents them for operators.
const (
	MarkerCanaryKey  = "perch:rollout:canary"  // the canary's target group ARN
	MarkerStableKey  = "perch:rollout:stable"  // the stable side's target group ARN
	MarkerStartedKey = "perch:rollout:started" // RFC 3339, UTC
	MarkerByKey      = "perch:rollout:by"      // who began the rollout
)

var markerKeys = []string{MarkerCanaryKey, MarkerStableKey, MarkerStartedKey, MarkerByKey}

// maxTagValue is ELBv2's limit on a tag value.
const maxTagValue = 256

// ReadMarker reads the rollout marker from the rule's tags; ok is false
// when there is none.
func (r *ALBRouter) ReadMarker(ctx context.Context) (m model.RolloutMarker, ok bool, err error) {
	if tags, found := batchedTags(ctx, r.where); found {
		return markerFromTags(tags)
	}
	out, err := r.api.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{r.where}})
	if err != nil {
		return m, false, fmt.Errorf("read the rollout marker on %s: %w", r.describeWhat(), wrapNotFound(err, "rule", r.where))
	}
	for _, d := range out.TagDescriptions {
		if awssdk.ToString(d.ResourceArn) != r.where {
			continue
		}
		return markerFromTags(d.Tags)
	}
	return m, false, nil
}

func markerFromTags(tags []elbtypes.Tag) (model.RolloutMarker, bool, error) {
	var m model.RolloutMarker
	for _, t := range tags {
		v := awssdk.ToString(t.Value)
		switch awssdk.ToString(t.Key) {
		case MarkerCanaryKey:
			m.Canary = v
		case MarkerStableKey:
			m.Stable = v
		case MarkerStartedKey:
			// A marker with an unreadable time still names the canary:
			// keep it, with no start.
			m.Started, _ = time.Parse(time.RFC3339, v)
		case MarkerByKey:
			m.By = v
		}
	}
	return m, m.Canary != "", nil
}

// WriteMarker tags the rule with m, replacing any marker there.
func (r *ALBRouter) WriteMarker(ctx context.Context, m model.RolloutMarker) error {
	tags := []elbtypes.Tag{
		{Key: awssdk.String(MarkerCanaryKey), Value: awssdk.String(m.Canary)},
		{Key: awssdk.String(MarkerStableKey), Value: awssdk.String(m.Stable)},
		{Key: awssdk.String(MarkerStartedKey), Value: awssdk.String(m.Started.UTC().Format(time.RFC3339))},
	}
	if m.By != "" {
		by := m.By
		if len(by) > maxTagValue {
			by = by[:maxTagValue]
		}
		tags = append(tags, elbtypes.Tag{Key: awssdk.String(MarkerByKey), Value: awssdk.String(by)})
	}
	if _, err := r.api.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{r.where}, Tags: tags}); err != nil {
		return fmt.Errorf("write the rollout marker on %s: %w", r.describeWhat(), wrapNotFound(err, "rule", r.where))
	}
	if m.By == "" {
		// A marker from an earlier rollout may still name its author.
		if _, err := r.api.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{r.where}, TagKeys: []string{MarkerByKey}}); err != nil {
			return fmt.Errorf("write the rollout marker on %s: %w", r.describeWhat(), err)
		}
	}
	return nil
}

// ClearMarker removes the marker: the rollout has ended.
func (r *ALBRouter) ClearMarker(ctx context.Context) error {
	if _, err := r.api.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{r.where}, TagKeys: markerKeys}); err != nil {
		return fmt.Errorf("remove the rollout marker from %s: %w", r.describeWhat(), wrapNotFound(err, "rule", r.where))
	}
	return nil
}

// ChooseCanary makes the side with this target group ARN the canary: the
// operator's answer when perch could only guess.
func (r *ALBRouter) ChooseCanary(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch id {
	case r.target.CanaryARN:
	case r.target.StableARN:
		r.target = r.target.SwapSides()
	default:
		return fmt.Errorf("%s is not one of %s's target groups (%s, %s)", id, r.describeWhat(), r.target.StableARN, r.target.CanaryARN)
	}
	r.target.CanarySource, r.target.CanaryUnconfirmed = model.CanaryConfirmed, ""
	return nil
}
