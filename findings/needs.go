package findings

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// Some resources are known only in part until run time: the ECS task ID in
// an awslogs stream name, the Docker container ID (the stream name without
// awslogs-stream-prefix, EC2 only), and the 6 random characters Secrets
// Manager appends to a secret's name when the task definition names the
// secret without them and it was not resolved. The policy engine evaluates
// such a need with the unknown run (policy.Request.ResourceUnknown): a
// policy that covers every value allows it, one that covers some values
// makes it indeterminate, one that covers none denies it. Need.Resource
// shows the run as a placeholder.
var (
	placeholderTaskID       = policy.ECSTaskID().Placeholder()            // <task-id>
	placeholderContainerID  = policy.DockerContainerID().Placeholder()    // <container-id>
	placeholderSecretSuffix = policy.SecretsManagerSuffix().Placeholder() // ??????
)

// reading is the resource the policy engine evaluates for a need whose
// resource is known only in part: the known prefix, the unknown run, and
// why it is unknown.
type reading struct {
	kind    readingKind
	prefix  string
	unknown *policy.UnknownSegment
	why     string
}

// readingKind says what the unknown run of a resource is.
type readingKind int

const (
	readingNone         readingKind = iota
	readingSecretSuffix             // a secret's 6-character suffix
	readingTaskID                   // the ECS task ID in an awslogs stream name
	readingContainerID              // the Docker container ID in an awslogs stream name
)

// reading is the need's reading with an unknown run: its resource's, or
// for an ambiguous secret name the second reading's.
func (n *derivedNeed) reading() *reading {
	if n.req != nil {
		return n.req
	}
	return n.alt
}

// readingKind is the kind of the need's unknown run.
func (n *derivedNeed) readingKind() readingKind {
	if r := n.reading(); r != nil {
		return r.kind
	}
	return readingNone
}

func (r *reading) display() string { return policy.DisplayResource(r.prefix, r.unknown) }

const (
	whySecretSuffix = "the task definition names the secret without its 6-character suffix and the secret was not resolved"
	whyTaskID       = "the stream name ends in the task's ID, which is new for every task: a task whose ID the policies do not allow cannot start"
	whyContainerID  = "without awslogs-stream-prefix the stream is named after the Docker container ID, which is new for every container: a task whose container ID the policies do not allow cannot start"
)

// partialSecret is the reading of a secret ARN known without its suffix.
func partialSecret(arnWithoutSuffix string) *reading {
	return &reading{kind: readingSecretSuffix, prefix: arnWithoutSuffix + "-", unknown: policy.SecretsManagerSuffix(), why: whySecretSuffix}
}

// pullThroughCachePrefixes are the repository prefixes the ECR console
// proposes for pull-through cache rules (ecs-facts §1.3).
var pullThroughCachePrefixes = map[string]bool{
	"ecr-public": true, "kubernetes": true, "quay": true, "docker-hub": true,
	"github": true, "azure": true, "gitlab": true,
}

// pastedRedacted: a valueFrom the collection redacted because it looked
// like a credential.
const pastedRedacted = "redacted when collected"

// derivedNeed is a Need plus what evaluation needs to know about it.
type derivedNeed struct {
	Need
	// exist is the resource the need requires at start and what is known
	// of it (exist.go); nil when the need requires none or nothing was
	// looked up.
	exist *existence
	// ptc is, for an ECR need, how the pull goes through a pull-through
	// cache rule.
	ptc ptcState
	// groupARN: for logs:CreateLogStream, the log group ARN that older
	// authorization checked (ecs-facts §1.4, UNCONFIRMED which applies).
	groupARN string
	// resourceAccount, resourceRegion: where the resource lives.
	resourceAccount, resourceRegion string
	// severity if the need is not granted.
	severity Severity
	// capabilities this need implies on EC2 (ecs-facts §2.2), and the
	// feature minimums it implies (see versions.go).
	minFeature string
	// pasted is, for an invalid reference whose text looks like a secret
	// value itself (never repeated in any output), what it looks like: a
	// value class (inventory.ClassifyValue) or pastedRedacted.
	pasted string
}

// hosting says where a task definition runs.
type hosting struct {
	EC2, Fargate, External bool
}

// onlyEC2: the instance-role fallback for ECR pulls and awslogs exists on
// EC2 only. Current ECS documentation lists External (ECS Anywhere) with
// Fargate as needing the execution role for them (ecs-facts §1.1).
func (h hosting) onlyEC2() bool { return h.EC2 && !h.External && !h.Fargate }

func (h hosting) list() []string {
	var out []string
	if h.EC2 {
		out = append(out, inventory.LaunchEC2)
	}
	if h.External {
		out = append(out, inventory.LaunchExternal)
	}
	if h.Fargate {
		out = append(out, inventory.LaunchFargate)
	}
	return out
}

// tdInput is what need derivation reads.
type tdInput struct {
	td        *inventory.TaskDefinition
	partition string
	account   string
	region    string
	host      hosting
	// resolve finds resolved resource metadata; nil-safe.
	res *resources
}

// deriveNeeds lists every permission the task definition needs from its
// execution role (or, on EC2 without one, from the instance role).
func deriveNeeds(in tdInput) []derivedNeed {
	var out []derivedNeed
	td := in.td
	hasExec := td.ExecutionRoleARN != ""
	// Who serves ECR pulls and awslogs: the execution role when the task
	// definition names one; otherwise, on EC2 only, the instance
	// role (ecs-facts §1.1).
	fallback := ServedByExecutionRole
	if !hasExec && in.host.onlyEC2() {
		fallback = ServedByInstanceRole
	}
	for ci, c := range td.ContainerDefinitions {
		base := fmt.Sprintf("containerDefinitions[%d]", ci)
		if img, ok := parseECRImage(c.Image); ok {
			out = append(out, in.ecrNeeds(img, c.Image, c.Name, base+".image", fallback)...)
		}
		if lc := c.LogConfiguration; lc != nil {
			if lc.LogDriver == "awslogs" {
				out = append(out, in.awslogsNeeds(lc, c.Name, base+".logConfiguration", fallback)...)
			}
			for si, s := range lc.SecretOptions {
				out = append(out, in.secretNeeds(s.ValueFrom, c.Name, fmt.Sprintf("%s.logConfiguration.secretOptions[%d].valueFrom", base, si), "secretOptions")...)
			}
		}
		if rc := c.RepositoryCredentials; rc != nil && rc.CredentialsParameter != "" {
			out = append(out, in.registryNeeds(rc.CredentialsParameter, c.Name, base+".repositoryCredentials.credentialsParameter")...)
		}
		for si, s := range c.Secrets {
			out = append(out, in.secretNeeds(s.ValueFrom, c.Name, fmt.Sprintf("%s.secrets[%d].valueFrom", base, si), "secrets")...)
		}
		for fi, f := range c.EnvironmentFiles {
			if !strings.EqualFold(f.Type, "s3") && f.Type != "" {
				continue
			}
			out = append(out, in.s3Needs(f.Value, c.Name, fmt.Sprintf("%s.environmentFiles[%d].value", base, fi), FeatureEnvironmentFile)...)
		}
		if fl := c.FirelensConfiguration; fl != nil && fl.Options["config-file-type"] == "s3" {
			out = append(out, in.s3Needs(fl.Options["config-file-value"], c.Name, base+".firelensConfiguration.options.config-file-value", FeatureFirelensS3Config)...)
		}
	}
	for vi, v := range td.Volumes {
		fsx := v.FSxWindowsFileServerVolumeConfiguration
		if fsx == nil || fsx.AuthorizationConfig == nil || fsx.AuthorizationConfig.CredentialsParameter == "" {
			continue
		}
		path := fmt.Sprintf("volumes[%d].fsxWindowsFileServerVolumeConfiguration.authorizationConfig.credentialsParameter", vi)
		for _, n := range in.secretNeeds(fsx.AuthorizationConfig.CredentialsParameter, "", path, "fsx") {
			if n.Feature == FeatureSecretsManager || n.Feature == FeatureSSMParameter {
				n.Note = strings.TrimSpace("FSx for Windows File Server credentials. " + n.Note)
			}
			out = append(out, n)
		}
	}
	return out
}

// ecrImage is a parsed private ECR image reference.
type ecrImage struct {
	registry, region, partition, repository string
	pullThrough                             bool
}

var ecrHostRe = regexp.MustCompile(`^([0-9]{12})\.dkr\.(ecr|ecr-fips)\.([a-z0-9-]+)\.(amazonaws\.com|amazonaws\.com\.cn|c2s\.ic\.gov|sc2s\.sgov\.gov)$`)

// ecrDualStackRe is the dual-stack registry host form
// <account>.dkr-ecr[-fips].<region>.on.aws (UNCONFIRMED in ecs-facts §1.3;
// treated as ECR so that its needs are not silently skipped).
var ecrDualStackRe = regexp.MustCompile(`^([0-9]{12})\.dkr-(ecr|ecr-fips)\.([a-z0-9-]+)\.(on\.aws)$`)

// parseECRImage recognises private ECR images:
// <account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest]
// (and the China and FIPS host forms, ecs-facts §1.3, which are UNCONFIRMED
// but follow the same pattern). Public ECR, Docker Hub and other registries
// need no ECR permissions.
func parseECRImage(image string) (ecrImage, bool) {
	host, rest, ok := strings.Cut(strings.TrimSpace(image), "/")
	if !ok {
		return ecrImage{}, false
	}
	m := ecrHostRe.FindStringSubmatch(strings.ToLower(host))
	if m == nil {
		m = ecrDualStackRe.FindStringSubmatch(strings.ToLower(host))
	}
	if m == nil {
		return ecrImage{}, false
	}
	repo := rest
	if i := strings.Index(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i >= 0 && !strings.Contains(repo[i:], "/") {
		repo = repo[:i]
	}
	if repo == "" {
		return ecrImage{}, false
	}
	part := "aws"
	switch m[4] {
	case "amazonaws.com.cn":
		part = "aws-cn"
	case "c2s.ic.gov":
		part = "aws-iso"
	case "sc2s.sgov.gov":
		part = "aws-iso-b"
	}
	if strings.HasPrefix(m[3], "us-gov-") {
		part = "aws-us-gov"
	}
	first, _, _ := strings.Cut(repo, "/")
	return ecrImage{
		registry: m[1], region: m[3], partition: part, repository: repo,
		pullThrough: strings.Contains(repo, "/") && pullThroughCachePrefixes[first],
	}, true
}

func (in tdInput) ecrNeeds(img ecrImage, image, container, path, servedBy string) []derivedNeed {
	repoARN := fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", img.partition, img.region, img.registry, img.repository)
	var ex *existence
	ptc := ptcNo
	if img.pullThrough {
		ptc = ptcMaybe
	}
	if ref, ok := inventory.ParseECRImage(image); ok {
		ex, ptc = in.res.image(ref, img.pullThrough)
	}
	mk := func(action, resource string, sev Severity, optional bool, note string) derivedNeed {
		return derivedNeed{
			Need: Need{Feature: FeatureECRPull, Action: action, Resource: resource, Container: container,
				FieldPath: path, ServedBy: servedBy, Optional: optional, Note: note},
			resourceAccount: img.registry, resourceRegion: img.region, severity: sev,
			minFeature: featECRExec, exist: ex, ptc: ptc,
		}
	}
	cross := ""
	if img.registry != in.account {
		cross = fmt.Sprintf("Cross-account pull from registry %s: its repository policy must also allow the role.", img.registry)
	}
	out := []derivedNeed{
		mk("ecr:GetAuthorizationToken", "*", Critical, false, ""),
		mk("ecr:BatchGetImage", repoARN, Critical, false, cross),
		mk("ecr:GetDownloadUrlForLayer", repoARN, Critical, false, cross),
		mk("ecr:BatchCheckLayerAvailability", repoARN, Low, true, "Granted by AmazonECSTaskExecutionRolePolicy; ECR's own guidance does not list it as required."),
	}
	// GetAuthorizationToken has no resource; it is called in the registry's
	// region, and it does not depend on the repository.
	out[0].resourceAccount, out[0].exist = in.account, nil
	switch ptc {
	case ptcMaybe, ptcCached:
		out = append(out, mk("ecr:BatchImportUpstreamImage", repoARN, High, false,
			"Pull-through cache repository: needed to import an image that is not cached yet (an identity policy, the registry's permissions policy or the repository policy can grant it)."))
	case ptcImport:
		out = append(out, mk("ecr:BatchImportUpstreamImage", repoARN, Critical, false,
			"Pull-through cache repository: the image is not cached yet, so the first pull imports it from upstream (an identity policy, the registry's permissions policy or the repository policy can grant it)."))
	case ptcCreate:
		out = append(out,
			mk("ecr:BatchImportUpstreamImage", repoARN, Critical, false,
				"Pull-through cache repository: it does not exist yet, so the first pull creates it and imports the image from upstream (an identity policy or the registry's permissions policy can grant it)."),
			mk("ecr:CreateRepository", repoARN, Critical, false,
				"Pull-through cache repository: it does not exist yet, and the first pull creates it (an identity policy or the registry's permissions policy can grant it)."))
	}
	return out
}

func (in tdInput) awslogsNeeds(lc *inventory.LogConfiguration, container, path, servedBy string) []derivedNeed {
	group := lc.Options["awslogs-group"]
	if group == "" {
		return nil // ECS rejects such a task definition at registration
	}
	region := lc.Options["awslogs-region"]
	if region == "" {
		region = in.region
	}
	groupARN := fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", in.partition, region, in.account, group)
	stream := &reading{kind: readingContainerID, prefix: groupARN + ":log-stream:", unknown: policy.DockerContainerID(), why: whyContainerID}
	if p := lc.Options["awslogs-stream-prefix"]; p != "" {
		stream = &reading{kind: readingTaskID, prefix: stream.prefix + p + "/" + container + "/", unknown: policy.ECSTaskID(), why: whyTaskID}
	}
	mk := func(action string, res *reading, resource string, sev Severity, optional bool, note, field string) derivedNeed {
		if res != nil {
			resource = res.display()
		}
		return derivedNeed{
			Need: Need{Feature: FeatureAwslogs, Action: action, Resource: resource, Container: container,
				FieldPath: path + field, ServedBy: servedBy, Optional: optional, Note: note, req: res},
			resourceAccount: in.account, resourceRegion: region, severity: sev, minFeature: featAwslogsExec,
		}
	}
	cs := mk("logs:CreateLogStream", stream, "", Critical, false, "", ".options.awslogs-group")
	cs.groupARN = groupARN
	out := []derivedNeed{cs, mk("logs:PutLogEvents", stream, "", Critical, false, "", ".options.awslogs-group")}
	// The option is read as the log driver reads it (True and 1 are true);
	// the driver refuses a value that is not a boolean, so the container
	// cannot start with it.
	create, raw, valid := inventory.AwslogsCreateGroup(lc.Options)
	if !valid {
		out = append(out, derivedNeed{
			Need: Need{Feature: FeatureAwslogs, Action: "logs:CreateLogGroup", Resource: raw, Container: container,
				FieldPath: path + ".options.awslogs-create-group", ServedBy: servedBy, Invalid: true,
				Note: "the awslogs log driver reads awslogs-create-group as a boolean (true, false, 1, 0, t or f, in any case) and refuses any other value"},
			severity: Critical, minFeature: featAwslogsExec,
		})
	}
	if !create && group != inventory.Redacted && group != inventory.Omitted {
		ex := in.res.logGroup(in.account, region, group, groupARN)
		out[0].exist, out[1].exist = ex, ex
	}
	if create {
		out = append(out, mk("logs:CreateLogGroup", nil, groupARN, Medium, true,
			"Needed only when the log group does not exist yet (awslogs-create-group is true).", ".options.awslogs-create-group"))
	}
	return out
}

// secretRef is a parsed secrets[].valueFrom.
type secretRef struct {
	provider string // "secretsmanager" or "ssm"
	arn      string // the ARN IAM evaluates, as displayed (NAME-?????? when partial)
	// partial: secretsmanager, suffix unknown: the ARN IAM evaluates is
	// known only in part.
	partial *reading
	// ambiguous: secretsmanager, an unresolved name ending like -XXXXXX:
	// arn as written, or the partial ARN of a longer name.
	ambiguous *reading
	jsonKey   bool // secretsmanager: json-key/version-stage/version-id form
	account   string
	region    string
	invalid   string // why the reference cannot work
	reference bool   // ssm /aws/reference/secretsmanager/...
	refSecret string // for a reference: the secret name
}

var secretSuffixRe = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)

// parseSecretRef interprets valueFrom (ecs-facts §1.6): a Secrets Manager
// ARN (full, partial, or with json-key:version-stage:version-id), an SSM
// parameter ARN, or an SSM parameter name (never a secret name).
func (in tdInput) parseSecretRef(v string) secretRef {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "arn:") {
		parts := strings.SplitN(v, ":", 6)
		if len(parts) < 6 {
			return secretRef{invalid: "not a complete ARN"}
		}
		part, svc, region, acct, res := parts[1], parts[2], parts[3], parts[4], parts[5]
		switch svc {
		case "secretsmanager":
			fields := strings.Split(res, ":")
			if fields[0] != "secret" || (len(fields) != 2 && len(fields) != 5) || fields[1] == "" {
				return secretRef{provider: svc, invalid: "an invalid ARN format for a Secrets Manager secret (expected secret:NAME or secret:NAME:json-key:version-stage:version-id)"}
			}
			r := secretRef{provider: svc, account: acct, region: region}
			r.jsonKey = len(fields) == 5 && (fields[2] != "" || fields[3] != "" || fields[4] != "")
			name := fields[1]
			base := fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:", part, region, acct)
			if s := in.res.secretByARN(base + name); s != nil {
				r.arn = s.ARN
				return r
			}
			if secretSuffixRe.MatchString(name) {
				r.arn = base + name
				r.ambiguous = partialSecret(base + name)
			} else {
				r.partial = partialSecret(base + name)
				r.arn = r.partial.display()
			}
			return r
		case "ssm":
			if !strings.HasPrefix(res, "parameter/") {
				return secretRef{provider: svc, invalid: "an SSM ARN that is not a parameter"}
			}
			return secretRef{provider: svc, arn: v, account: acct, region: region}
		default:
			return secretRef{invalid: fmt.Sprintf("an ARN of service %q, which cannot hold a secret", svc)}
		}
	}
	if v == "" {
		return secretRef{invalid: "empty"}
	}
	name := strings.TrimPrefix(v, "/")
	r := secretRef{provider: "ssm", account: in.account, region: in.region,
		arn: fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/%s", in.partition, in.region, in.account, name)}
	if rest, ok := strings.CutPrefix(v, "/aws/reference/secretsmanager/"); ok && rest != "" {
		r.reference = true
		r.refSecret = rest
	}
	return r
}

func (in tdInput) secretNeeds(valueFrom, container, path, kind string) []derivedNeed {
	if !strings.HasPrefix(strings.TrimSpace(valueFrom), "arn:") {
		class := inventory.ClassifyValue(valueFrom)
		if valueFrom == inventory.Redacted {
			class = pastedRedacted
		}
		if class != "" {
			// A value pasted where a parameter name belongs: never copy it.
			return []derivedNeed{{
				Need: Need{Feature: FeatureSSMParameter, Action: "ssm:GetParameters", Resource: inventory.Redacted, Container: container, FieldPath: path,
					ServedBy: ServedByExecutionRole, Invalid: true, Note: "the value looks like a secret itself (" + class + ") rather than a parameter name or ARN; it is not repeated here — move it to Secrets Manager or Parameter Store and rotate it"},
				severity: Critical, pasted: class,
			}}
		}
	}
	ref := in.parseSecretRef(valueFrom)
	feature := FeatureSSMParameter
	if ref.provider == "secretsmanager" {
		feature = FeatureSecretsManager
	}
	if kind == "fsx" {
		feature = FeatureFSxCredentials
	}
	minFeat := featSSMSecrets
	switch {
	case kind == "secretOptions":
		minFeat = featSecretOptions
	case kind == "fsx":
		minFeat = ""
	case ref.provider == "secretsmanager" && ref.jsonKey:
		minFeat = featASMJSONKey
	case ref.provider == "secretsmanager":
		minFeat = featASMSecrets
	}
	if ref.invalid != "" {
		return []derivedNeed{{
			Need: Need{Feature: feature, Action: "secretsmanager:GetSecretValue", Resource: valueFrom, Container: container,
				FieldPath: path, ServedBy: ServedByExecutionRole, Invalid: true, Note: ref.invalid},
			severity: Critical, minFeature: minFeat,
		}}
	}
	var out []derivedNeed
	switch ref.provider {
	case "secretsmanager":
		n := derivedNeed{
			Need: Need{Feature: feature, Action: "secretsmanager:GetSecretValue", Resource: ref.arn, Container: container,
				FieldPath: path, ServedBy: ServedByExecutionRole, req: ref.partial, alt: ref.ambiguous},
			resourceAccount: ref.account, resourceRegion: ref.region,
			severity: Critical, minFeature: minFeat,
		}
		if ref.partial != nil {
			n.Note = "Partial ARN: the secret's 6-character suffix is not known; a policy must allow NAME-??????, NAME-* or broader."
		}
		n.exist = in.res.secret(in.res.secretByARN(ref.arn), secretLookupRef(valueFrom), in.partition, ref.account, ref.region)
		out = append(out, n)
		out = append(out, in.secretKMSNeeds(ref, container, path, feature)...)
	case "ssm":
		// The scanner looks up what it can name: every reference but an
		// FSx credential given by name.
		var ex *existence
		_, refName, byARNRef := strings.Cut(ref.arn, ":parameter/aws/reference/secretsmanager/")
		switch {
		case byARNRef && !ref.reference && refName != "":
			// A reference by ARN: the scanner looks the secret up.
			ex = in.res.secret(in.res.secretByName(ref.account, ref.region, refName), refName, in.partition, ref.account, ref.region)
		case kind != "fsx" || strings.HasPrefix(strings.TrimSpace(valueFrom), "arn:"):
			ex = in.res.parameter(ref.arn, parameterCandidates(valueFrom), ref.account, ref.region)
		}
		out = append(out, derivedNeed{
			Need: Need{Feature: feature, Action: "ssm:GetParameters", Resource: ref.arn, Container: container,
				FieldPath: path, ServedBy: ServedByExecutionRole},
			resourceAccount: ref.account, resourceRegion: ref.region, severity: Critical, minFeature: minFeat, exist: ex,
		})
		if ref.account != in.account {
			out[len(out)-1].Note = "The parameter is in another account; ECS documentation (2023) requires parameters in the task's account."
		}
		if ref.reference {
			sref := secretRef{provider: "secretsmanager", account: in.account, region: ref.region,
				partial: partialSecret(fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s", in.partition, ref.region, in.account, ref.refSecret))}
			sref.arn = sref.partial.display()
			s := in.res.secretByName(in.account, ref.region, ref.refSecret)
			if s != nil {
				sref.arn, sref.partial = s.ARN, nil
			}
			// Both calls need the secret the parameter references.
			ex := in.res.secret(s, ref.refSecret, in.partition, in.account, ref.region)
			out[len(out)-1].exist = ex
			out = append(out, derivedNeed{
				Need: Need{Feature: FeatureSecretsManager, Action: "secretsmanager:GetSecretValue", Resource: sref.arn, Container: container,
					FieldPath: path, ServedBy: ServedByExecutionRole, Note: "SSM parameter that references a Secrets Manager secret.", req: sref.partial},
				resourceAccount: in.account, resourceRegion: ref.region, severity: Critical, minFeature: minFeat, exist: ex,
			})
			out = append(out, in.secretKMSNeeds(sref, container, path, FeatureSecretsManager)...)
		} else {
			out = append(out, in.parameterKMSNeeds(ref, container, path)...)
		}
	}
	return out
}

func (in tdInput) registryNeeds(param, container, path string) []derivedNeed {
	var ref secretRef
	if strings.HasPrefix(param, "arn:") {
		ref = in.parseSecretRef(param)
	} else {
		// A name: the secret is in the task's region and account (ecs-facts §1.5).
		ref = secretRef{provider: "secretsmanager", account: in.account, region: in.region}
		if s := in.res.secretByName(in.account, in.region, param); s != nil {
			ref.arn = s.ARN
		} else {
			ref.partial = partialSecret(fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s", in.partition, in.region, in.account, param))
			ref.arn = ref.partial.display()
		}
	}
	if ref.invalid != "" || ref.provider != "secretsmanager" {
		why := ref.invalid
		if why == "" {
			why = "repositoryCredentials must name a Secrets Manager secret"
		}
		return []derivedNeed{{
			Need: Need{Feature: FeaturePrivateRegistry, Action: "secretsmanager:GetSecretValue", Resource: param, Container: container,
				FieldPath: path, ServedBy: ServedByExecutionRole, Invalid: true, Note: why},
			severity: Critical, minFeature: featPrivateRegistry,
		}}
	}
	n := derivedNeed{
		Need: Need{Feature: FeaturePrivateRegistry, Action: "secretsmanager:GetSecretValue", Resource: ref.arn, Container: container,
			FieldPath: path, ServedBy: ServedByExecutionRole, req: ref.partial, alt: ref.ambiguous},
		resourceAccount: ref.account, resourceRegion: ref.region, severity: Critical, minFeature: featPrivateRegistry,
		exist: in.res.secret(in.res.secretByARN(ref.arn), secretLookupRef(param), in.partition, ref.account, ref.region),
	}
	if ref.partial != nil {
		n.Note = "Secret named without its 6-character suffix; a policy must allow NAME-??????, NAME-* or broader."
	}
	return append([]derivedNeed{n}, in.secretKMSNeeds(ref, container, path, FeaturePrivateRegistry)...)
}

// secretKMSNeeds adds kms:Decrypt when the secret is known to use a customer
// managed key (ecs-facts §1.9).
func (in tdInput) secretKMSNeeds(ref secretRef, container, path, feature string) []derivedNeed {
	s := in.res.secretByARN(ref.arn)
	if s == nil {
		return nil
	}
	if ref.account != in.account && (s.KMSKeyID == "" || strings.Contains(s.KMSKeyID, "alias/aws/secretsmanager")) {
		// ecs-facts §1.6: a secret read from another account must be
		// encrypted with a customer managed key.
		return []derivedNeed{{
			Need: Need{Feature: FeatureKMSDecrypt, Action: "kms:Decrypt", Resource: "alias/aws/secretsmanager", Container: container, FieldPath: path,
				ServedBy: ServedByExecutionRole, Invalid: true, Note: "secret " + s.ARN + " is in account " + ref.account +
					" and encrypted with the AWS managed key aws/secretsmanager, which cannot be used from another account; re-encrypt it with a customer managed key whose key policy allows the role"},
			severity: Critical,
		}}
	}
	if s.KMSKeyID == "" {
		return nil
	}
	return in.kmsNeed(s.KMSKeyID, ref.account, ref.region, container, path, "Secret "+s.Name+" is encrypted with a customer managed key.")
}

func (in tdInput) parameterKMSNeeds(ref secretRef, container, path string) []derivedNeed {
	p := in.res.parameterByARN(ref.arn)
	if p == nil || p.Type != "SecureString" || p.KeyID == "" || strings.EqualFold(p.KeyID, "alias/aws/ssm") {
		return nil
	}
	return in.kmsNeed(p.KeyID, ref.account, ref.region, container, path, "SecureString parameter "+p.Name+" is encrypted with a customer managed key.")
}

func (in tdInput) kmsNeed(keyID, account, region, container, path, note string) []derivedNeed {
	key := in.res.kmsKey(keyID, account, region)
	arn := keyID
	switch {
	case key != nil:
		if key.Manager == "AWS" {
			return nil // AWS managed keys need no grant inside the account
		}
		arn = key.ARN
	case strings.HasPrefix(keyID, "arn:") && strings.Contains(keyID, ":key/"):
	case strings.HasPrefix(keyID, "alias/aws/") || strings.Contains(keyID, ":alias/aws/"):
		// An AWS managed key, by alias name or alias ARN: no grant needed
		// inside the account (ecs-facts §1.9).
		return nil
	case strings.HasPrefix(keyID, "alias/") || strings.Contains(keyID, ":alias/"):
		note += " The key is named by alias " + keyID + "; alias ARNs do not authorize key use, so the key ARN could not be determined."
	default:
		arn = fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", in.partition, region, account, keyID)
	}
	return []derivedNeed{{
		Need: Need{Feature: FeatureKMSDecrypt, Action: "kms:Decrypt", Resource: arn, Container: container,
			FieldPath: path, ServedBy: ServedByExecutionRole, Note: note},
		resourceAccount: inventoryAccountOf(arn, account), resourceRegion: region, severity: Critical,
	}}
}

func inventoryAccountOf(arn, def string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && inventory.IsAccountID(parts[4]) {
		return parts[4]
	}
	return def
}

// s3Needs: s3:GetObject on the object and s3:GetBucketLocation on the
// bucket (ecs-facts §1.7, §1.8).
func (in tdInput) s3Needs(objectARN, container, path, feature string) []derivedNeed {
	minFeat := featEnvFiles
	if feature == FeatureFirelensS3Config {
		minFeat = featFirelensS3
	}
	part, rest, ok := cutS3ARN(objectARN)
	if !ok {
		return []derivedNeed{{
			Need: Need{Feature: feature, Action: "s3:GetObject", Resource: objectARN, Container: container, FieldPath: path,
				ServedBy: ServedByExecutionRole, Invalid: true, Note: "not an S3 object ARN (arn:aws:s3:::bucket/key)"},
			severity: Critical, minFeature: minFeat,
		}}
	}
	bucket, key, _ := strings.Cut(rest, "/")
	// An S3 ARN names neither account nor region: the bucket's record
	// gives its owner and region; without one the bucket is taken to be in
	// the task's account and region.
	account, region, note := in.account, in.region, ""
	if b := in.res.bucket(bucket); b != nil && b.Status == inventory.Exists {
		account = b.AccountID
		if b.Region != "" {
			region = b.Region
		}
		if account != in.account {
			note = "The bucket is in account " + account + ": its bucket policy must also allow the role."
		}
	}
	bucketX, objectX := in.res.s3(part, bucket, key, in.account)
	mk := func(action, resource string, ex *existence) derivedNeed {
		return derivedNeed{
			Need: Need{Feature: feature, Action: action, Resource: resource, Container: container, FieldPath: path,
				ServedBy: ServedByExecutionRole, Note: note},
			resourceAccount: account, resourceRegion: region, severity: Critical, minFeature: minFeat, exist: ex,
		}
	}
	return []derivedNeed{
		mk("s3:GetObject", objectARN, objectX),
		mk("s3:GetBucketLocation", fmt.Sprintf("arn:%s:s3:::%s", part, bucket), bucketX),
	}
}

func cutS3ARN(a string) (partition, rest string, ok bool) {
	parts := strings.SplitN(a, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "s3" || parts[3] != "" || parts[4] != "" {
		return "", "", false
	}
	bucket, key, found := strings.Cut(parts[5], "/")
	if !found || bucket == "" || key == "" {
		return "", "", false
	}
	return parts[1], parts[5], true
}
