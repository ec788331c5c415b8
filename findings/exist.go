package findings

import (
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

// What a task needs at start must exist (RS001). The scanner looks every
// referenced resource up and records an existence status (docs/snapshot.md,
// "What tasks need to start"); here each need that requires a resource is
// tied to what is known of it:
//
//   - it exists: nothing to say;
//   - it does not exist, or cannot be the one referenced (a secret
//     scheduled for deletion, an archived image, a name ECR cannot hold):
//     RS001, one finding per task definition and resource;
//   - it could not be checked (the lookup failed, or the resource is in an
//     account or region outside the scan): the need is Indeterminate, an
//     ER005 whose unknown names what would settle it, never RS001 and
//     never a pass;
//   - nothing was looked up because resolution was off
//     (--no-resolve-resources, scope.resources "skipped") or the snapshot
//     does not say (scope.resources absent): one coverage gap says so, and
//     the needs are decided on the policies alone, as before existence was
//     collected.
//
// A repository or image under a pull-through cache rule is not missing:
// the first pull creates the repository and imports the image, which needs
// ecr:BatchImportUpstreamImage and, while the repository does not exist,
// ecr:CreateRepository (docs/facts.md §1.3).

// existStatus is what is known of a resource a need requires.
type existStatus int

const (
	existNotLooked existStatus = iota // resolution off or not recorded (a coverage gap)
	existYes                          // it exists (or the first pull through a cache rule creates it)
	existMissing                      // RS001
	existUnknown                      // the lookup failed or the owner is outside the scan (ER005)
)

// existKind is what a required resource is.
type existKind string

const (
	existRepository existKind = "ECR repository"
	existImage      existKind = "image"
	existLogGroup   existKind = "log group"
	existBucket     existKind = "S3 bucket"
	existObject     existKind = "S3 object"
	existSecret     existKind = "secret"
	existParameter  existKind = "SSM parameter"
)

// existence is a resource that needs require at start and what is known of
// it. Needs of one reference share one value.
type existence struct {
	status existStatus
	kind   existKind
	// subject names the resource: an ARN, or the name as referenced (a
	// secret or parameter name, a repository name with its tag).
	subject string
	// account and region own the resource ("" region for an S3 bucket of
	// unknown region).
	account, region string
	// what is the resource in words, without article: `log group /ecs/app
	// in account 111122223333, us-east-1`.
	what string
	// why says, for a missing resource, why it cannot be used ("does not
	// exist", "is scheduled for deletion on …").
	why string
	// unknown is, for existUnknown, what the need's decision hangs on.
	unknown *Unknown
	// create says, for a missing resource, what creates (or restores) it.
	create string
}

// causeKey identifies a missing resource among a task definition's RS001
// findings.
func (x *existence) causeKey() string {
	return "missing|" + string(x.kind) + "|" + x.subject
}

// existIndex indexes the existence records of the inventory (part of
// resources).
type existIndex struct {
	// resolution is the inventory's scope.resources: inventory
	// ResourcesResolved, ResourcesSkipped or "" (not recorded).
	resolution string
	// scanned are the account|region pairs whose status is scanned.
	scanned map[string]bool
	// accounts are the accounts of the inventory.
	accounts       map[string]bool
	repos          map[string]*inventory.ECRRepository // account|region|name
	registries     map[string]*inventory.ECRRegistry   // account|region
	logGroups      map[string]*inventory.LogGroup      // account|region|name
	buckets        map[string]*inventory.S3Bucket      // name
	missingSecrets map[string]bool                     // account|region|reference
	missingParams  map[string]bool                     // account|region|name
	paramsByName   map[string]*inventory.Parameter     // account|region|name
}

func (r *resources) indexExistence(inv *inventory.Inventory) {
	x := &r.exist
	x.resolution = inv.Scope.Resources
	x.scanned, x.accounts = map[string]bool{}, map[string]bool{}
	x.buckets = map[string]*inventory.S3Bucket{}
	for _, a := range inv.Accounts {
		x.accounts[a.ID] = true
		for _, reg := range a.Regions {
			if reg.Status == inventory.RegionScanned {
				x.scanned[a.ID+"|"+reg.Name] = true
			}
		}
	}
	for _, b := range inv.S3Buckets {
		if b != nil {
			x.buckets[b.Name] = b
		}
	}
}

// addRegion indexes the existence records of one account×region.
func (x *existIndex) addRegion(account string, reg *inventory.Region) {
	k := account + "|" + reg.Name + "|"
	for _, repo := range reg.ECRRepositories {
		if repo != nil {
			x.repos[k+repo.Name] = repo
		}
	}
	if reg.ECRRegistry != nil {
		x.registries[account+"|"+reg.Name] = reg.ECRRegistry
	}
	for _, g := range reg.LogGroups {
		if g != nil {
			x.logGroups[k+g.Name] = g
		}
	}
	for _, s := range reg.MissingSecrets {
		x.missingSecrets[k+s] = true
	}
	for _, p := range reg.MissingParameters {
		x.missingParams[k+p] = true
	}
	for _, p := range reg.Parameters {
		if p != nil {
			x.paramsByName[k+p.Name] = p
		}
	}
}

// looked says whether existence was looked up in this inventory.
func (r *resources) looked() bool {
	return r != nil && r.exist.resolution == inventory.ResourcesResolved
}

// registry is the ECR registry record of an account and region, or nil.
func (r *resources) registry(account, region string) *inventory.ECRRegistry {
	if r == nil {
		return nil
	}
	g, _ := find(r, func(r *resources) map[string]*inventory.ECRRegistry { return r.exist.registries }, account+"|"+region)
	return g
}

// repository is a repository record, or nil.
func (r *resources) repository(account, region, name string) *inventory.ECRRepository {
	if r == nil {
		return nil
	}
	repo, _ := find(r, func(r *resources) map[string]*inventory.ECRRepository { return r.exist.repos }, account+"|"+region+"|"+name)
	return repo
}

// bucket is an S3 bucket record, or nil.
func (r *resources) bucket(name string) *inventory.S3Bucket {
	if r == nil {
		return nil
	}
	return r.exist.buckets[name]
}

// unchecked is the existence of a resource whose lookup did not give an
// answer: the owner is outside the scan, or the lookup failed.
func (r *resources) unchecked(kind existKind, subject, account, region, what, permission string) *existence {
	x := &existence{status: existUnknown, kind: kind, subject: subject, account: account, region: region, what: what}
	u := &Unknown{Kind: UnknownExistence, Subject: subject}
	where := "account " + account
	if region != "" {
		where += ", " + region
	}
	switch {
	case !r.exist.accounts[account]:
		u.Description = "whether " + what + " exists could not be checked: account " + account + " is outside the scan"
		u.Settle = "Include account " + account + " in the scan (the scanning role there needs " + permission + "), or confirm by hand that " + what + " exists."
	case region != "" && !r.exist.scanned[account+"|"+region]:
		u.Description = "whether " + what + " exists could not be checked: region " + region + " of account " + account + " was not scanned"
		u.Settle = "Include region " + region + " of account " + account + " in the scan (the scanning role needs " + permission + "), or confirm by hand that " + what + " exists."
	default:
		u.Description = "whether " + what + " exists could not be checked: the lookup failed (see the coverage errors)"
		u.Settle = "Let the scanning role look it up: it needs " + permission + " in " + where + "."
	}
	x.unknown = u
	return x
}

// ptcState says how a pull reaches an image through a pull-through cache
// rule.
type ptcState int

const (
	ptcNo     ptcState = iota // not under a pull-through cache rule
	ptcMaybe                  // the name looks like a cached one (a console default prefix) and the registry's rules are not known
	ptcCached                 // under a rule, and the image is cached
	ptcImport                 // under a rule, and the image is not cached yet: the first pull imports it
	ptcCreate                 // under a rule, and the repository does not exist yet: the first pull creates it
)

// ptcPrefix is the prefix of the rule a repository name is under ("" for
// none): the longest rule prefix followed by "/".
func ptcPrefix(rules []inventory.ECRPullThroughCacheRule, name string) string {
	best := ""
	for _, rule := range rules {
		if strings.HasPrefix(name, rule.Prefix+"/") && len(rule.Prefix) > len(best) {
			best = rule.Prefix
		}
	}
	return best
}

// image is what is known of a private ECR image a container pulls, and how
// the pull goes through a pull-through cache rule.
func (r *resources) image(ref inventory.ECRImageRef, looksCached bool) (*existence, ptcState) {
	heuristic := ptcNo
	if looksCached {
		heuristic = ptcMaybe
	}
	if !r.looked() {
		return nil, heuristic
	}
	acct, region, name := ref.Registry, ref.Region, ref.Repository
	repoARN := "arn:" + ref.Partition + ":ecr:" + region + ":" + acct + ":repository/" + name
	repoWhat := "ECR repository " + name + " in account " + acct + ", " + region
	im := ref.Image()
	label := im.Tag
	if im.Digest != "" {
		label = im.Digest
	}
	imgSubject := repoARN + ":" + label
	if im.Digest != "" {
		imgSubject = repoARN + "@" + im.Digest
	}
	imgWhat := "image " + name + tagSep(im) + label + " in account " + acct + ", " + region
	missing := func(kind existKind, subject, what, why, create string) *existence {
		return &existence{status: existMissing, kind: kind, subject: subject, account: acct, region: region, what: what, why: why, create: create}
	}
	if !inventory.ValidECRRepositoryName(name) {
		return missing(existRepository, repoARN, repoWhat, "cannot exist: ECR accepts no such repository name (2 to 256 lower-case letters, digits and . _ - / in the documented pattern)",
			"Correct the image name."), ptcNo
	}
	reg := r.registry(acct, region)
	rulesKnown := reg != nil && reg.PullThroughCacheRulesStatus == inventory.PolicyCollected
	under := rulesKnown && ptcPrefix(reg.PullThroughCacheRules, name) != ""
	state := heuristic
	if rulesKnown {
		state = ptcNo
		if under {
			state = ptcCached
		}
	}
	unsure := !rulesKnown && strings.Contains(name, "/")
	repo := r.repository(acct, region, name)
	switch {
	case repo == nil:
		return r.unchecked(existRepository, repoARN, acct, region, repoWhat, "ecr:DescribeRepositories"), state
	case repo.Status == inventory.NotChecked:
		return r.unchecked(existRepository, repoARN, acct, region, repoWhat, "ecr:DescribeRepositories"), state
	case repo.Status == inventory.DoesNotExist:
		switch {
		case under:
			return &existence{status: existYes, kind: existRepository, subject: repoARN, account: acct, region: region, what: repoWhat}, ptcCreate
		case unsure:
			x := r.unchecked(existRepository, repoARN, acct, region, repoWhat, "ecr:DescribePullThroughCacheRules")
			x.unknown.Description = repoWhat + " does not exist, and whether a pull-through cache rule creates it on the first pull is not known: the registry's rules were not collected"
			x.unknown.Settle = "Let the scanning role list the registry's pull-through cache rules: it needs ecr:DescribePullThroughCacheRules in account " + acct + ", " + region + "."
			return x, state
		}
		return missing(existRepository, repoARN, repoWhat, "does not exist",
			"Create repository "+name+" in account "+acct+", "+region+" and push the image to it"), ptcNo
	}
	// The repository exists: the image.
	if !inventory.ValidECRImage(im) {
		return missing(existImage, imgSubject, imgWhat, "cannot exist: ECR accepts no such tag or digest", "Correct the image's tag or digest."), state
	}
	var rec *inventory.ECRImage
	for i := range repo.Images {
		if repo.Images[i].Tag == im.Tag && repo.Images[i].Digest == im.Digest {
			rec = &repo.Images[i]
		}
	}
	switch {
	case rec == nil || rec.Status == inventory.NotChecked:
		return r.unchecked(existImage, imgSubject, acct, region, imgWhat, "ecr:DescribeImages"), state
	case rec.Status == inventory.DoesNotExist:
		switch {
		case under:
			return &existence{status: existYes, kind: existImage, subject: imgSubject, account: acct, region: region, what: imgWhat}, ptcImport
		case unsure:
			x := r.unchecked(existImage, imgSubject, acct, region, imgWhat, "ecr:DescribePullThroughCacheRules")
			x.unknown.Description = imgWhat + " does not exist, and whether a pull-through cache rule imports it on the first pull is not known: the registry's rules were not collected"
			x.unknown.Settle = "Let the scanning role list the registry's pull-through cache rules: it needs ecr:DescribePullThroughCacheRules in account " + acct + ", " + region + "."
			return x, state
		}
		return missing(existImage, imgSubject, imgWhat, "does not exist", "Push "+name+tagSep(im)+label+" to the repository"), ptcNo
	}
	switch strings.ToUpper(rec.ImageStatus) {
	case "ARCHIVED":
		return missing(existImage, imgSubject, imgWhat, "is archived: an archived image cannot be pulled until it is restored",
			"Restore the image from the archive (ECR image status ACTIVE)"), state
	case "ACTIVATING":
		return missing(existImage, imgSubject, imgWhat, "is being restored from the archive: it cannot be pulled until its status is ACTIVE",
			"Wait for the restore to finish (ECR image status ACTIVE)"), state
	}
	return &existence{status: existYes, kind: existImage, subject: imgSubject, account: acct, region: region, what: imgWhat}, state
}

func tagSep(im inventory.ECRImage) string {
	if im.Digest != "" {
		return "@"
	}
	return ":"
}

// logGroup is what is known of an awslogs log group the driver does not
// create.
func (r *resources) logGroup(account, region, name, arn string) *existence {
	if !r.looked() {
		return nil
	}
	what := "log group " + name + " in account " + account + ", " + region
	g, _ := find(r, func(r *resources) map[string]*inventory.LogGroup { return r.exist.logGroups }, account+"|"+region+"|"+name)
	switch {
	case g == nil || g.Status == inventory.NotChecked:
		return r.unchecked(existLogGroup, arn, account, region, what, "logs:DescribeLogGroups")
	case g.Status == inventory.DoesNotExist:
		return &existence{status: existMissing, kind: existLogGroup, subject: arn, account: account, region: region, what: what,
			why: "does not exist, and awslogs-create-group is not true", create: "Create log group " + name + " in account " + account + ", " + region}
	}
	return &existence{status: existYes, kind: existLogGroup, subject: arn, account: account, region: region, what: what}
}

// s3 is what is known of the bucket and, for an object, the object of an
// environment file or a FireLens configuration. taskAccount references
// it.
func (r *resources) s3(partition, bucket, key, taskAccount string) (bucketX, objectX *existence) {
	if !r.looked() {
		return nil, nil
	}
	bucketARN := "arn:" + partition + ":s3:::" + bucket
	objectARN := bucketARN + "/" + key
	bWhat := "S3 bucket " + bucket
	oWhat := "S3 object " + key + " in bucket " + bucket
	b := r.bucket(bucket)
	if b == nil {
		u := &existence{status: existUnknown, kind: existBucket, subject: bucketARN, what: bWhat, unknown: &Unknown{Kind: UnknownExistence, Subject: bucketARN,
			Description: "whether " + bWhat + " exists could not be checked: no scanned account owns it (it belongs to an account outside the scan, or listing the buckets failed)",
			Settle:      "Include the account that owns bucket " + bucket + " in the scan (the scanning role there needs s3:ListAllMyBuckets, s3:ListBucket and s3:GetBucketPolicy), or confirm by hand that " + key + " exists in it."}}
		return u, u
	}
	if b.Status == inventory.DoesNotExist {
		m := &existence{status: existMissing, kind: existBucket, subject: bucketARN, what: bWhat, account: taskAccount,
			why:    "does not exist (S3 answers NoSuchBucket: no bucket of that name exists in any account)",
			create: "Create bucket " + bucket + " and upload " + key + " to it"}
		return m, m
	}
	bucketX = &existence{status: existYes, kind: existBucket, subject: bucketARN, account: b.AccountID, region: b.Region, what: bWhat}
	var o *inventory.S3Object
	for i := range b.Objects {
		if b.Objects[i].Key == key {
			o = &b.Objects[i]
		}
	}
	switch {
	case o == nil || o.Status == inventory.NotChecked:
		objectX = r.unchecked(existObject, objectARN, b.AccountID, b.Region, oWhat, "s3:ListBucket on bucket "+bucket)
	case o.Status == inventory.DoesNotExist:
		objectX = &existence{status: existMissing, kind: existObject, subject: objectARN, account: b.AccountID, region: b.Region, what: oWhat,
			why: "does not exist", create: "Upload " + key + " to bucket " + bucket + " (account " + b.AccountID + ")"}
	default:
		objectX = &existence{status: existYes, kind: existObject, subject: objectARN, account: b.AccountID, region: b.Region, what: oWhat}
	}
	return bucketX, objectX
}

// secret is what is known of a Secrets Manager secret referenced as ref
// (an ARN, without its JSON key, version stage and version ID, or a name)
// in account and region; s is the resolved secret, if any.
func (r *resources) secret(s *inventory.Secret, ref, partition, account, region string) *existence {
	if !r.looked() {
		return nil
	}
	subject := ref
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		if i := strings.Index(ref, ":secret:"); i >= 0 {
			name = ref[i+len(":secret:"):]
		}
	} else {
		subject = "arn:" + partition + ":secretsmanager:" + region + ":" + account + ":secret:" + ref
	}
	what := "secret " + name + " in account " + account + ", " + region
	if s != nil {
		subject = s.ARN
		if s.DeletedDate != nil {
			return &existence{status: existMissing, kind: existSecret, subject: subject, account: account, region: region, what: "secret " + s.Name + " in account " + account + ", " + region,
				why:    "is scheduled for deletion on " + s.DeletedDate.UTC().Format(time.DateOnly) + ": GetSecretValue fails for a secret marked for deletion until it is restored",
				create: "Restore the secret (aws secretsmanager restore-secret --secret-id " + s.ARN + ")"}
		}
		return &existence{status: existYes, kind: existSecret, subject: subject, account: account, region: region, what: what}
	}
	if missing, _ := find(r, func(r *resources) map[string]bool { return r.exist.missingSecrets }, account+"|"+region+"|"+ref); missing {
		return &existence{status: existMissing, kind: existSecret, subject: subject, account: account, region: region, what: what,
			why: "does not exist", create: "Create secret " + name + " in account " + account + ", " + region}
	}
	return r.unchecked(existSecret, subject, account, region, what, "secretsmanager:DescribeSecret")
}

// parameter is what is known of an SSM parameter looked up by the names
// cands (the name as written, or both readings of a single-level name in
// an ARN) in account and region.
func (r *resources) parameter(arn string, cands []string, account, region string) *existence {
	if !r.looked() {
		return nil
	}
	what := "SSM parameter " + cands[0] + " in account " + account + ", " + region
	if r.parameterByARN(arn) != nil {
		return &existence{status: existYes, kind: existParameter, subject: arn, account: account, region: region, what: what}
	}
	for _, c := range cands {
		if p, _ := find(r, func(r *resources) map[string]*inventory.Parameter { return r.exist.paramsByName }, account+"|"+region+"|"+c); p != nil {
			return &existence{status: existYes, kind: existParameter, subject: arn, account: account, region: region, what: what}
		}
	}
	all := true
	for _, c := range cands {
		missing, _ := find(r, func(r *resources) map[string]bool { return r.exist.missingParams }, account+"|"+region+"|"+c)
		all = all && missing
	}
	if all {
		return &existence{status: existMissing, kind: existParameter, subject: arn, account: account, region: region, what: what,
			why: "does not exist", create: "Create parameter " + cands[0] + " in account " + account + ", " + region + " (a SecureString if it holds a secret)"}
	}
	return r.unchecked(existParameter, arn, account, region, what, "ssm:DescribeParameters")
}

// secretLookupRef is the reference the scanner looks a Secrets Manager
// valueFrom up by: an ARN without its JSON key, version stage and version
// ID fields.
func secretLookupRef(valueFrom string) string {
	v := strings.TrimSpace(valueFrom)
	if !strings.HasPrefix(v, "arn:") {
		return v
	}
	parts := strings.SplitN(v, ":", 8)
	if len(parts) >= 7 {
		return strings.Join(parts[:7], ":")
	}
	return v
}

// parameterCandidates are the names the scanner looks an SSM reference up
// by: a name as written; for an ARN the name with its leading "/" (which
// the ARN drops) and, for a single-level name, without it too.
func parameterCandidates(valueFrom string) []string {
	v := strings.TrimSpace(valueFrom)
	if !strings.HasPrefix(v, "arn:") {
		return []string{v}
	}
	_, name, _ := strings.Cut(v, ":parameter/")
	cands := []string{"/" + name}
	if !strings.Contains(name, "/") {
		cands = append(cands, name)
	}
	return cands
}
