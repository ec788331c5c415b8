package scanner

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-audit/audit/inventory"
)

// convertService maps an ECS service; task sets become deployments (their
// task definitions are in use too).
func convertService(s ecstypes.Service) *inventory.Service {
	svc := &inventory.Service{
		ARN:               aws.ToString(s.ServiceArn),
		Name:              aws.ToString(s.ServiceName),
		Status:            aws.ToString(s.Status),
		LaunchType:        string(s.LaunchType),
		CapacityProviders: capacityProviders(s.CapacityProviderStrategy),
		PlatformVersion:   aws.ToString(s.PlatformVersion),
		PlatformFamily:    aws.ToString(s.PlatformFamily),
		TaskDefinition:    aws.ToString(s.TaskDefinition),
		DesiredCount:      s.DesiredCount,
		RunningCount:      s.RunningCount,
		Network:           awsvpcOf(s.NetworkConfiguration),
	}
	for _, d := range s.Deployments {
		svc.Deployments = append(svc.Deployments, inventory.Deployment{
			ID:                aws.ToString(d.Id),
			Status:            aws.ToString(d.Status),
			TaskDefinition:    aws.ToString(d.TaskDefinition),
			LaunchType:        string(d.LaunchType),
			CapacityProviders: capacityProviders(d.CapacityProviderStrategy),
			PlatformVersion:   aws.ToString(d.PlatformVersion),
			Network:           awsvpcOf(d.NetworkConfiguration),
		})
	}
	for _, ts := range s.TaskSets {
		svc.Deployments = append(svc.Deployments, inventory.Deployment{
			ID:                aws.ToString(ts.Id),
			Status:            aws.ToString(ts.Status),
			TaskDefinition:    aws.ToString(ts.TaskDefinition),
			LaunchType:        string(ts.LaunchType),
			CapacityProviders: capacityProviders(ts.CapacityProviderStrategy),
			PlatformVersion:   aws.ToString(ts.PlatformVersion),
			Network:           awsvpcOf(ts.NetworkConfiguration),
		})
	}
	slices.SortStableFunc(svc.Deployments, func(a, b inventory.Deployment) int { return strings.Compare(a.ID, b.ID) })
	return svc
}

func capacityProviders(items []ecstypes.CapacityProviderStrategyItem) []string {
	var out []string
	for _, it := range items {
		if n := aws.ToString(it.CapacityProvider); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// convertInstance maps a container instance.
func convertInstance(ci ecstypes.ContainerInstance) *inventory.ContainerInstance {
	inst := &inventory.ContainerInstance{
		ARN:            aws.ToString(ci.ContainerInstanceArn),
		EC2InstanceID:  aws.ToString(ci.Ec2InstanceId),
		Status:         aws.ToString(ci.Status),
		AgentConnected: ci.AgentConnected,
	}
	if v := ci.VersionInfo; v != nil {
		inst.AgentVersion = aws.ToString(v.AgentVersion)
		inst.AgentHash = aws.ToString(v.AgentHash)
		inst.DockerVersion = aws.ToString(v.DockerVersion)
	}
	inst.Attributes = convertAttributes(ci.Attributes)
	return inst
}

func convertAttributes(attrs []ecstypes.Attribute) []inventory.Attribute {
	var out []inventory.Attribute
	for _, a := range attrs {
		if n := aws.ToString(a.Name); n != "" {
			out = append(out, inventory.Attribute{Name: n, Value: aws.ToString(a.Value)})
		}
	}
	slices.SortFunc(out, func(a, b inventory.Attribute) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return slices.Compact(out)
}

// convertTaskDefinition maps the fields that matter for the execution role.
// Environment values are classified and dropped here; log and FireLens
// option values that look like credentials are redacted.
func convertTaskDefinition(t *ecstypes.TaskDefinition) *inventory.TaskDefinition {
	td := &inventory.TaskDefinition{
		ARN:                     aws.ToString(t.TaskDefinitionArn),
		Family:                  aws.ToString(t.Family),
		Revision:                t.Revision,
		Status:                  string(t.Status),
		ExecutionRoleARN:        aws.ToString(t.ExecutionRoleArn),
		TaskRoleARN:             aws.ToString(t.TaskRoleArn),
		NetworkMode:             string(t.NetworkMode),
		RequiresCompatibilities: compat(t.RequiresCompatibilities),
		Compatibilities:         compat(t.Compatibilities),
		RequiresAttributes:      convertAttributes(t.RequiresAttributes),
		ContainerDefinitions:    []inventory.ContainerDefinition{},
	}
	if ref, ok := parseTaskDefinitionRef(td.ARN); ok {
		// An answer without family or revision still identifies them.
		if td.Family == "" {
			td.Family = ref.family
		}
		if td.Revision == 0 {
			td.Revision = int32(min(ref.revision, 1<<31-1))
		}
	}
	if rp := t.RuntimePlatform; rp != nil && (rp.OperatingSystemFamily != "" || rp.CpuArchitecture != "") {
		td.RuntimePlatform = &inventory.RuntimePlatform{
			OperatingSystemFamily: string(rp.OperatingSystemFamily),
			CPUArchitecture:       string(rp.CpuArchitecture),
		}
	}
	for _, cd := range t.ContainerDefinitions {
		td.ContainerDefinitions = append(td.ContainerDefinitions, convertContainer(cd))
	}
	for _, v := range t.Volumes {
		vol := inventory.Volume{Name: aws.ToString(v.Name)}
		if f := v.FsxWindowsFileServerVolumeConfiguration; f != nil {
			conf := &inventory.FSxWindowsFileServerVolumeConf{
				FileSystemID:  aws.ToString(f.FileSystemId),
				RootDirectory: aws.ToString(f.RootDirectory),
			}
			if a := f.AuthorizationConfig; a != nil {
				conf.AuthorizationConfig = &inventory.FSxAuthorizationConfig{
					CredentialsParameter: aws.ToString(a.CredentialsParameter),
					Domain:               aws.ToString(a.Domain),
				}
			}
			vol.FSxWindowsFileServerVolumeConfiguration = conf
		}
		td.Volumes = append(td.Volumes, vol)
	}
	return td
}

func compat(cs []ecstypes.Compatibility) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c))
	}
	return out
}

func convertContainer(cd ecstypes.ContainerDefinition) inventory.ContainerDefinition {
	c := inventory.ContainerDefinition{
		Name:    aws.ToString(cd.Name),
		Image:   aws.ToString(cd.Image),
		Secrets: convertSecrets(cd.Secrets),
	}
	if cd.Essential != nil {
		e := *cd.Essential
		c.Essential = &e
	}
	if rc := cd.RepositoryCredentials; rc != nil {
		c.RepositoryCredentials = &inventory.RepositoryCredentials{CredentialsParameter: aws.ToString(rc.CredentialsParameter)}
	}
	if lc := cd.LogConfiguration; lc != nil {
		c.LogConfiguration = &inventory.LogConfiguration{
			LogDriver:     string(lc.LogDriver),
			Options:       inventory.RedactOptions(lc.Options),
			SecretOptions: convertSecrets(lc.SecretOptions),
		}
	}
	for _, kv := range cd.Environment {
		// The value is classified and measured, then dropped.
		v := aws.ToString(kv.Value)
		c.Environment = append(c.Environment, inventory.EnvVar{
			Name:        aws.ToString(kv.Name),
			ValueClass:  inventory.ClassifyValue(v),
			ValueLength: len(v),
		})
	}
	for _, f := range cd.EnvironmentFiles {
		c.EnvironmentFiles = append(c.EnvironmentFiles, inventory.EnvironmentFile{Value: aws.ToString(f.Value), Type: string(f.Type)})
	}
	if fc := cd.FirelensConfiguration; fc != nil {
		c.FirelensConfiguration = &inventory.FirelensConfiguration{Type: string(fc.Type), Options: inventory.RedactOptions(fc.Options)}
	}
	return c
}

func convertSecrets(ss []ecstypes.Secret) []inventory.SecretRef {
	var out []inventory.SecretRef
	for _, s := range ss {
		out = append(out, inventory.SecretRef{Name: aws.ToString(s.Name), ValueFrom: inventory.RedactValueFrom(aws.ToString(s.ValueFrom))})
	}
	return out
}
