package report

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/ecs-audit/audit/findings"
)

// Artifact paths.
//
// GitHub code scanning rejects SARIF locations whose URI has a scheme other
// than file, so a finding's physical location is a relative path that names
// the AWS resource, and the ARN goes into a logical location:
//
//	task definition     aws/<account>/<region>/ecs/task-definition/<family>/<revision>.json
//	IAM role            aws/<account>/iam/role/<name>.json
//	IAM policy          aws/<account>/iam/policy/<name>.json
//	service             aws/<account>/<region>/ecs/cluster/<cluster>/service/<name>.json
//	container instance  aws/<account>/<region>/ecs/cluster/<cluster>/container-instance/<id>.json
//	anything else       aws/<account>/<region or "global">/<resource type>/<name>.json
//
// The same paths, below Options.EvidenceDir, hold the evidence files.
//
// Every segment is sanitised by pathSegment: only A-Z a-z 0-9 . _ - are
// kept; any other byte becomes '_', a leading '.' becomes '_' (so no segment
// is "." or ".." or a hidden file), an empty segment becomes "_", and a
// segment longer than 100 bytes is cut. When a segment had to be changed,
// "_" and the first 8 hex digits of the SHA-256 of the original are
// appended, so that two different names do not share a path by accident.
// Replacement is preferred over %-encoding because GitHub decodes %-escapes
// before looking a path up, so an encoded name would not match the evidence
// file that is written under the same name.

const maxSegment = 100

// pathSegment sanitises one path segment (see above).
func pathSegment(s string) string {
	if s == "" {
		return "_"
	}
	b := []byte(s)
	changed := false
	for i, c := range b {
		if !isSafeByte(c) {
			b[i] = '_'
			changed = true
		}
	}
	if b[0] == '.' {
		b[0] = '_'
		changed = true
	}
	if len(b) > maxSegment {
		b = b[:maxSegment]
		changed = true
	}
	if !changed {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return string(b) + "_" + hex.EncodeToString(sum[:4])
}

func isSafeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// joinSegments sanitises each segment and joins them with '/'.
func joinSegments(segs ...string) string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = pathSegment(s)
	}
	return strings.Join(out, "/")
}

// artifactPath is the relative path that stands for a finding's resource.
func artifactPath(f *findings.Finding) string {
	account := f.AccountID
	if account == "" {
		account = arnField(f.ResourceARN, 4)
	}
	region := f.Region
	if region == "" {
		region = arnField(f.ResourceARN, 3)
	}
	switch f.ResourceType {
	case findings.ResourceTaskDefinition:
		arn := f.ResourceARN
		if arnField(arn, 2) != "ecs" && f.TaskDefinitionARN != "" {
			arn = f.TaskDefinitionARN
		}
		return taskDefPath(account, region, arn)
	case findings.ResourceRole:
		arn := f.ResourceARN
		if arn == "" {
			arn = f.RoleARN
		}
		return rolePath(account, arn)
	case findings.ResourcePolicy:
		return joinSegments("aws", account, "iam", "policy", resourceName(f.ResourceARN)) + ".json"
	case findings.ResourceService, findings.ResourceContainerInstance:
		cluster, name := clusterAndName(f.ResourceARN)
		kind := "service"
		if f.ResourceType == findings.ResourceContainerInstance {
			kind = "container-instance"
		}
		if cluster == "" {
			return joinSegments("aws", account, regionOrGlobal(region), "ecs", kind, name) + ".json"
		}
		return joinSegments("aws", account, regionOrGlobal(region), "ecs", "cluster", cluster, kind, name) + ".json"
	}
	kind := f.ResourceType
	if kind == "" {
		kind = "resource"
	}
	return joinSegments("aws", account, regionOrGlobal(region), kind, resourceName(f.ResourceARN)) + ".json"
}

// taskDefPath is the path of a task definition ARN
// (arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>).
func taskDefPath(account, region, arn string) string {
	res := strings.TrimPrefix(arnResource(arn), "task-definition/")
	family, revision := res, "latest"
	if i := strings.LastIndexByte(res, ':'); i >= 0 {
		family, revision = res[:i], res[i+1:]
	}
	return joinSegments("aws", account, regionOrGlobal(region), "ecs", "task-definition", family, revision) + ".json"
}

// rolePath is the path of a role ARN (arn:aws:iam::<account>:role/<path>/<name>).
func rolePath(account, arn string) string {
	if account == "" {
		account = arnField(arn, 4)
	}
	return joinSegments("aws", account, "iam", "role", resourceName(arn)) + ".json"
}

// clusterAndName splits service/<cluster>/<name> and
// container-instance/<cluster>/<id>; the old formats without a cluster give
// an empty cluster.
func clusterAndName(arn string) (cluster, name string) {
	parts := strings.Split(arnResource(arn), "/")
	switch len(parts) {
	case 0, 1:
		return "", parts[0]
	case 2:
		return "", parts[1]
	}
	return parts[1], parts[len(parts)-1]
}

func regionOrGlobal(r string) string {
	if r == "" {
		return "global"
	}
	return r
}
