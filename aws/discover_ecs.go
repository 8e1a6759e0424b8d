package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/perch-dev/perch/model"
)

type discoverECS interface {
	ListClusters(ctx context.Context, in *ecs.ListClustersInput, optFns ...func(*ecs.Options)) (*ecs.ListClustersOutput, error)
	ListServices(ctx context.Context, in *ecs.ListServicesInput, optFns ...func(*ecs.Options)) (*ecs.ListServicesOutput, error)
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
}

// Limits of the ECS calls a scan makes.
const (
	describeServicesBatch    = 10 // DescribeServices services
	describeDeploymentsBatch = 20 // DescribeServiceDeployments serviceDeploymentArns
)

// scanECS: every cluster's services (listed, then described ten a call);
// for those whose strategy shifts traffic through an advanced
// configuration, their deployments in progress, described twenty a call.
func (s *Scanner) scanECS(ctx context.Context) ([]model.Found, error) {
	var clusters []string
	for token := ""; ; {
		out, err := s.ecs.ListClusters(ctx, &ecs.ListClustersInput{NextToken: optString(token)})
		if err != nil {
			return nil, fmt.Errorf("scan %s: list clusters: %w", s.region, err)
		}
		clusters = append(clusters, out.ClusterArns...)
		if token = awssdk.ToString(out.NextToken); token == "" {
			break
		}
	}
	var arns []string
	owned := map[string][]string{} // service ARN: its two target groups' names
	for _, c := range clusters {
		more, err := s.ecsDeployments(ctx, c, owned)
		if err != nil {
			return nil, err
		}
		arns = append(arns, more...)
	}
	var found []model.Found
	for lo := 0; lo < len(arns); lo += describeDeploymentsBatch {
		out, err := s.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: arns[lo:min(lo+describeDeploymentsBatch, len(arns))]})
		if err != nil {
			return nil, fmt.Errorf("scan %s: describe service deployments: %w", s.region, err)
		}
		for _, d := range out.ServiceDeployments {
			f := foundECS(d, s.region)
			f.TargetGroups = owned[awssdk.ToString(d.ServiceArn)]
			found = append(found, f)
		}
	}
	s.progress(model.ScanProgress{Region: s.region, Stage: "ECS deployments", Done: len(found), Total: len(arns)})
	return found, nil
}

// ecsDeployments lists the deployments in progress of a cluster's
// services that shift traffic by themselves, and notes in owned the
// target groups each such service moves traffic between.
func (s *Scanner) ecsDeployments(ctx context.Context, cluster string, owned map[string][]string) ([]string, error) {
	var services []string
	for token := ""; ; {
		out, err := s.ecs.ListServices(ctx, &ecs.ListServicesInput{Cluster: awssdk.String(cluster), NextToken: optString(token)})
		if err != nil {
			return nil, fmt.Errorf("scan %s: list services of %s: %w", s.region, cluster, err)
		}
		services = append(services, out.ServiceArns...)
		if token = awssdk.ToString(out.NextToken); token == "" {
			break
		}
	}
	var arns []string
	for lo := 0; lo < len(services); lo += describeServicesBatch {
		out, err := s.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: awssdk.String(cluster), Services: services[lo:min(lo+describeServicesBatch, len(services))]})
		if err != nil {
			return nil, fmt.Errorf("scan %s: describe services of %s: %w", s.region, cluster, err)
		}
		for _, svc := range out.Services {
			c := svc.DeploymentConfiguration
			lb, ok := advancedLB(svc.LoadBalancers)
			if !ok || c == nil || c.Strategy == "" || c.Strategy == ecstypes.DeploymentStrategyRolling {
				continue
			}
			list, err := s.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: awssdk.String(cluster), Service: svc.ServiceArn, Status: ecsActive})
			if err != nil {
				return nil, fmt.Errorf("scan %s: list service deployments of %s: %w", s.region, awssdk.ToString(svc.ServiceName), err)
			}
			for _, b := range list.ServiceDeployments {
				arns = append(arns, awssdk.ToString(b.ServiceDeploymentArn))
			}
			owned[awssdk.ToString(svc.ServiceArn)] = []string{
				tgNameFromARN(awssdk.ToString(lb.TargetGroupArn)),
				tgNameFromARN(awssdk.ToString(lb.AdvancedConfiguration.AlternateTargetGroupArn)),
			}
		}
	}
	return arns, nil
}

func foundECS(d ecstypes.ServiceDeployment, region string) model.Found {
	arn := awssdk.ToString(d.ServiceDeploymentArn)
	f := model.Found{Kind: model.KindECS, Region: region, ID: arn, DeploymentID: arn, Status: string(d.Status),
		Name: lastPart(awssdk.ToString(d.ClusterArn)) + "/" + lastPart(awssdk.ToString(d.ServiceArn))}
	if d.UpdatedAt != nil {
		f.Changed = *d.UpdatedAt
	}
	if r := d.TargetServiceRevision; r != nil && r.RequestedProductionTrafficWeight != nil {
		pct := *r.RequestedProductionTrafficWeight
		f.CanaryPercent = &pct
		f.Sides = []model.FoundSide{{Name: "source", Weight: 100 - pct}, {Name: "target", Weight: pct}}
	}
	return f
}
