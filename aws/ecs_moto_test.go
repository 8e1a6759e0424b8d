package aws

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// The ECS adapter against moto 5.2.1, a second implementation of ECS. moto
// implements CreateCluster, CreateService, UpdateService, DescribeServices,
// ListServices and ListClusters, but none of the service deployment calls
// (ListServiceDeployments, DescribeServiceDeployments,
// DescribeServiceRevisions, StopServiceDeployment,
// ContinueServiceDeployment), and it drops a service's
// deploymentConfiguration (DescribeServices returns none, so every service
// reads as ROLLING). What can be checked against it is checked here: the
// lookups and their errors, the load balancer's advancedConfiguration,
// and that perch refuses what it cannot watch. docs/ecs.md lists the rest.

func TestECSMotoLookups(t *testing.T) {
	cfg := motoConfig(t)
	ctx := t.Context()
	api := ecs.NewFromConfig(cfg)
	n := fixtureSeq.Add(1)
	cluster := fmt.Sprintf("prod-%d", n)
	if _, err := api.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: awssdk.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: awssdk.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: awssdk.String("web"), Image: awssdk.String("web:1"), Memory: awssdk.Int32(128)}}}); err != nil {
		t.Fatal(err)
	}
	const prodTG, altTG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-a/1111111111111111", "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-b/2222222222222222"
	_, err := api.CreateService(ctx, &ecs.CreateServiceInput{Cluster: awssdk.String(cluster), ServiceName: awssdk.String("web"),
		TaskDefinition: awssdk.String("web:1"), DesiredCount: awssdk.Int32(1),
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{Strategy: ecstypes.DeploymentStrategyCanary,
			CanaryConfiguration: &ecstypes.CanaryConfiguration{CanaryPercent: awssdk.Float64(10), CanaryBakeTimeInMinutes: awssdk.Int32(5)}},
		LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: awssdk.String(prodTG), ContainerName: awssdk.String("web"), ContainerPort: awssdk.Int32(80),
			AdvancedConfiguration: &ecstypes.AdvancedConfiguration{AlternateTargetGroupArn: awssdk.String(altTG),
				ProductionListenerRule: awssdk.String("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/1/2/3"), RoleArn: awssdk.String("arn:aws:iam::123456789012:role/ecs")}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := &ECSRouter{ecs: api, elb: elbv2.NewFromConfig(cfg), region: "us-east-1"}

	// The advanced configuration round-trips as perch reads it.
	out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: awssdk.String(cluster), Services: []string{"web"}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("describe services: %v %+v", err, out)
	}
	lb, ok := advancedLB(out.Services[0].LoadBalancers)
	if !ok || awssdk.ToString(lb.TargetGroupArn) != prodTG || awssdk.ToString(lb.AdvancedConfiguration.AlternateTargetGroupArn) != altTG {
		t.Fatalf("advanced configuration: %+v", out.Services[0].LoadBalancers)
	}

	// Unknown cluster and service: perch's not-found errors.
	var nf *NotFoundError
	if _, err := r.service(ctx, "nope", "web"); !errors.As(err, &nf) || nf.Kind != "ECS cluster" {
		t.Fatalf("unknown cluster: %v", err)
	}
	if _, err := r.service(ctx, cluster, "nope"); !errors.As(err, &nf) || nf.Kind != "ECS service" {
		t.Fatalf("unknown service: %v", err)
	}
	// moto keeps no deploymentConfiguration: the service reads as ROLLING
	// and perch refuses it, as it would refuse a real ROLLING service.
	if _, err := r.service(ctx, cluster, "web"); err == nil || !strings.Contains(err.Error(), "ROLLING") {
		t.Fatalf("moto's service: %v", err)
	}
	// The deployment calls are not implemented: the error says so and
	// names the call, rather than passing for "no deployment".
	_, err = newECSRouter(ctx, api, r.elb, "us-east-1", ECSOptions{DeploymentARN: "arn:aws:ecs:us-east-1:123456789012:service-deployment/" + cluster + "/web/AbC"})
	if err == nil || !strings.Contains(err.Error(), "describe service deployment") {
		t.Fatalf("DescribeServiceDeployments on moto: %v", err)
	}
}
