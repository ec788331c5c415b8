package inventory

// Launch paths other than services (snapshot version 2, optional): the
// running and recently stopped tasks of each cluster, the EventBridge rules
// and the EventBridge Scheduler schedules that run tasks, and the awsvpc
// network configuration of services and deployments. Each kind records
// whether it was collected, so that "none" is never confused with "not
// collected" (see docs/snapshot.md).

// Collection statuses of a kind of launch path or network fact.
const (
	// CollectedComplete: everything in scope was collected; what is absent
	// does not exist.
	CollectedComplete = "collected"
	// CollectedPartial: some calls failed (see Errors); what is present is
	// true, what is absent may still exist.
	CollectedPartial = "partial"
	// CollectedNone: nothing could be collected (see Errors); unknown.
	CollectedNone = "not-collected"
	// CollectedSkipped: not collected because the scan was asked not to
	// (--no-resolve-resources); unknown.
	CollectedSkipped = "skipped"
)

// AwsvpcConfiguration is the awsvpc network configuration of a launch:
// the subnets the task's ENI is placed in, its security groups, and
// whether it gets a public IP.
type AwsvpcConfiguration struct {
	Subnets        []string `json:"subnets,omitempty"`
	SecurityGroups []string `json:"securityGroups,omitempty"`
	// AssignPublicIP is ENABLED or DISABLED, or empty when unknown (a
	// stopped task, an ENI that could not be looked up). ECS's default for
	// a service or RunTask without the field is DISABLED; the scanner
	// records that default explicitly.
	AssignPublicIP string `json:"assignPublicIp,omitempty"`
}

// Task is a running or recently stopped ECS task (ListTasks with
// desiredStatus RUNNING and STOPPED, DescribeTasks). Stopped tasks stay
// listable only for a limited time: they are evidence of use, not a
// complete history.
type Task struct {
	ARN            string `json:"arn"`
	TaskDefinition string `json:"taskDefinition"`
	// ExecutionRoleOverride is overrides.executionRoleArn: for this task it
	// replaces the task definition's execution role.
	ExecutionRoleOverride string `json:"executionRoleOverride,omitempty"`
	LastStatus            string `json:"lastStatus,omitempty"`
	DesiredStatus         string `json:"desiredStatus,omitempty"`
	LaunchType            string `json:"launchType,omitempty"`
	CapacityProvider      string `json:"capacityProvider,omitempty"`
	PlatformVersion       string `json:"platformVersion,omitempty"`
	PlatformFamily        string `json:"platformFamily,omitempty"`
	// Group is "service:<name>" for a service's tasks, "family:<name>" by
	// default for RunTask; StartedBy is e.g. "ecs-svc/…" for a service's
	// tasks or "events-rule/<rule>" for EventBridge.
	Group                string `json:"group,omitempty"`
	StartedBy            string `json:"startedBy,omitempty"`
	ContainerInstanceARN string `json:"containerInstanceArn,omitempty"`
	StopCode             string `json:"stopCode,omitempty"`
	StoppedReason        string `json:"stoppedReason,omitempty"`
	// NetworkInterfaceID is the task ENI (awsvpc), from the ENI attachment.
	NetworkInterfaceID string `json:"networkInterfaceId,omitempty"`
	// Network holds the ENI's subnet (from the attachment) and whether the
	// ENI has a public IP (ec2:DescribeNetworkInterfaces; unknown for
	// stopped tasks, whose ENI is gone). Security groups are not known
	// for a task. Nil for a task without an ENI attachment.
	Network *AwsvpcConfiguration `json:"network,omitempty"`
}

// ECSLaunch is what an EventBridge rule target or a Scheduler schedule
// runs: the EcsParameters of the target.
type ECSLaunch struct {
	// ClusterARN is the target ARN (an ECS cluster).
	ClusterARN     string `json:"clusterArn"`
	TaskDefinition string `json:"taskDefinition,omitempty"`
	TaskCount      int32  `json:"taskCount,omitempty"`
	LaunchType     string `json:"launchType,omitempty"`
	// CapacityProviders of the capacity provider strategy.
	CapacityProviders []string             `json:"capacityProviders,omitempty"`
	PlatformVersion   string               `json:"platformVersion,omitempty"`
	Group             string               `json:"group,omitempty"`
	Network           *AwsvpcConfiguration `json:"network,omitempty"`
	// RoleARN is the role EventBridge or Scheduler uses to call
	// ecs:RunTask (and iam:PassRole on the task's roles).
	RoleARN string `json:"roleArn,omitempty"`
	// ExecutionRoleOverride is the executionRoleArn of the overrides the
	// target's constant input passes to RunTask. The input itself is never
	// stored (it may hold environment values).
	ExecutionRoleOverride string `json:"executionRoleOverride,omitempty"`
	// OverridesUnknown is true when the overrides cannot be read
	// statically: the input is taken from the event (InputPath, an input
	// transformer) or is not a JSON object.
	OverridesUnknown bool `json:"overridesUnknown,omitempty"`
}

// EventRule is an EventBridge rule with at least one ECS target.
type EventRule struct {
	Name         string `json:"name"`
	ARN          string `json:"arn,omitempty"`
	EventBusName string `json:"eventBusName,omitempty"`
	// State and ScheduleExpression are from DescribeRule; empty when
	// DescribeStatus is not collected.
	State              string `json:"state,omitempty"`
	ScheduleExpression string `json:"scheduleExpression,omitempty"`
	// HasEventPattern is true for a rule triggered by events rather than
	// (or as well as) a schedule.
	HasEventPattern bool `json:"hasEventPattern,omitempty"`
	// DescribeStatus is CollectedComplete or CollectedNone (DescribeRule).
	DescribeStatus string `json:"describeStatus"`
	// Targets are the rule's ECS targets. TargetsStatus is
	// CollectedComplete, CollectedPartial (the listing was cut short) or
	// CollectedNone (ListTargetsByRule failed).
	Targets       []RuleTarget `json:"targets,omitempty"`
	TargetsStatus string       `json:"targetsStatus"`
}

// RuleTarget is one ECS target of a rule.
type RuleTarget struct {
	ID     string    `json:"id"`
	Launch ECSLaunch `json:"launch"`
}

// Schedule is an EventBridge Scheduler schedule whose target runs an ECS
// task: a templated ECS target (its ARN is a cluster) or the universal
// target arn:aws:scheduler:::aws-sdk:ecs:runTask.
type Schedule struct {
	Name      string `json:"name"`
	GroupName string `json:"groupName,omitempty"`
	ARN       string `json:"arn,omitempty"`
	State     string `json:"state,omitempty"`
	// TargetARN is the target's ARN as ListSchedules gave it.
	TargetARN          string `json:"targetArn"`
	ScheduleExpression string `json:"scheduleExpression,omitempty"`
	// Universal is true for the universal ecs:runTask target, whose
	// parameters come from its input rather than EcsParameters.
	Universal bool `json:"universal,omitempty"`
	// Launch is what the schedule runs; nil when Status is CollectedNone.
	Launch *ECSLaunch `json:"launch,omitempty"`
	// Status is CollectedComplete when GetSchedule answered, CollectedNone
	// when it failed (only the summary is known).
	Status string `json:"status"`
}
