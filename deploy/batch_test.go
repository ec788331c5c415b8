package deploy

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/ecs-audit/audit/internal/mototest"
)

// batch.yaml deploys into moto_server through CloudFormation: the Fargate
// compute environment, the job queue and both job definitions exist as the
// template says, the shard job is an array-ready `audit scan --shard
// auto/N` writing under shard-{shard}/ of the run's prefix, and the merge
// reads exactly the N prefixes. (moto does not run the containers.)
func TestBatchTemplateDeploysIntoMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	srv := mototest.Start(t)
	mototest.Env(t, srv.URL)
	ctx := context.Background()
	cfg := check[aws.Config](t, "load config")(config.LoadDefaultConfig(ctx))

	// A VPC for the compute environment.
	ec := ec2.NewFromConfig(cfg)
	vpc := check[*ec2.CreateVpcOutput](t, "CreateVpc")(ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")}))
	subnet := check[*ec2.CreateSubnetOutput](t, "CreateSubnet")(ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24")}))
	sg := check[*ec2.CreateSecurityGroupOutput](t, "CreateSecurityGroup")(ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		VpcId: vpc.Vpc.VpcId, GroupName: aws.String("audit"), Description: aws.String("audit jobs")}))

	// Batch's service-linked role, which exists in an account that has
	// used Batch (the template names it). moto's CreateServiceLinkedRole
	// names it AWSServiceRoleForbatch, not AWS's AWSServiceRoleForBatch,
	// so the test creates it under AWS's name and path.
	check[*iam.CreateRoleOutput](t, "CreateRole AWSServiceRoleForBatch")(iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("AWSServiceRoleForBatch"), Path: aws.String("/aws-service-role/batch.amazonaws.com/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"batch.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}))

	cf := cloudformation.NewFromConfig(cfg)
	params := map[string]string{
		"Image": mototest.Management + ".dkr.ecr.us-east-1.amazonaws.com/audit:v1.0.0", "Subnets": aws.ToString(subnet.Subnet.SubnetId),
		"SecurityGroups": aws.ToString(sg.GroupId), "ReportsBucket": "audit-reports-test", "ExternalId": externalID,
	}
	check[*cloudformation.CreateStackOutput](t, "CreateStack batch")(cf.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName: aws.String("audit-batch"), TemplateBody: aws.String(templateBody(t, "batch.yaml")),
		Parameters: cfParams(params), Capabilities: []cftypes.Capability{cftypes.CapabilityCapabilityIam},
	}))
	outputs := waitStack(t, ctx, cf, "audit-batch")

	bc := batch.NewFromConfig(cfg)
	queues := check[*batch.DescribeJobQueuesOutput](t, "DescribeJobQueues")(bc.DescribeJobQueues(ctx, &batch.DescribeJobQueuesInput{JobQueues: []string{outputs["JobQueueArn"]}}))
	if len(queues.JobQueues) != 1 || aws.ToString(queues.JobQueues[0].JobQueueName) != "audit" || len(queues.JobQueues[0].ComputeEnvironmentOrder) != 1 {
		t.Fatalf("job queue %+v", queues.JobQueues)
	}
	ceArn := aws.ToString(queues.JobQueues[0].ComputeEnvironmentOrder[0].ComputeEnvironment)
	ces := check[*batch.DescribeComputeEnvironmentsOutput](t, "DescribeComputeEnvironments")(bc.DescribeComputeEnvironments(ctx, &batch.DescribeComputeEnvironmentsInput{ComputeEnvironments: []string{ceArn}}))
	if len(ces.ComputeEnvironments) != 1 || ces.ComputeEnvironments[0].ComputeResources == nil || ces.ComputeEnvironments[0].ComputeResources.Type != batchtypes.CRTypeFargate {
		t.Fatalf("compute environment %+v", ces.ComputeEnvironments)
	}
	def := func(arn string) batchtypes.JobDefinition {
		out := check[*batch.DescribeJobDefinitionsOutput](t, "DescribeJobDefinitions")(bc.DescribeJobDefinitions(ctx, &batch.DescribeJobDefinitionsInput{JobDefinitions: []string{arn}}))
		if len(out.JobDefinitions) != 1 || out.JobDefinitions[0].ContainerProperties == nil {
			t.Fatalf("job definition %s: %+v", arn, out.JobDefinitions)
		}
		return out.JobDefinitions[0]
	}
	shard, merge := def(outputs["ShardJobDefinitionArn"]), def(outputs["MergeJobDefinitionArn"])
	for _, d := range []batchtypes.JobDefinition{shard, merge} {
		cp := d.ContainerProperties
		// moto keeps neither PlatformCapabilities nor JobDefinitionName
		// (it names the definition after the resource).
		if aws.ToString(cp.Image) != params["Image"] || aws.ToString(cp.JobRoleArn) != outputs["JobRoleArn"] || aws.ToString(cp.ExecutionRoleArn) == "" {
			t.Errorf("%s: image %s, job role %s, execution role %s, platforms %v", aws.ToString(d.JobDefinitionName), aws.ToString(cp.Image),
				aws.ToString(cp.JobRoleArn), aws.ToString(cp.ExecutionRoleArn), d.PlatformCapabilities)
		}
	}
	cmd := shard.ContainerProperties.Command
	flag := func(args []string, name string) string {
		i := slices.Index(args, name)
		if i < 0 || i+1 >= len(args) {
			return ""
		}
		return args[i+1]
	}
	shardFlag := flag(cmd, "--shard")
	n := strings.TrimPrefix(shardFlag, "auto/")
	out := flag(cmd, "--out")
	if cmd[0] != "scan" || !slices.Contains(cmd, "--org") || n == shardFlag || !strings.HasPrefix(out, "s3://audit-reports-test/") || !strings.Contains(out, "{shard}") || !strings.Contains(out, "Ref::run") {
		t.Errorf("shard command %q", cmd)
	}
	mc := merge.ContainerProperties.Command
	var parts []string
	for _, a := range mc[1:] {
		if strings.HasPrefix(a, "--") {
			break
		}
		parts = append(parts, a)
	}
	var want []string
	for k := range len(parts) {
		want = append(want, strings.ReplaceAll(out, "{shard}", string(rune('0'+k))))
	}
	if mc[0] != "merge" || len(parts) == 0 || n != string(rune('0'+len(parts))) || !slices.Equal(parts, want) {
		t.Errorf("merge command %q: want the %s prefixes of %q", mc, n, out)
	}
	for _, d := range []batchtypes.JobDefinition{shard, merge} {
		if d.Parameters["run"] == "" {
			t.Errorf("%s: no default run parameter", aws.ToString(d.JobDefinitionName))
		}
	}
}
