package aws

import (
	"context"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Batch limits of what opening an ALB target reads.
const (
	maxTargetGroupsPerCall = 20 // DescribeTargetGroups TargetGroupArns
	maxTagResourcesPerCall = 20 // DescribeTags ResourceArns
)

// ReadOpen reads what opening many ALB rule targets needs, in the fewest
// calls: their rules (400 a call), the target groups those forward to (20
// a call) and the rules' tags, where the rollout marker lives (20 a call):
// about 77 calls for 500 targets instead of 1,500. The routers being
// opened take their entries from the batch in their context (each rule
// and tag set once, as in a poll); what it lacks they read themselves.
func (b *PollReader) ReadOpen(ctx context.Context, ruleARNs []string) *PollBatch {
	pb := newPollBatch()
	b.readRules(ctx, pb, unique(ruleARNs))
	var tgs []string
	for _, ru := range pb.rules {
		for _, a := range ru.Actions {
			for _, t := range forwardTuples(a) {
				tgs = append(tgs, t.arn)
			}
		}
	}
	b.readTargetGroups(ctx, pb, unique(tgs))
	b.readTags(ctx, pb, unique(ruleARNs))
	return pb
}

func (b *PollReader) readTargetGroups(ctx context.Context, pb *PollBatch, arns []string) {
	for lo := 0; lo < len(arns); lo += maxTargetGroupsPerCall {
		chunk := arns[lo:min(lo+maxTargetGroupsPerCall, len(arns))]
		out, err := b.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: chunk})
		if err != nil {
			continue // each router asks for its own, and names what is wrong
		}
		for _, g := range out.TargetGroups {
			pb.groups[awssdk.ToString(g.TargetGroupArn)] = awssdk.ToString(g.TargetGroupName)
		}
	}
}

func (b *PollReader) readTags(ctx context.Context, pb *PollBatch, arns []string) {
	for lo := 0; lo < len(arns); lo += maxTagResourcesPerCall {
		chunk := arns[lo:min(lo+maxTagResourcesPerCall, len(arns))]
		out, err := b.elb.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: chunk})
		if err != nil {
			continue // each router reads its own marker, and says why not
		}
		for _, a := range chunk {
			pb.tags[a] = nil // asked: no tags is an answer too
		}
		for _, d := range out.TagDescriptions {
			pb.tags[awssdk.ToString(d.ResourceArn)] = d.Tags
		}
	}
}

// batchedGroupNames are the names of arns from ctx's batch; ok is false
// unless it has every one.
func batchedGroupNames(ctx context.Context, arns []string) ([]string, bool) {
	b := pollBatchFrom(ctx)
	if b == nil {
		return nil, false
	}
	names := make([]string, len(arns))
	for i, a := range arns {
		n, ok := b.groups[a]
		if !ok {
			return nil, false
		}
		names[i] = n
	}
	return names, true
}

// batchedTags is the tag set of arn from ctx's batch, given out once.
func batchedTags(ctx context.Context, arn string) ([]elbtypes.Tag, bool) {
	b := pollBatchFrom(ctx)
	if b == nil {
		return nil, false
	}
	tags, ok := b.tags[arn]
	if !ok || !b.take("tags:"+arn) {
		return nil, false
	}
	return tags, true
}
