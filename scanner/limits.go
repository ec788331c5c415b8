package scanner

// Client-side rate limits. The scan stays under the services' throttling
// instead of leaning on retries: one set of ECS buckets per account×region,
// shaped like ECS's documented per-account-per-region token buckets but at
// ecsRateFactor of their refill rate and capacity, so that other callers in
// the same account (consoles, deploy pipelines) keep headroom.
//
// ECS (API reference "Request throttling"):
//
//	cluster read           ListClusters, DescribeClusters                   20/s, burst 50
//	task definition read   ListTaskDefinitions, DescribeTaskDefinition,
//	                       ListTaskDefinitionFamilies                      20/s, burst 50
//	service read           ListServices, DescribeServices                   20/s, burst 100
//	cluster resource read  ListContainerInstances,
//	                       DescribeContainerInstances, ...                  20/s, burst 100
//
// Organizations, IAM and STS publish no numbers; the limits below are
// modest guesses. Organizations is the one that can dominate a large scan:
// per account it costs a ListParents and a ListPoliciesForTarget per policy
// type, all with the caller's credentials, unless the whole-organization
// lookups apply (org.go, bulkIndex). account:ListRegions is documented at
// 5/s, burst 5, per account. Secrets Manager (DescribeSecret,
// GetResourcePolicy), SSM (DescribeParameters) and KMS (DescribeKey,
// GetKeyPolicy, ListAliases) get modest limits per account×region; the
// scanner makes few of these calls.
const (
	ecsRateFactor = 0.9

	ecsRate          = 20 * ecsRateFactor
	ecsClusterBurst  = 50 * ecsRateFactor
	ecsTaskDefBurst  = 50 * ecsRateFactor
	ecsServiceBurst  = 100 * ecsRateFactor
	ecsResourceBurst = 100 * ecsRateFactor

	// Organizations: every call runs with the caller's credentials.
	orgRate, orgBurst, orgInFlight = 10, 20, 8
	// STS: AssumeRole and GetCallerIdentity count against the caller.
	stsRate, stsBurst, stsInFlight = 20, 20, 16
	// IAM GetAccountAuthorizationDetails, per account (pages are sequential).
	iamRate, iamBurst, iamInFlight = 5, 5, 1
	// account:ListRegions, per account.
	accountRate, accountBurst = 4, 4
	// Secrets Manager, SSM and KMS, per account×region and service.
	secretsRate, secretsBurst = 20, 40
	ssmRate, ssmBurst         = 10, 20
	kmsRate, kmsBurst         = 20, 40
	resourceInFlight          = 8
	// EventBridge, EventBridge Scheduler and EC2 Describe calls (launch
	// paths and the network path), per account×region and service. None
	// publishes per-operation read limits that bind at these rates.
	eventsRate, eventsBurst       = 10, 20
	schedulerRate, schedulerBurst = 10, 20
	ec2Rate, ec2Burst             = 10, 20
)

// ecsBuckets are one account×region's ECS buckets.
type ecsBuckets struct {
	cluster, taskDef, service, resource *bucket
}

func (c *collector) newECSBuckets(inFlight int) ecsBuckets {
	return ecsBuckets{
		cluster:  c.newBucket(ecsRate, int(ecsClusterBurst), inFlight),
		taskDef:  c.newBucket(ecsRate, int(ecsTaskDefBurst), inFlight),
		service:  c.newBucket(ecsRate, int(ecsServiceBurst), inFlight),
		resource: c.newBucket(ecsRate, int(ecsResourceBurst), inFlight),
	}
}
