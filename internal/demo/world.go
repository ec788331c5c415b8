package demo

import (
	"time"

	"github.com/ecs-audit/audit/inventory"
)

// Account IDs of the demo organization.
const (
	Management = "111111111111" // platform-management (root)
	Payments   = "222222222222" // payments-prod (OU Production)
	Analytics  = "333333333333" // analytics-dev (OU Development)
	Shared     = "444444444444" // shared-services (OU Production): ECR registry
)

// Regions of the demo organization; ap-east-1 is an opt-in region no
// account has enabled.
var Regions = []string{"eu-west-1", "us-east-1"}

// CollectedAt is the fixed collection time of the demo world.
var CollectedAt = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// World returns the demo organization as an inventory.
func World() *inventory.Inventory {
	b := &builder{accounts: map[string]*inventory.Account{}, inv: &inventory.Inventory{
		Format: inventory.Format, SchemaVersion: inventory.SchemaVersion, CollectedAt: CollectedAt,
		Partition: "aws", Complete: true, Accounts: []*inventory.Account{},
		Scope: inventory.Scope{Source: "world:demo", Org: true, Regions: []string{"all"}, CallerAccount: Management},
	}}
	scps := map[string]*inventory.OrgPolicy{
		"p-FullAWSAccess": {ID: "p-FullAWSAccess", Name: "FullAWSAccess", Type: inventory.PolicyTypeSCP, AWSManaged: true,
			ARN: "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess", Document: doc(allow("", acts("*"), "*"))},
		"p-deny-regions": {ID: "p-deny-regions", Name: "deny-outside-us-east-1-eu-west-1", Type: inventory.PolicyTypeSCP,
			ARN: "arn:aws:organizations::111111111111:policy/o-demo123456/service_control_policy/p-deny-regions",
			Document: doc(stmt{Sid: "DenyOutsideApprovedRegions", Effect: "Deny",
				NotAction: acts("iam:*", "organizations:*", "sts:*", "support:*", "cloudfront:*", "route53:*"), Resource: "*",
				Condition: map[string]any{"StringNotEquals": map[string]any{"aws:RequestedRegion": []string{"us-east-1", "eu-west-1"}}}})},
		"p-dev-allowlist": {ID: "p-dev-allowlist", Name: "development-service-allow-list", Type: inventory.PolicyTypeSCP,
			ARN: "arn:aws:organizations::111111111111:policy/o-demo123456/service_control_policy/p-dev-allowlist",
			Document: doc(allow("AllowDevelopmentServices", acts("ecs:*", "ecr:*", "logs:*", "ssm:*", "secretsmanager:*", "s3:*",
				"iam:*", "sts:*", "cloudwatch:*", "ec2:*", "elasticloadbalancing:*"), "*"))},
	}
	b.inv.Organization = &inventory.Organization{ID: "o-demo123456", ARN: "arn:aws:organizations::111111111111:organization/o-demo123456",
		ManagementAccountID: Management, RootID: "r-demo", Policies: scps}
	root := inventory.PathNode{ID: "r-demo", Name: "Root", Type: inventory.NodeRoot, SCPs: []string{"p-FullAWSAccess"}}
	prod := inventory.PathNode{ID: "ou-demo-prod1234", Name: "Production", Type: inventory.NodeOU, SCPs: []string{"p-FullAWSAccess", "p-deny-regions"}}
	dev := inventory.PathNode{ID: "ou-demo-dev12345", Name: "Development", Type: inventory.NodeOU, SCPs: []string{"p-dev-allowlist"}}
	node := func(id string) inventory.PathNode {
		return inventory.PathNode{ID: id, Type: inventory.NodeAccount, SCPs: []string{"p-FullAWSAccess"}}
	}

	mgmt := b.account(Management, "platform-management", []inventory.PathNode{root, node(Management)})
	pay := b.account(Payments, "payments-prod", []inventory.PathNode{root, prod, node(Payments)})
	ana := b.account(Analytics, "analytics-dev", []inventory.PathNode{root, dev, node(Analytics)})
	shr := b.account(Shared, "shared-services", []inventory.PathNode{root, prod, node(Shared)})
	for _, a := range []*inventory.Account{mgmt, pay, ana, shr} {
		b.region(a, "ap-east-1", inventory.RegionNotEnabled)
		b.region(a, "eu-west-1", inventory.RegionScanned)
		b.region(a, "us-east-1", inventory.RegionScanned)
	}

	b.payments(pay)
	b.analytics(ana)
	b.management(mgmt)
	b.shared(shr)
	// Launch paths besides services, and the network (network.go).
	b.launchPathsAndNetwork()
	// What the task definitions reference was looked up: it exists,
	// except where a builder marked it missing.
	b.resources()
	// The demo's secrets have no resource policy; its keys' policies and
	// its parameters' (unread) policies take their documented meaning.
	b.inv.FillPolicyStatuses()
	return b.inv
}

func ecrImage(account, region, repo string) string {
	return account + ".dkr.ecr." + region + ".amazonaws.com/" + repo
}

// payments builds the production payments account (us-east-1 mostly).
func (b *builder) payments(a *inventory.Account) {
	const r = "us-east-1"
	p := "arn:aws:secretsmanager:us-east-1:222222222222:secret:"
	ssmP := "arn:aws:ssm:us-east-1:222222222222:parameter/"
	kmsKey := "arn:aws:kms:us-east-1:222222222222:key/1a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d"
	lockedKey := "arn:aws:kms:us-east-1:222222222222:key/9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
	reg := b.region(a, r, inventory.RegionScanned)
	reg.Secrets = []*inventory.Secret{
		{ARN: p + "payments/db-AbCdEf", Name: "payments/db"},
		{ARN: p + "payments/stripe-Q1w2E3", Name: "payments/stripe", KMSKeyID: kmsKey},
		{ARN: p + "prod-ledger-key-Zx9Yw8", Name: "prod-ledger-key"},
		{ARN: p + "payments/signing-Lk8Jh7", Name: "payments/signing", KMSKeyID: lockedKey},
		{ARN: p + "dockerhub-creds-Mn4Bv5", Name: "dockerhub-creds"},
		{ARN: p + "partner/api-Rt5Yu6", Name: "partner/api"},
	}
	reg.Parameters = []*inventory.Parameter{
		{Name: "/payments/prod/db-host", ARN: ssmP + "payments/prod/db-host", Type: "String"},
		{Name: "/payments/prod/api-key", ARN: ssmP + "payments/prod/api-key", Type: "SecureString", KeyID: "alias/aws/ssm"},
		{Name: "feature_flags", ARN: ssmP + "feature_flags", Type: "String"},
	}
	reg.KMSKeys = []*inventory.KMSKey{
		{ARN: kmsKey, KeyID: "1a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d", Manager: "CUSTOMER", Aliases: []string{"alias/payments"},
			Policy: doc(stmt{Sid: "EnableIAMPolicies", Effect: "Allow", Principal: map[string]any{"AWS": "arn:aws:iam::222222222222:root"}, Action: "kms:*", Resource: "*"})},
		{ARN: lockedKey, KeyID: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", Manager: "CUSTOMER", Aliases: []string{"alias/signing"},
			Policy: doc(stmt{Sid: "OnlyTheSigningService", Effect: "Allow", Principal: map[string]any{"AWS": "arn:aws:iam::222222222222:role/signing-service"}, Action: acts("kms:Decrypt", "kms:Encrypt"), Resource: "*"})},
	}
	// A parameter the reconciler names was never created (RS001).
	reg.MissingParameters = []string{"/payments/prod/reconciler-token"}
	// The configuration bucket refuses plain HTTP, which the agent never
	// uses; the partner drop bucket lets only the partner's uploader read.
	b.bucket("payments-config-prod", Payments, r, doc(stmt{Sid: "TLSOnly", Effect: "Deny", Principal: "*", Action: "s3:*",
		Resource:  []string{"arn:aws:s3:::payments-config-prod", "arn:aws:s3:::payments-config-prod/*"},
		Condition: map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}))
	b.bucket("payments-partner-drop", Payments, r, doc(stmt{Sid: "OnlyThePartnerUploader", Effect: "Deny", Principal: "*", Action: "s3:GetObject",
		Resource:  "arn:aws:s3:::payments-partner-drop/*",
		Condition: map[string]any{"StringNotEquals": map[string]any{"aws:PrincipalArn": "arn:aws:iam::222222222222:role/partner-uploader"}}}))
	// The registry caches Docker Hub; its policy lets the edge role import
	// through the cache and create the cached repositories.
	b.spec().cacheRules[resourceKey{Payments, r}] = []inventory.ECRPullThroughCacheRule{{Prefix: "docker-hub", UpstreamRegistry: "docker-hub",
		UpstreamRegistryURL: "registry-1.docker.io", CredentialARN: p + "ecr-pullthroughcache/docker-hub-Hj6Kl9"}}
	b.spec().registryPolicies[resourceKey{Payments, r}] = doc(stmt{Sid: "EdgeImportsThroughTheCache", Effect: "Allow",
		Principal: map[string]any{"AWS": "arn:aws:iam::222222222222:role/payments-edge-exec"},
		Action:    acts("ecr:BatchImportUpstreamImage", "ecr:CreateRepository"), Resource: "arn:aws:ecr:us-east-1:222222222222:repository/docker-hub/*"})
	euReg := b.region(a, "eu-west-1", inventory.RegionScanned)
	euReg.Parameters = []*inventory.Parameter{{Name: "/payments/eu/endpoint", ARN: "arn:aws:ssm:eu-west-1:222222222222:parameter/payments/eu/endpoint", Type: "String"}}

	// --- roles ---
	apiExec := role(a, "payments-api-exec", trustHardened(Payments), map[string]string{
		"runtime-secrets": doc(
			allow("DbSecret", acts("secretsmanager:GetSecretValue"), p+"payments/db-??????", p+"payments/stripe-??????"),
			allow("Params", acts("ssm:GetParameters"), ssmP+"payments/prod/*", ssmP+"feature_flags", "arn:aws:ssm:eu-west-1:222222222222:parameter/payments/eu/*"),
			allow("StripeKey", acts("kms:Decrypt"), kmsKey),
			allow("EnvFiles", acts("s3:GetObject"), "arn:aws:s3:::payments-config-prod/env/*"),
			allow("EnvBucket", acts("s3:GetBucketLocation"), "arn:aws:s3:::payments-config-prod"),
			allow("RegistryCreds", acts("secretsmanager:GetSecretValue"), p+"dockerhub-creds-??????"),
		)}, []string{execManaged}, "")

	// ER004: the policy grants ssm:GetParameter (singular), not GetParameters;
	// ER006: secretsmanager:GetSecretValue on every secret.
	workerExec := role(a, "payments-worker-exec", trustPlain(), map[string]string{
		"worker": doc(
			allow("Params", acts("ssm:GetParameter"), ssmP+"payments/*"),
			allow("AllSecrets", acts("secretsmanager:GetSecretValue"), "*"),
		)}, []string{execManaged}, "")

	// ER004 explicit deny on prod-* secrets.
	denyExec := role(a, "payments-ledger-exec", trustHardened(Payments), map[string]string{
		"ledger": doc(
			allow("Secrets", acts("secretsmanager:GetSecretValue"), p+"*"),
			deny("NoProdLedgerKeys", acts("secretsmanager:GetSecretValue"), p+"prod-*"),
		)}, []string{execManaged}, "")

	// ER004 by the permissions boundary (no logs in the boundary).
	customerPolicies["arn:aws:iam::222222222222:policy/ecs-boundary-no-logs"] = doc(
		allow("EcrAndSecretsOnly", acts("ecr:*", "secretsmanager:GetSecretValue", "ssm:GetParameters"), "*"))
	boundExec := role(a, "payments-bounded-exec", trustHardened(Payments), nil, []string{execManaged}, "arn:aws:iam::222222222222:policy/ecs-boundary-no-logs")

	// ER003: trusted by EC2, not ECS tasks.
	badTrust := role(a, "payments-ec2-trusted-exec", doc(stmt{Effect: "Allow", Principal: map[string]any{"Service": "ec2.amazonaws.com"}, Action: "sts:AssumeRole"}),
		nil, []string{execManaged}, "")
	// ER003 (indeterminate): aws:SourceArn limited to one cluster's tasks.
	narrowTrust := role(a, "payments-cluster-scoped-exec", doc(stmt{Effect: "Allow", Principal: map[string]any{"Service": "ecs-tasks.amazonaws.com"}, Action: "sts:AssumeRole",
		Condition: map[string]any{"ArnLike": map[string]any{"aws:SourceArn": "arn:aws:ecs:us-east-1:222222222222:task/payments-fargate/*"}}}),
		nil, []string{execManaged}, "")

	// ER004: ECR pulls only through the ECR endpoints (network.go); GetAuthorizationToken too (the documented trap on Fargate).
	vpceExec := role(a, "payments-vpce-exec", trustHardened(Payments), map[string]string{
		"ecr-through-endpoint": doc(stmt{Sid: "EcrViaEndpoint", Effect: "Allow",
			Action:    acts("ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"),
			Resource:  "*",
			Condition: map[string]any{"StringEquals": map[string]any{"aws:SourceVpce": []string{"vpce-0a1b2c3d4e5f67890", "vpce-0pay2ecrapi00002"}}}},
			allow("Logs", acts("logs:CreateLogStream", "logs:PutLogEvents"), "arn:aws:logs:us-east-1:222222222222:log-group:/ecs/payments-*:*")),
	}, nil, "")

	// ER007: also used as task role. Partial secret not allowed (ER004), KMS key policy that does not delegate (ER004).
	sharedExec := role(a, "payments-shared-role", trustHardened(Payments), map[string]string{
		"app-and-exec": doc(
			allow("Signing", acts("secretsmanager:GetSecretValue"), p+"payments/signing-??????"),
			allow("SigningKey", acts("kms:Decrypt"), lockedKey),
			allow("OtherSecret", acts("secretsmanager:GetSecretValue"), p+"payments/db-AbCdEf"),
		)}, []string{execManaged}, "")

	// FireLens S3 config role without s3 (ER004), create-group without CreateLogGroup (ER004 medium).
	routerExec := role(a, "payments-log-router-exec", trustHardened(Payments), nil, []string{execManaged}, "")

	// Legacy batch on the legacy EC2 cluster: a correct role.
	legacyExec := role(a, "payments-legacy-exec", trustHardened(Payments), map[string]string{
		"legacy": doc(
			allow("Params", acts("ssm:GetParameters"), ssmP+"payments/prod/db-host"),
			allow("EnvFiles", acts("s3:GetObject"), "arn:aws:s3:::payments-config-prod/env/legacy.env"),
			allow("EnvBucket", acts("s3:GetBucketLocation"), "arn:aws:s3:::payments-config-prod"),
		)}, []string{execManaged}, "")

	// --- clusters and services ---
	fg := b.cluster(a, r, "payments-fargate")
	modern := b.cluster(a, r, "payments-ec2")
	legacy := b.cluster(a, r, "payments-ec2-legacy")
	instance(modern, "i-0a11111111111111a", "1.90.0")
	instance(modern, "i-0a22222222222222b", "1.90.0")
	instance(legacy, "i-0b33333333333333c", "1.15.0", "ecs.capability.execution-role-awslogs", "ecs.capability.execution-role-ecr-pull",
		"ecs.capability.secrets.ssm.environment-variables", "ecs.capability.secrets.asm.environment-variables", "ecs.capability.env-files.s3",
		"ecs.capability.private-registry-authentication.secretsmanager", "ecs.capability.secrets.ssm.bootstrap.log-driver", "ecs.capability.secrets.asm.bootstrap.log-driver",
		"ecs.capability.firelens.options.config.s3", "ecs.capability.firelens.options.config.file", "ecs.capability.firelens.fluentbit")
	instance(legacy, "i-0b44444444444444d", "1.70.0", "ecs.capability.execution-role-awslogs")
	instance(legacy, "i-0b55555555555555e", "1.20.0", "ecs.capability.secrets.ssm.environment-variables", "ecs.capability.env-files.s3",
		"ecs.capability.secrets.asm.environment-variables", "ecs.capability.secrets.ssm.bootstrap.log-driver", "ecs.capability.secrets.asm.bootstrap.log-driver")
	drained := instance(legacy, "i-0b66666666666666f", "1.10.0")
	drained.Status = "DRAINING" // not considered: takes no new tasks

	img := func(repo string) string { return ecrImage(Payments, r, repo) }

	// Correct: the API on Fargate (ECR, awslogs, secrets by full and partial ARN, SSM names, another region's parameter, CMK, env file).
	api := b.td(a, r, "payments-api", 7, apiExec, "FARGATE",
		ctr("api", img("payments/api:2.14.1"), logs("/ecs/payments-api", r, "api", false),
			secret("DB_PASSWORD", p+"payments/db-AbCdEf"),
			secret("STRIPE_KEY", p+"payments/stripe"),
			secret("DB_HOST", "/payments/prod/db-host"),
			secret("API_KEY", ssmP+"payments/prod/api-key"),
			secret("FLAGS", "feature_flags"),
			secret("EU_ENDPOINT", "arn:aws:ssm:eu-west-1:222222222222:parameter/payments/eu/endpoint"),
			envFile("arn:aws:s3:::payments-config-prod/env/api.env"),
			env("LOG_LEVEL", "", 4), env("DB_PASSWORD_SECRET_ARN", "", 70)),
		ctr("envoy", "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0-prod", logs("/ecs/payments-api", r, "envoy", false)))
	service(fg, "payments-api", inventory.LaunchFargate, "LATEST", api)
	// The previous revision is still deployed by the same service (rolling deployment).
	apiOld := b.td(a, r, "payments-api", 6, apiExec, "FARGATE",
		ctr("api", img("payments/api@sha256:4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0"), logs("/ecs/payments-api", r, "api", false),
			secret("DB_PASSWORD", p+"payments/db-AbCdEf:password::")))
	fg.Services[len(fg.Services)-1].Deployments = append(fg.Services[len(fg.Services)-1].Deployments,
		inventory.Deployment{ID: "ecs-svc/1111111111111111111", Status: "ACTIVE", TaskDefinition: apiOld.ARN, LaunchType: inventory.LaunchFargate, PlatformVersion: "1.4.0"})

	// Correct: private registry credentials by name.
	regTD := b.td(a, r, "payments-vendor-agent", 3, apiExec, "FARGATE",
		ctr("agent", "docker.io/vendor/payments-agent:5.1", repoCreds("dockerhub-creds"), logs("/ecs/payments-vendor", r, "agent", false)))
	service(fg, "payments-vendor-agent", inventory.LaunchFargate, "1.4.0", regTD)

	// ER004 (ssm:GetParameters missing) + ER006 (secrets on *), EC2 on the modern cluster.
	worker := b.td(a, r, "payments-worker", 12, workerExec, "EC2",
		ctr("worker", img("payments/worker:3.2.0"), logs("/ecs/payments-worker", r, "worker", false),
			secret("DB_HOST", "/payments/prod/db-host"), secret("DB_PASSWORD", p+"payments/db-AbCdEf")))
	service(modern, "payments-worker", inventory.LaunchEC2, "", worker)

	// ER004 explicit deny.
	ledger := b.td(a, r, "payments-ledger", 4, denyExec, "FARGATE",
		ctr("ledger", img("payments/ledger:1.0.3"), logs("/ecs/payments-ledger", r, "ledger", false),
			secret("LEDGER_KEY", p+"prod-ledger-key-Zx9Yw8"), secret("DB", p+"payments/db-AbCdEf:username:AWSCURRENT:")))
	service(fg, "payments-ledger", inventory.LaunchFargate, "1.4.0", ledger)

	// ER004 by the permissions boundary (awslogs denied).
	bounded := b.td(a, r, "payments-reports", 2, boundExec, "FARGATE",
		ctr("reports", img("payments/reports:0.9.0"), logs("/ecs/payments-reports", r, "reports", false)))
	service(fg, "payments-reports", inventory.LaunchFargate, "LATEST", bounded)

	// ER004 by the region-restricting SCP: logs shipped to us-west-2.
	scpTD := b.td(a, r, "payments-audit-shipper", 1, apiExec, "FARGATE",
		ctr("shipper", img("payments/audit-shipper:1.1.0"), logs("/ecs/payments-audit", "us-west-2", "shipper", false)))
	service(fg, "payments-audit-shipper", inventory.LaunchFargate, "LATEST", scpTD)

	// ER003 (trust) and ER003 indeterminate.
	b.td(a, r, "payments-nightly", 1, badTrust, "FARGATE",
		ctr("nightly", img("payments/nightly:1.0.0"), logs("/ecs/payments-nightly", r, "nightly", false)))
	b.td(a, r, "payments-scoped", 1, narrowTrust, "FARGATE",
		ctr("scoped", img("payments/scoped:1.0.0"), logs("/ecs/payments-scoped", r, "scoped", false)))

	// ER002: the role does not exist.
	ghost := b.td(a, r, "payments-ghost", 5, "arn:aws:iam::222222222222:role/payments-deleted-exec", "FARGATE",
		ctr("ghost", img("payments/ghost:1.0.0"), logs("/ecs/payments-ghost", r, "ghost", false)))
	service(fg, "payments-ghost", inventory.LaunchFargate, "LATEST", ghost)

	// ER001: Fargate with ECR and awslogs but no execution role.
	b.td(a, r, "payments-no-exec", 1, "", "FARGATE",
		ctr("app", img("payments/no-exec:1.0.0"), logs("/ecs/payments-no-exec", r, "app", false)))

	// ER004 (GetAuthorizationToken never matches aws:SourceVpce on Fargate); the layer pulls go through the ECR endpoints (network.go): allowed.
	vpceTD := b.td(a, r, "payments-private-subnet", 2, vpceExec, "FARGATE",
		ctr("app", img("payments/private-subnet:2.0.0"), logs("/ecs/payments-private", r, "app", false)))
	service(fg, "payments-private-subnet", inventory.LaunchFargate, "LATEST", vpceTD)

	// ER005: the same role on EC2, where the calls take the instance's network: whether they go through the endpoints its aws:SourceVpce condition names is not known.
	vpceWorker := b.td(a, r, "payments-private-worker", 1, vpceExec, "EC2",
		ctr("worker", img("payments/private-subnet:2.0.0"), logs("/ecs/payments-private", r, "worker", false)))
	service(modern, "payments-private-worker", inventory.LaunchEC2, "", vpceWorker)

	// ER007 (same role), ER004 partial secret not allowed, ER004 KMS key policy that does not delegate.
	b.td(a, r, "payments-signer", 3, sharedExec, "FARGATE",
		ctr("signer", img("payments/signer:4.0.0"), logs("/ecs/payments-signer", r, "signer", false),
			secret("SIGNING_KEY", p+"payments/signing-Lk8Jh7"),
			secret("PARTNER_API", p+"partner/api")),
	).TaskRoleARN = sharedExec

	// FireLens from S3 on EC2 without s3 permissions (ER004) + create-group without CreateLogGroup (ER004 medium).
	router := b.td(a, r, "payments-log-router", 1, routerExec, "EC2",
		ctr("log_router", img("platform/fluent-bit:2.2"), firelens("fluentbit", map[string]string{"config-file-type": "s3", "config-file-value": "arn:aws:s3:::payments-config-prod/fluent-bit/extra.conf"}),
			logs("/ecs/payments-log-router", r, "router", true)))
	service(modern, "payments-log-router", inventory.LaunchEC2, "", router)

	// FG001: environment files on platform version 1.3.0; FireLens S3 config on Fargate (unsupported).
	oldPV := b.td(a, r, "payments-settlement", 9, apiExec, "FARGATE",
		ctr("settlement", img("payments/settlement:9.0.1"), logs("/ecs/payments-settlement", r, "settlement", false),
			envFile("arn:aws:s3:::payments-config-prod/env/settlement.env")))
	service(fg, "payments-settlement", inventory.LaunchFargate, "1.3.0", oldPV)
	b.td(a, r, "payments-fargate-router", 1, routerExec, "FARGATE",
		ctr("log_router", img("platform/fluent-bit:2.2"), firelens("fluentbit", map[string]string{"config-file-type": "s3", "config-file-value": "arn:aws:s3:::payments-config-prod/fluent-bit/extra.conf"})))

	// Pull-through cache, first pull (the repository is not cached yet)
	// without ecr:BatchImportUpstreamImage and ecr:CreateRepository: the
	// registry policy grants them to the edge role only (ER004).
	ptc := b.td(a, r, "payments-edge-proxy", 1, apiExec, "FARGATE",
		ctr("nginx", img("docker-hub/library/nginx:1.27"), logs("/ecs/payments-edge", r, "nginx", false)))
	service(fg, "payments-edge-proxy", inventory.LaunchFargate, "LATEST", ptc)
	b.missing(Payments + "|" + r + "|docker-hub/library/nginx")
	// Correct: the first pull through the cache by the edge role, which
	// the registry policy lets import and create the repository.
	edgeExec := role(a, "payments-edge-exec", trustHardened(Payments), nil, []string{execManaged}, "")
	edge := b.td(a, r, "payments-edge-cache", 1, edgeExec, "FARGATE",
		ctr("redis", img("docker-hub/library/redis:7.4"), logs("/ecs/payments-edge-cache", r, "redis", false)))
	service(fg, "payments-edge-cache", inventory.LaunchFargate, "LATEST", edge)
	b.missing(Payments + "|" + r + "|docker-hub/library/redis")

	// RS001: the image tag was never pushed to the repository.
	export := b.td(a, r, "payments-batch-export", 3, apiExec, "FARGATE",
		ctr("export", img("payments/batch-export:3.1.0"), logs("/ecs/payments-batch-export", r, "export", false)))
	service(fg, "payments-batch-export", inventory.LaunchFargate, "LATEST", export)
	b.missing(Payments + "|" + r + "|payments/batch-export:3.1.0")

	// RS001: the log group does not exist and the driver does not create
	// it (no awslogs-create-group).
	b.td(a, r, "payments-report-mailer", 1, apiExec, "FARGATE",
		ctr("mailer", img("payments/report-mailer:1.0.0"), logs("/ecs/payments-report-mailer", r, "mailer", false)))
	b.missing(Payments + "|" + r + "|/ecs/payments-report-mailer")
	// Correct: awslogs-create-group "True" (true to the log driver), and
	// the role may create the group.
	notifierExec := role(a, "payments-notifier-exec", trustHardened(Payments), map[string]string{
		"create-log-group": doc(allow("CreateLogGroup", acts("logs:CreateLogGroup"), "arn:aws:logs:us-east-1:222222222222:log-group:/ecs/payments-notifier")),
	}, []string{execManaged}, "")
	b.td(a, r, "payments-notifier", 2, notifierExec, "FARGATE",
		ctr("notifier", img("payments/notifier:2.0.0"), logsCreate("/ecs/payments-notifier", r, "notifier", "True")))

	// RS001: the SSM parameter was never created.
	b.td(a, r, "payments-reconciler", 2, apiExec, "FARGATE",
		ctr("reconciler", img("payments/reconciler:2.0.0"), logs("/ecs/payments-reconciler", r, "reconciler", false),
			secret("RECONCILER_TOKEN", "/payments/prod/reconciler-token")))

	// ER004: the partner drop bucket's policy denies every reader but the
	// partner's uploader, whatever the role's own policy grants.
	partnerExec := role(a, "payments-partner-exec", trustHardened(Payments), map[string]string{
		"partner-drop": doc(
			allow("PartnerFiles", acts("s3:GetObject"), "arn:aws:s3:::payments-partner-drop/inbound/*"),
			allow("PartnerBucket", acts("s3:GetBucketLocation"), "arn:aws:s3:::payments-partner-drop")),
	}, []string{execManaged}, "")
	b.td(a, r, "payments-partner-sync", 1, partnerExec, "FARGATE",
		ctr("sync", img("payments/partner-sync:1.0.0"), logs("/ecs/payments-partner-sync", r, "sync", false),
			envFile("arn:aws:s3:::payments-partner-drop/inbound/partner.env")))

	// Correct: EC2 on the modern cluster with ECR, awslogs and secrets.
	scorer := b.td(a, r, "payments-fraud-scorer", 5, apiExec, "EC2",
		ctr("scorer", img("payments/fraud-scorer:5.3.0"), logs("/ecs/payments-fraud", r, "scorer", false),
			secret("DB_PASSWORD", p+"payments/db-AbCdEf"), secret("DB_HOST", ssmP+"payments/prod/db-host")))
	service(modern, "payments-fraud-scorer", inventory.LaunchEC2, "", scorer)

	// FG001: environment files are not supported on Windows Fargate.
	win := b.td(a, r, "payments-windows-report", 2, apiExec, "FARGATE",
		ctr("report", img("payments/windows-report:2.0"), logs("/ecs/payments-windows", r, "report", false),
			envFile("arn:aws:s3:::payments-config-prod/env/windows.env")))
	win.RuntimePlatform = &inventory.RuntimePlatform{OperatingSystemFamily: "WINDOWS_SERVER_2022_CORE", CPUArchitecture: "X86_64"}

	// AG001/AG002/AG003: a correct task definition on the legacy EC2 cluster.
	batch := b.td(a, r, "payments-legacy-batch", 21, legacyExec, "EC2",
		ctr("batch", img("payments/legacy-batch:21"), logs("/ecs/payments-legacy", r, "batch", false),
			secret("DB_HOST", "/payments/prod/db-host"), envFile("arn:aws:s3:::payments-config-prod/env/legacy.env")))
	service(legacy, "payments-legacy-batch", inventory.LaunchEC2, "", batch)
}

// analytics builds the development account (eu-west-1).
func (b *builder) analytics(a *inventory.Account) {
	const r = "eu-west-1"
	ssmP := "arn:aws:ssm:eu-west-1:333333333333:parameter/"
	cmk := "arn:aws:kms:eu-west-1:333333333333:key/0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
	reg := b.region(a, r, inventory.RegionScanned)
	reg.Parameters = []*inventory.Parameter{
		{Name: "/analytics/warehouse/password", ARN: ssmP + "analytics/warehouse/password", Type: "SecureString", KeyID: cmk},
		{Name: "/analytics/warehouse/host", ARN: ssmP + "analytics/warehouse/host", Type: "String"},
	}
	reg.KMSKeys = []*inventory.KMSKey{{ARN: cmk, KeyID: "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", Manager: "CUSTOMER", Aliases: []string{"alias/analytics"},
		Policy: doc(stmt{Sid: "EnableIAMPolicies", Effect: "Allow", Principal: map[string]any{"AWS": "arn:aws:iam::333333333333:root"}, Action: "kms:*", Resource: "*"})}}

	// ER004 at SCP level 1 (the Development allow-list has no kms), correct otherwise.
	whExec := role(a, "analytics-warehouse-exec", trustHardened(Analytics), map[string]string{
		"warehouse": doc(
			allow("Params", acts("ssm:GetParameters"), ssmP+"analytics/warehouse/*"),
			allow("Cmk", acts("kms:Decrypt"), cmk),
		)}, []string{execManaged}, "")
	// ER006 critical: administrator access on an execution role.
	adminExec := role(a, "analytics-admin-exec", trustPlain(), map[string]string{
		"do-everything": doc(allow("Admin", acts("*"), "*")),
	}, nil, "")
	// PL001: malformed inline policy (the ARN-to-ARN condition block from the ECS documentation) and a misspelled service prefix.
	malformed := `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["ssm:GetParameters", "secretsmanager:GetSecretValue"],
      "Resource": "*",
      "Condition": {
        "StringEquals": {
          "arn:aws:iam::333333333333:role/analytics-typo-exec": "arn:aws:ssm:eu-west-1:333333333333:parameter/analytics/*"
        }
      }
    }
  ]
}`
	typoExec := role(a, "analytics-typo-exec", trustHardened(Analytics), map[string]string{
		"from-the-docs": malformed,
		"typo":          doc(allow("Secrets", acts("secretmanager:GetSecretValue", "ssm:GetParameterz"), "*")),
	}, []string{execManaged}, "")

	an := b.cluster(a, r, "analytics")
	instance(an, "i-0c77777777777777a", "1.88.0")
	img := func(repo string) string { return ecrImage(Analytics, r, repo) }

	wh := b.td(a, r, "analytics-warehouse-loader", 14, whExec, "FARGATE",
		ctr("loader", img("analytics/loader:14"), logs("/ecs/analytics-loader", r, "loader", false),
			secret("WAREHOUSE_PASSWORD", "/analytics/warehouse/password"), secret("WAREHOUSE_HOST", "/analytics/warehouse/host")))
	service(an, "analytics-warehouse-loader", inventory.LaunchFargate, "LATEST", wh)

	// Correct: EC2 without an execution role; ECR and awslogs through the instance role.
	noExec := b.td(a, r, "analytics-notebook", 2, "", "EC2",
		ctr("notebook", img("analytics/notebook:2"), logs("/ecs/analytics-notebook", r, "", false), env("JUPYTER_PORT", "", 4)))
	service(an, "analytics-notebook", inventory.LaunchEC2, "", noExec)
	// Correct: a public image, no logs, no role.
	b.td(a, r, "analytics-hello", 1, "", "EC2", ctr("hello", "public.ecr.aws/docker/library/busybox:1.36"))

	// ER001 on EC2: secrets without an execution role.
	b.td(a, r, "analytics-secret-no-exec", 1, "", "EC2",
		ctr("job", "docker.io/library/python:3.12", secret("TOKEN", "/analytics/warehouse/password")))

	// ER006 critical.
	admin := b.td(a, r, "analytics-adhoc", 3, adminExec, "FARGATE",
		ctr("adhoc", img("analytics/adhoc:3"), logs("/ecs/analytics-adhoc", r, "adhoc", false)))
	service(an, "analytics-adhoc", inventory.LaunchFargate, "LATEST", admin)

	// PL001 + ER004 (the malformed policy grants nothing).
	b.td(a, r, "analytics-typo", 1, typoExec, "FARGATE",
		ctr("typo", img("analytics/typo:1"), logs("/ecs/analytics-typo", r, "typo", false), secret("WAREHOUSE_HOST", "/analytics/warehouse/host")))

	// TD001: plaintext credentials in the environment and in a log option.
	b.td(a, r, "analytics-leaky", 6, typoExec, "EC2",
		ctr("leaky", "docker.io/library/python:3.12",
			env("DB_PASSWORD", "", 16), env("AWS_ACCESS_KEY_ID", inventory.ValueAWSAccessKey, 20), env("SLACK_WEBHOOK", inventory.ValueURLCredentials, 77),
			env("MAX_CONNECTIONS", "", 3),
			logDriver("splunk", map[string]string{"splunk-url": "https://splunk.example.com:8088", "splunk-token": "00000000-0000-0000-0000-000000000000"})))

	// Correct: ECS Anywhere (EXTERNAL) with the execution role.
	b.td(a, r, "analytics-edge-collector", 4, whExec, "EXTERNAL",
		ctr("collector", img("analytics/edge-collector:4"), logs("/ecs/analytics-edge", r, "collector", false),
			secret("WAREHOUSE_HOST", ssmP+"analytics/warehouse/host")))

	// Correct: a cross-account ECR pull from the shared-services registry,
	// whose repository policy lets the warehouse role pull.
	xacct := b.td(a, r, "analytics-shared-base", 8, whExec, "FARGATE",
		ctr("base", ecrImage(Shared, r, "base/python:3.12-slim"), logs("/ecs/analytics-shared", r, "base", false)))
	service(an, "analytics-shared-base", inventory.LaunchFargate, "LATEST", xacct)
	b.repoPolicy(Shared, r, "base/python", doc(stmt{Sid: "AnalyticsWarehousePulls", Effect: "Allow",
		Principal: map[string]any{"AWS": whExec},
		Action:    acts("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")}))
	// Correct: an environment file in a bucket of the shared-services
	// account, whose policy lets the reports role read it (a sharded scan
	// must find the owner in another shard's account).
	reportsExec := role(a, "analytics-reports-exec", trustHardened(Analytics), map[string]string{
		"shared-config": doc(
			allow("SharedEnvFile", acts("s3:GetObject"), "arn:aws:s3:::shared-services-config/analytics/reports.env"),
			allow("SharedBucket", acts("s3:GetBucketLocation"), "arn:aws:s3:::shared-services-config"),
		)}, []string{execManaged}, "")
	b.bucket("shared-services-config", Shared, r, doc(stmt{Sid: "AnalyticsReportsRead", Effect: "Allow",
		Principal: map[string]any{"AWS": reportsExec}, Action: acts("s3:GetObject", "s3:GetBucketLocation"),
		Resource: []string{"arn:aws:s3:::shared-services-config", "arn:aws:s3:::shared-services-config/analytics/*"}}))
	reports := b.td(a, r, "analytics-report-builder", 1, reportsExec, "FARGATE",
		ctr("builder", img("analytics/report-builder:1"), logs("/ecs/analytics-reports", r, "builder", false),
			envFile("arn:aws:s3:::shared-services-config/analytics/reports.env")))
	service(an, "analytics-report-builder", inventory.LaunchFargate, "LATEST", reports)

	// ER004: the shared ML base image's repository policy lets only the
	// production account pull.
	b.td(a, r, "analytics-shared-ml", 1, whExec, "FARGATE",
		ctr("trainer", ecrImage(Shared, r, "base/ml:2.0"), logs("/ecs/analytics-shared", r, "trainer", false)))
	b.repoPolicy(Shared, r, "base/ml", doc(stmt{Sid: "ProductionPulls", Effect: "Allow",
		Principal: map[string]any{"AWS": "arn:aws:iam::222222222222:root"},
		Action:    acts("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")}))
}

// management builds the management account (SCPs do not apply to it).
func (b *builder) management(a *inventory.Account) {
	const r = "us-east-1"
	exec := role(a, "platform-dashboard-exec", trustHardened(Management), nil, []string{execManaged}, "")
	c := b.cluster(a, r, "platform-tools")
	dash := b.td(a, r, "platform-dashboard", 11, exec, "FARGATE",
		ctr("dashboard", "public.ecr.aws/nginx/nginx:1.27", logs("/ecs/platform-dashboard", r, "dashboard", false)))
	service(c, "platform-dashboard", inventory.LaunchFargate, "LATEST", dash)
	// A family whose latest revision is not in use: both are in scope.
	b.td(a, r, "platform-cron", 1, exec, "FARGATE", ctr("cron", ecrImage(Management, r, "platform/cron:1"), logs("/ecs/platform-cron", r, "cron", false)))
}

// shared builds the shared-services account: the ECR registry and one
// FireLens router with a file config (correct on Fargate).
func (b *builder) shared(a *inventory.Account) {
	const r = "eu-west-1"
	exec := role(a, "shared-router-exec", trustHardened(Shared), nil, []string{execManaged}, "")
	c := b.cluster(a, r, "shared")
	router := b.td(a, r, "shared-log-router", 2, exec, "FARGATE",
		ctr("log_router", ecrImage(Shared, r, "platform/fluent-bit:2.2"), firelens("fluentbit", map[string]string{"config-file-type": "file", "config-file-value": "/fluent-bit/etc/extra.conf"}),
			logs("/ecs/shared-router", r, "router", false)))
	service(c, "shared-log-router", inventory.LaunchFargate, "LATEST", router)
}
