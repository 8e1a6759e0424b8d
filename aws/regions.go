package aws

import (
	"context"
	"fmt"
	"sort"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	acctypes "github.com/aws/aws-sdk-go-v2/service/account/types"
)

type regionLister interface {
	ListRegions(ctx context.Context, in *account.ListRegionsInput, optFns ...func(*account.Options)) (*account.ListRegionsOutput, error)
}

// EnabledRegions lists the regions the account can use (enabled by
// default or opted in), sorted: what --all-regions scans.
func EnabledRegions(ctx context.Context, cfg awssdk.Config) ([]string, error) {
	return enabledRegions(ctx, account.NewFromConfig(cfg))
}

func enabledRegions(ctx context.Context, api regionLister) ([]string, error) {
	var out []string
	for token := ""; ; {
		in := &account.ListRegionsInput{RegionOptStatusContains: []acctypes.RegionOptStatus{
			acctypes.RegionOptStatusEnabled, acctypes.RegionOptStatusEnabledByDefault,
		}}
		if token != "" {
			in.NextToken = awssdk.String(token)
		}
		page, err := api.ListRegions(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list the account's regions: %w", err)
		}
		for _, r := range page.Regions {
			out = append(out, awssdk.ToString(r.RegionName))
		}
		if token = awssdk.ToString(page.NextToken); token == "" {
			break
		}
	}
	sort.Strings(out)
	return out, nil
}
