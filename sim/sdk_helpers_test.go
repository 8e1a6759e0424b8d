package sim_test

import (
	"errors"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// forward is a forward action with the weights, by target group ARN.
func forward(weights map[string]int32) []types.Action {
	arns := make([]string, 0, len(weights))
	for arn := range weights {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	var tgs []types.TargetGroupTuple
	for _, arn := range arns {
		tgs = append(tgs, types.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(weights[arn])})
	}
	return []types.Action{{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{TargetGroups: tgs}}}
}

// wantCode fails unless err is an AWS API error with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}
