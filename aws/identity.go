package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/perch-dev/perch/model"
)

type stsAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Identity says who the configured credentials belong to, for the header
// and for attributing audit entries.
type Identity struct {
	api stsAPI
}

// NewIdentity builds an STS-backed identity reader.
func NewIdentity(cfg awssdk.Config) *Identity {
	return &Identity{api: sts.NewFromConfig(cfg)}
}

// CallerIdentity calls STS GetCallerIdentity, which needs no IAM permission,
// so a failure here means the credentials themselves are unusable.
func (i *Identity) CallerIdentity(ctx context.Context) (model.Identity, error) {
	out, err := i.api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return model.Identity{}, fmt.Errorf("get caller identity: %w", err)
	}
	return model.Identity{
		ARN:     awssdk.ToString(out.Arn),
		UserID:  awssdk.ToString(out.UserId),
		Account: awssdk.ToString(out.Account),
	}, nil
}
