package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// decodeManifests decodes every document of a Kubernetes manifest file
// strictly into the official API type of its kind: a field the type does
// not have, a duplicate key or a value of the wrong type is an error.
func decodeManifests(t *testing.T, path string) []any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeStrict(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return objs
}

func decodeStrict(data []byte) ([]any, error) {
	var out []any
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		js, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if string(js) == "null" {
			continue
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(js, &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 Namespace":
			obj = &corev1.Namespace{}
		case "v1 ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		default:
			return nil, fmt.Errorf("document %d: unexpected %s %s", i, tm.APIVersion, tm.Kind)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i, tm.Kind, err)
		}
		out = append(out, obj)
	}
	return out, nil
}

// The strict decoding refuses what a typo would make Kubernetes ignore or
// reject.
func TestDecodeManifestsIsStrict(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field": "apiVersion: batch/v1\nkind: Job\nspec:\n  completionsMode: Indexed\n",
		"wrong type":    "apiVersion: batch/v1\nkind: Job\nspec:\n  completions: eight\n",
		"duplicate key": "apiVersion: batch/v1\nkind: Job\nspec:\n  completions: 1\n  completions: 2\n",
		"unknown kind":  "apiVersion: batch/v1\nkind: Jobs\n",
	} {
		if _, err := decodeStrict([]byte(doc)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if objs, err := decodeStrict([]byte("apiVersion: batch/v1\nkind: Job\nspec:\n  completions: 2\n")); err != nil || len(objs) != 1 {
		t.Errorf("a valid Job: %v", err)
	}
}

// The Indexed Job runs N shards of one scan, each writing under its own
// prefix, with the ServiceAccount that carries the AWS identity; the merge
// Job reads exactly those N prefixes.
func TestKubernetesShardsAndMerge(t *testing.T) {
	shardObjs := decodeManifests(t, "kubernetes/audit-shards.yaml")
	mergeObjs := decodeManifests(t, "kubernetes/audit-merge.yaml")
	var sa *corev1.ServiceAccount
	var shards, merge *batchv1.Job
	for _, o := range append(shardObjs, mergeObjs...) {
		switch o := o.(type) {
		case *corev1.ServiceAccount:
			sa = o
		case *batchv1.Job:
			if o.Name == "audit-shards" {
				shards = o
			} else if o.Name == "audit-merge" {
				merge = o
			}
		}
	}
	if sa == nil || shards == nil || merge == nil {
		t.Fatalf("service account %v, shard job %v, merge job %v", sa != nil, shards != nil, merge != nil)
	}
	s := shards.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.Completions == nil || s.Parallelism == nil {
		t.Fatalf("the shard job is not an Indexed Job with completions and parallelism: %+v", s)
	}
	n := int(*s.Completions)
	if int(*s.Parallelism) != n {
		t.Errorf("parallelism %d, completions %d", *s.Parallelism, n)
	}
	for _, j := range []*batchv1.Job{shards, merge} {
		ps := j.Spec.Template.Spec
		if ps.ServiceAccountName != sa.Name || j.Namespace != sa.Namespace {
			t.Errorf("%s runs as %s/%s, the ServiceAccount is %s/%s", j.Name, j.Namespace, ps.ServiceAccountName, sa.Namespace, sa.Name)
		}
		if ps.RestartPolicy != corev1.RestartPolicyNever || len(ps.Containers) != 1 {
			t.Errorf("%s: restart policy %s, %d containers", j.Name, ps.RestartPolicy, len(ps.Containers))
		}
		c := ps.Containers[0]
		if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: container security context %+v", j.Name, sc)
		}
		for _, e := range c.Env {
			if e.Value != "" {
				t.Errorf("%s: environment variable %s has a literal value; secrets come from a Secret", j.Name, e.Name)
			}
		}
	}
	args := shards.Spec.Template.Spec.Containers[0].Args
	flag := func(args []string, name string) string {
		i := slices.Index(args, name)
		if i < 0 || i+1 >= len(args) {
			return ""
		}
		return args[i+1]
	}
	if args[0] != "scan" || !slices.Contains(args, "--org") || flag(args, "--shard") != "auto/"+strconv.Itoa(n) {
		t.Errorf("shard args %q: want scan --org --shard auto/%d", args, n)
	}
	// The spool directory is a disk-backed emptyDir mounted in the
	// container (its root file system is read-only).
	ps := shards.Spec.Template.Spec
	spool := flag(args, "--spool-dir")
	mounted := false
	for _, m := range ps.Containers[0].VolumeMounts {
		if m.MountPath != spool || m.ReadOnly {
			continue
		}
		for _, v := range ps.Volumes {
			if v.Name == m.Name && v.EmptyDir != nil && v.EmptyDir.Medium == corev1.StorageMediumDefault {
				mounted = true
			}
		}
	}
	if spool == "" || !mounted {
		t.Errorf("shard --spool-dir %q: want a writable disk-backed emptyDir mounted there", spool)
	}
	out := flag(args, "--out")
	if !strings.HasPrefix(out, "s3://") || !strings.Contains(out, "$(JOB_COMPLETION_INDEX)") {
		t.Errorf("shard --out %q: an s3:// prefix per index", out)
	}
	margs := merge.Spec.Template.Spec.Containers[0].Args
	var parts []string
	for _, a := range margs[1:] {
		if strings.HasPrefix(a, "--") {
			break
		}
		parts = append(parts, a)
	}
	var want []string
	for k := range n {
		want = append(want, strings.ReplaceAll(out, "$(JOB_COMPLETION_INDEX)", fmt.Sprint(k)))
	}
	if margs[0] != "merge" || !slices.Equal(parts, want) {
		t.Errorf("merge args %q: want merge %q", margs, want)
	}
	if mo := flag(margs, "--out"); !strings.HasPrefix(mo, "s3://") || strings.Contains(out, mo) {
		t.Errorf("merge --out %q", mo)
	}
}
