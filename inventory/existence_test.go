package inventory

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseECRImage(t *testing.T) {
	tests := []struct {
		image string
		ok    bool
		want  ECRImageRef
	}{
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1.2", true, ECRImageRef{Registry: "111122223333", Region: "us-east-1", Partition: "aws", Repository: "app", Tag: "1.2"}},
		{"111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app", true, ECRImageRef{Registry: "111122223333", Region: "eu-west-1", Partition: "aws", Repository: "team/app", Tag: "latest"}},
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + strings.Repeat("a", 64), true, ECRImageRef{Registry: "111122223333", Region: "us-east-1", Partition: "aws", Repository: "app", Digest: "sha256:" + strings.Repeat("a", 64)}},
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com/app:v1@sha256:" + strings.Repeat("b", 64), true, ECRImageRef{Registry: "111122223333", Region: "us-east-1", Partition: "aws", Repository: "app", Tag: "v1", Digest: "sha256:" + strings.Repeat("b", 64)}},
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27", true, ECRImageRef{Registry: "111122223333", Region: "us-east-1", Partition: "aws", Repository: "docker-hub/library/nginx", Tag: "1.27"}},
		{"111122223333.dkr-ecr.us-west-2.on.aws/app:x", true, ECRImageRef{Registry: "111122223333", Region: "us-west-2", Partition: "aws", Repository: "app", Tag: "x"}},
		{"111122223333.DKR.ECR.us-east-1.amazonaws.com/app:x", true, ECRImageRef{Registry: "111122223333", Region: "us-east-1", Partition: "aws", Repository: "app", Tag: "x"}},
		{"111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:x", true, ECRImageRef{Registry: "111122223333", Region: "us-gov-west-1", Partition: "aws-us-gov", Repository: "app", Tag: "x"}},
		{"111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/app:x", true, ECRImageRef{Registry: "111122223333", Region: "cn-north-1", Partition: "aws-cn", Repository: "app", Tag: "x"}},
		{"public.ecr.aws/nginx/nginx:latest", false, ECRImageRef{}},
		{"nginx:latest", false, ECRImageRef{}},
		{"docker.io/library/nginx", false, ECRImageRef{}},
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com/", false, ECRImageRef{}},
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com.evil.example/app", false, ECRImageRef{}},
	}
	for _, tt := range tests {
		got, ok := ParseECRImage(tt.image)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseECRImage(%q) = %+v, %v; want %+v, %v", tt.image, got, ok, tt.want, tt.ok)
		}
	}
	// An image named by tag and digest is pulled by its digest.
	ref, _ := ParseECRImage(tests[3].image)
	if im := ref.Image(); im.Digest == "" || im.Tag != "" {
		t.Errorf("Image() = %+v, want the digest alone", im)
	}
}

func TestValidECRNames(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{{"app", true}, {"team/app-1", true}, {"docker-hub/library/nginx", true}, {"a", false}, {"App", false}, {"app/", false}, {"app//x", false}, {"a..b", false}} {
		if ValidECRRepositoryName(tt.name) != tt.ok {
			t.Errorf("ValidECRRepositoryName(%q) = %v", tt.name, !tt.ok)
		}
	}
	for _, tt := range []struct {
		im ECRImage
		ok bool
	}{
		{ECRImage{Tag: "latest"}, true}, {ECRImage{Tag: "v1.2_rc-3"}, true}, {ECRImage{Tag: ".hidden"}, false}, {ECRImage{Tag: "a b"}, false},
		{ECRImage{Digest: "sha256:" + strings.Repeat("0", 64)}, true}, {ECRImage{Digest: "sha256:xyz"}, false}, {ECRImage{Digest: "deadbeef"}, false},
	} {
		if ValidECRImage(tt.im) != tt.ok {
			t.Errorf("ValidECRImage(%+v) = %v", tt.im, !tt.ok)
		}
	}
}

func TestParseS3ObjectARN(t *testing.T) {
	for _, tt := range []struct {
		arn               string
		part, bucket, key string
		ok                bool
	}{
		{"arn:aws:s3:::env-bucket/app/prod.env", "aws", "env-bucket", "app/prod.env", true},
		{"arn:aws-cn:s3:::b/k", "aws-cn", "b", "k", true},
		{"arn:aws:s3:::bucket-only", "", "", "", false},
		{"arn:aws:s3:::b/", "", "", "", false},
		{"arn:aws:s3:us-east-1::b/k", "", "", "", false},
		{"s3://b/k", "", "", "", false},
		{"arn:aws:s3:::/k", "", "", "", false},
	} {
		p, b, k, ok := ParseS3ObjectARN(tt.arn)
		if ok != tt.ok || p != tt.part || b != tt.bucket || k != tt.key {
			t.Errorf("ParseS3ObjectARN(%q) = %q %q %q %v", tt.arn, p, b, k, ok)
		}
	}
}

// awslogs-create-group is a boolean as the log driver parses it.
func TestAwslogsCreateGroup(t *testing.T) {
	for _, tt := range []struct {
		opts          map[string]string
		create, valid bool
		raw           string
	}{
		{map[string]string{}, false, true, ""},
		{map[string]string{"awslogs-create-group": "true"}, true, true, "true"},
		{map[string]string{"awslogs-create-group": "True"}, true, true, "True"},
		{map[string]string{"awslogs-create-group": "TRUE"}, true, true, "TRUE"},
		{map[string]string{"awslogs-create-group": "1"}, true, true, "1"},
		{map[string]string{"awslogs-create-group": "t"}, true, true, "t"},
		{map[string]string{"awslogs-create-group": "false"}, false, true, "false"},
		{map[string]string{"awslogs-create-group": "0"}, false, true, "0"},
		{map[string]string{"awslogs-create-group": "yes"}, false, false, "yes"},
		{map[string]string{"awslogs-create-group": ""}, false, false, ""},
	} {
		create, raw, valid := AwslogsCreateGroup(tt.opts)
		if create != tt.create || raw != tt.raw || valid != tt.valid {
			t.Errorf("AwslogsCreateGroup(%v) = %v %q %v, want %v %q %v", tt.opts, create, raw, valid, tt.create, tt.raw, tt.valid)
		}
	}
}

// withResources is minimal() with one of each existence record.
func withResources() *Inventory {
	inv := minimal()
	inv.Scope.Resources = ResourcesResolved
	r := inv.Accounts[0].Regions[0]
	r.MissingSecrets = []string{"arn:aws:secretsmanager:us-east-1:111122223333:secret:gone"}
	r.MissingParameters = []string{"/app/gone"}
	r.ECRRepositories = []*ECRRepository{
		{Name: "app", ARN: "arn:aws:ecr:us-east-1:111122223333:repository/app", Status: Exists, PolicyStatus: PolicyCollected, Policy: `{"Statement":[]}`,
			Images: []ECRImage{{Tag: "1", Status: Exists}, {Tag: "2", Status: DoesNotExist}, {Digest: "sha256:" + strings.Repeat("c", 64), Status: NotChecked}}},
		{Name: "docker-hub/library/nginx", Status: DoesNotExist, PullThroughCachePrefix: "docker-hub", PolicyStatus: PolicyNotCollected},
		{Name: "denied", Status: NotChecked, PolicyStatus: PolicyNotCollected},
	}
	r.ECRRegistry = &ECRRegistry{PullThroughCacheRulesStatus: PolicyCollected,
		PullThroughCacheRules: []ECRPullThroughCacheRule{{Prefix: "docker-hub", UpstreamRegistryURL: "registry-1.docker.io"}}, PolicyStatus: PolicyNone}
	r.LogGroups = []*LogGroup{{Name: "/ecs/app", ARN: "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app", Status: Exists}, {Name: "/ecs/gone", Status: DoesNotExist}}
	inv.S3Buckets = []*S3Bucket{
		{Name: "env-bucket", AccountID: "111122223333", Region: "us-east-1", Status: Exists, PolicyStatus: PolicyNone,
			Objects: []S3Object{{Key: "app.env", Status: Exists}, {Key: "gone.env", Status: DoesNotExist}}},
		{Name: "no-such-bucket", Status: DoesNotExist, PolicyStatus: PolicyNotCollected},
	}
	return inv
}

func TestResourcesRoundTrip(t *testing.T) {
	inv := withResources()
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "s.json")
	if err := Save(p, inv); err != nil {
		t.Fatal(err)
	}
	back, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(back) != mustJSON(inv) {
		t.Errorf("the existence records do not round-trip:\n%s\n%s", mustJSON(back), mustJSON(inv))
	}
}

// Every new record is checked on load, and the error names the field.
func TestLoadResourcesErrors(t *testing.T) {
	const r = "accounts[0].regions[0]"
	cases := []struct {
		name  string
		edit  func(inv *Inventory)
		field string
	}{
		{"repository without status", func(inv *Inventory) { inv.Accounts[0].Regions[0].ECRRepositories[0].Status = "" }, r + ".ecrRepositories[0].status"},
		{"repository status unknown", func(inv *Inventory) { inv.Accounts[0].Regions[0].ECRRepositories[0].Status = "maybe" }, r + ".ecrRepositories[0].status"},
		{"repository without name", func(inv *Inventory) { inv.Accounts[0].Regions[0].ECRRepositories[0].Name = "" }, r + ".ecrRepositories[0].name"},
		{"repository twice", func(inv *Inventory) { inv.Accounts[0].Regions[0].ECRRepositories[1].Name = "app" }, r + ".ecrRepositories[1].name"},
		{"repository without policy status", func(inv *Inventory) {
			inv.Accounts[0].Regions[0].ECRRepositories[0].PolicyStatus, inv.Accounts[0].Regions[0].ECRRepositories[0].Policy = "", ""
		}, r + ".ecrRepositories[0].policyStatus"},
		{"repository policy status contradicts the document", func(inv *Inventory) { inv.Accounts[0].Regions[0].ECRRepositories[0].PolicyStatus = PolicyNone }, r + ".ecrRepositories[0].policy"},
		{"missing repository with a known policy", func(inv *Inventory) { inv.Accounts[0].Regions[0].ECRRepositories[1].PolicyStatus = PolicyNone }, r + ".ecrRepositories[1].policyStatus"},
		{"missing repository with images", func(inv *Inventory) {
			inv.Accounts[0].Regions[0].ECRRepositories[1].Images = []ECRImage{{Tag: "x", Status: DoesNotExist}}
		}, r + ".ecrRepositories[1].images"},
		{"image with tag and digest", func(inv *Inventory) { inv.Accounts[0].Regions[0].ECRRepositories[0].Images[0].Digest = "sha256:ab" }, r + ".ecrRepositories[0].images[0]"},
		{"image without status", func(inv *Inventory) { inv.Accounts[0].Regions[0].ECRRepositories[0].Images[1].Status = "" }, r + ".ecrRepositories[0].images[1].status"},
		{"image twice", func(inv *Inventory) { inv.Accounts[0].Regions[0].ECRRepositories[0].Images[1].Tag = "1" }, r + ".ecrRepositories[0].images[1]"},
		{"registry without rules status", func(inv *Inventory) { inv.Accounts[0].Regions[0].ECRRegistry.PullThroughCacheRulesStatus = "" }, r + ".ecrRegistry.pullThroughCacheRulesStatus"},
		{"registry rules not collected but given", func(inv *Inventory) {
			inv.Accounts[0].Regions[0].ECRRegistry.PullThroughCacheRulesStatus = PolicyNotCollected
		}, r + ".ecrRegistry.pullThroughCacheRules"},
		{"registry rule without prefix", func(inv *Inventory) { inv.Accounts[0].Regions[0].ECRRegistry.PullThroughCacheRules[0].Prefix = "" }, r + ".ecrRegistry.pullThroughCacheRules[0].ecrRepositoryPrefix"},
		{"registry without policy status", func(inv *Inventory) { inv.Accounts[0].Regions[0].ECRRegistry.PolicyStatus = "" }, r + ".ecrRegistry.policyStatus"},
		{"log group without status", func(inv *Inventory) { inv.Accounts[0].Regions[0].LogGroups[0].Status = "" }, r + ".logGroups[0].status"},
		{"log group twice", func(inv *Inventory) { inv.Accounts[0].Regions[0].LogGroups[1].Name = "/ecs/app" }, r + ".logGroups[1].name"},
		{"empty missing secret", func(inv *Inventory) { inv.Accounts[0].Regions[0].MissingSecrets[0] = " " }, r + ".missingSecrets[0]"},
		{"empty missing parameter", func(inv *Inventory) { inv.Accounts[0].Regions[0].MissingParameters[0] = "" }, r + ".missingParameters[0]"},
		{"bucket without owner", func(inv *Inventory) { inv.S3Buckets[0].AccountID = "" }, "s3Buckets[0].accountId"},
		{"bucket without status", func(inv *Inventory) { inv.S3Buckets[0].Status = "" }, "s3Buckets[0].status"},
		{"bucket not checked", func(inv *Inventory) { inv.S3Buckets[0].Status = NotChecked }, "s3Buckets[0].status"},
		{"bucket twice", func(inv *Inventory) { inv.S3Buckets[1].Name = "env-bucket" }, "s3Buckets[1].name"},
		{"bucket without policy status", func(inv *Inventory) { inv.S3Buckets[0].PolicyStatus = "" }, "s3Buckets[0].policyStatus"},
		{"missing bucket with an owner", func(inv *Inventory) { inv.S3Buckets[1].AccountID = "111122223333" }, "s3Buckets[1].accountId"},
		{"missing bucket with objects", func(inv *Inventory) { inv.S3Buckets[1].Objects = []S3Object{{Key: "k", Status: DoesNotExist}} }, "s3Buckets[1].objects"},
		{"object twice", func(inv *Inventory) { inv.S3Buckets[0].Objects[1].Key = "app.env" }, "s3Buckets[0].objects[1].key"},
		{"object status unknown", func(inv *Inventory) { inv.S3Buckets[0].Objects[0].Status = "gone" }, "s3Buckets[0].objects[0].status"},
		{"scope resources unknown", func(inv *Inventory) { inv.Scope.Resources = "partly" }, "scope.resources"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := withResources()
			c.edit(inv)
			_, err := decodeBoth(t, []byte(mustJSON(inv)), "x.json")
			var le *LoadError
			if !errors.As(err, &le) || le.Field != c.field {
				t.Fatalf("error %v, want field %s", err, c.field)
			}
			if le.Offset < 0 {
				t.Errorf("no offset: %v", err)
			}
		})
	}
}

// The new fields are version 2 fields: a version 1 snapshot with one is
// refused as an unknown field.
func TestResourcesNotInVersion1(t *testing.T) {
	doc := strings.Replace(mustJSON(minimal()), `"schemaVersion":2`, `"schemaVersion":1`, 1)
	doc = strings.Replace(doc, `"status":"scanned"`, `"status":"scanned","logGroups":[{"name":"/g","status":"exists"}]`, 1)
	_, err := decodeBoth(t, []byte(doc), "x.json")
	if err == nil || !strings.Contains(err.Error(), "unknown field") || !strings.Contains(err.Error(), "logGroups") {
		t.Fatalf("error %v, want an unknown field", err)
	}
}
