package findings

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

var ruleNW001 = &rule{RuleMeta: RuleMeta{
	ID:            "NW001",
	Title:         "A task has no network path to a service it needs at start",
	Severity:      Critical,
	SeverityRange: SeverityRange{Min: Medium, Max: Critical},
	Description: "On Fargate (platform version 1.4.0 and later, Linux) a task reaches ECR, the S3 bucket ECR serves image layers from, " +
		"CloudWatch Logs, Secrets Manager, Systems Manager and S3 through its own subnet: an interface endpoint of the VPC with private DNS, " +
		"an S3 gateway endpoint on the subnet's route table (the explicit one, or the VPC's main table when the subnet has no association), " +
		"the table's default route to a NAT gateway, or an internet gateway route for a task with a public IP. NW001 reports a subnet a task runs in " +
		"from which a service it needs cannot be reached, and an S3 gateway endpoint whose policy does not let the image layers through " +
		"(ECR hands them out from prod-<region>-starport-layer-bucket through presigned URLs, which the execution role does not sign). " +
		"One finding per task definition and route table (or endpoint), naming the subnets, the launches and what is missing. " +
		"Medium when the path hangs on what is not confirmed (ecr.api beside ecr.dkr, an endpoint policy's condition), critical otherwise. " +
		"Not evaluated where the network was not collected or was skipped (a coverage gap says so), nor on EC2 and External instances, " +
		"where the agent uses the instance's network.",
	Why: "Without a path the task stops at start (ResourceInitializationError: unable to pull secrets or registry auth, CannotPullContainerError), " +
		"services stay at zero running tasks, and no IAM grant helps.",
	Remediation: "Give the subnet's route table a default route to a NAT gateway, or create the missing interface endpoints with private DNS " +
		"(and an S3 gateway endpoint on the route table); let s3:GetObject on the layer bucket through the S3 gateway endpoint's policy.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-linux-fargate.html",
		"https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html",
	},
	Tags:      []string{"availability", "ecs", "network"},
	Precision: "high",
}, check: checkNW001}

func init() { register(ruleNW001) }

// netNeed is one thing a task reaches over the network at start.
type netNeed struct {
	// service is an endpoint service's short name (ecr.dkr, ecr.api,
	// logs, secretsmanager, ssm, s3), or layersService, or internetService.
	service string
	region  string
	// certain: the guides agree it is needed; false for ecr.api, which
	// the guides disagree on (docs/facts.md §1.11).
	certain bool
	// what it is for, in words: "pulling image … (container "app")".
	what string
	// needs are the permission needs whose calls take this way.
	needs []*derivedNeed
	// image of a pull from a public registry or the layers' registry.
	image, registry string
}

const (
	layersService   = "s3-image-layers"
	internetService = "internet"
)

// layerBucket is the S3 bucket ECR serves image layers from in a region.
func layerBucket(partition, region string) string {
	return "arn:" + partition + ":s3:::prod-" + region + "-starport-layer-bucket"
}

// networkNeeds lists what the task definition reaches over the network.
func (e *evaluation) networkNeeds(t *tdInfo) []*netNeed {
	var out []*netNeed
	by := map[string]*netNeed{}
	get := func(service, region, what string, certain bool) *netNeed {
		k := service + "|" + region + "|" + what
		if n := by[k]; n != nil {
			return n
		}
		n := &netNeed{service: service, region: region, what: what, certain: certain}
		by[k] = n
		out = append(out, n)
		return n
	}
	for i := range t.needs {
		n := &t.needs[i]
		if n.Invalid {
			continue
		}
		region := needRegion(t, n)
		switch n.Feature {
		case FeatureECRPull:
			if n.Action != "ecr:BatchGetImage" && n.Action != "ecr:GetDownloadUrlForLayer" {
				continue
			}
			what := fmt.Sprintf("pulling image %s (container %q)", t.td.ContainerDefinitions[containerIndex(t, n.Container)].Image, n.Container)
			d := get("ecr.dkr", region, what, true)
			d.needs = append(d.needs, n)
			a := get("ecr.api", region, what, false)
			a.needs = append(a.needs, n)
			l := get(layersService, region, what, true)
			l.needs = append(l.needs, n)
			l.registry = region
		default:
			services, _ := needEndpoints(n.Action)
			if len(services) != 1 {
				continue
			}
			what := featureNoun(n.Feature)
			if n.Container != "" {
				what += fmt.Sprintf(" (container %q)", n.Container)
			}
			g := get(services[0], region, what, true)
			g.needs = append(g.needs, n)
		}
	}
	for _, c := range t.td.ContainerDefinitions {
		if reg, ok := publicRegistry(c.Image); ok {
			n := get(internetService, t.region, fmt.Sprintf("pulling image %s from %s (container %q)", c.Image, reg, c.Name), true)
			n.image, n.registry = c.Image, reg
		}
	}
	return out
}

// containerIndex is the index of a container by name (0 when not found).
func containerIndex(t *tdInfo, name string) int {
	for i, c := range t.td.ContainerDefinitions {
		if c.Name == name {
			return i
		}
	}
	return 0
}

// publicRegistry recognises images from public registries on the
// internet, which no VPC endpoint serves: Docker Hub (a bare name or
// docker.io), ECR Public, GitHub, Quay, Google and Microsoft registries.
// An image from any other host may be served inside the VPC: not judged.
func publicRegistry(image string) (string, bool) {
	image = strings.TrimSpace(image)
	if image == "" {
		return "", false
	}
	host, _, found := strings.Cut(image, "/")
	if !found || (!strings.ContainsAny(host, ".:") && host != "localhost") {
		return "Docker Hub", true
	}
	switch strings.ToLower(host) {
	case "docker.io", "registry-1.docker.io", "index.docker.io":
		return "Docker Hub", true
	case "public.ecr.aws":
		return "ECR Public", true
	case "ghcr.io", "quay.io", "gcr.io", "registry.k8s.io", "mcr.microsoft.com":
		return strings.ToLower(host), true
	}
	return "", false
}

// serviceNoun names what a netNeed reaches.
func serviceNoun(n *netNeed) string {
	switch n.service {
	case layersService:
		return "S3 for the image layers (" + strings.TrimPrefix(layerBucket("aws", n.registry), "arn:aws:s3:::") + ")"
	case internetService:
		return n.registry + " on the internet"
	}
	return endpointService(n.region, n.service)
}

// nwItem is one thing a placement cannot reach.
type nwItem struct {
	n      *netNeed
	r      route
	closed *policy.Result // the endpoint policy's decision on the layers
}

// nwCause is one NW001 finding being built.
type nwCause struct {
	key      string
	ep       *inventory.VPCEndpoint
	table    *inventory.RouteTable
	mainRT   bool
	vpc      string
	public   string
	subnets  []string
	launches []ResourceRef
	labels   []string
	items    []nwItem
}

func checkNW001(e *evaluation, r *rule) {
	for _, t := range e.tds {
		nns := e.networkNeeds(t)
		if len(nns) == 0 {
			continue
		}
		var causes grouped[nwCause]
		for _, p := range e.net.placements[t] {
			if !p.known {
				continue
			}
			for _, nn := range nns {
				var it nwItem
				switch nn.service {
				case internetService:
					it = nwItem{n: nn, r: p.internet()}
				case layersService:
					it = nwItem{n: nn, r: p.route("s3", nn.region)}
					if it.r.kind == routeEndpoint {
						res, ok := e.layersThrough(it.r.ep, nn.region)
						if !ok || res.Decision == policy.Allowed {
							continue
						}
						it.closed = &res
					}
				default:
					it = nwItem{n: nn, r: p.route(nn.service, nn.region)}
				}
				if it.closed == nil && it.r.kind != routeNone {
					continue
				}
				key := "no-path|" + p.table.ID + "|" + p.public
				if it.closed != nil {
					key = "endpoint|" + it.r.ep.ID
				}
				c := causes.get(key, func() *nwCause {
					return &nwCause{key: key, table: p.table, mainRT: p.mainRT, vpc: p.vpc.ID, public: p.public, ep: it.r.ep}
				})
				if !slices.Contains(c.subnets, p.subnet.ID) {
					c.subnets = append(c.subnets, p.subnet.ID)
				}
				for i, l := range p.launches {
					if !slices.Contains(c.launches, l) {
						c.launches = append(c.launches, l)
						c.labels = append(c.labels, p.labels[i])
					}
				}
				if !slices.ContainsFunc(c.items, func(x nwItem) bool { return x.n == it.n }) {
					c.items = append(c.items, it)
				}
			}
		}
		for _, k := range causes.keys() {
			c := causes.m[k]
			if c.ep != nil && strings.HasPrefix(c.key, "endpoint|") {
				e.emitLayersClosed(r, t, c)
			} else {
				e.emitNoPath(r, t, c)
			}
		}
	}
}

// layersThrough decides whether an S3 endpoint's policy lets the image
// layers of region through (false when there is nothing to decide: the
// endpoint has no policy, which restricts nothing, or it does not parse,
// a coverage gap).
func (e *evaluation) layersThrough(ep *inventory.VPCEndpoint, region string) (policy.Result, bool) {
	if ep.PolicyStatus != inventory.PolicyCollected {
		return policy.Result{}, false
	}
	np := e.resourcePolicy(endpointPolicyName(ep.ID), ep.Policy, "the policy of VPC endpoint "+ep.ID)
	if np == nil {
		return policy.Result{}, false
	}
	return policy.EvaluateEndpointPolicy(np, e.layersRequest(ep, region)), true
}

// layersRequest is the download of an image layer through the endpoint:
// s3:GetObject on any object of the layer bucket, signed by an identity
// of ECR's (not known here).
func (e *evaluation) layersRequest(ep *inventory.VPCEndpoint, region string) policy.Request {
	c := policy.NewContext()
	c.Set("aws:SourceVpce", ep.ID)
	c.Set("aws:SourceVpc", ep.VPCID)
	c.Set("aws:SecureTransport", "true")
	c.Set("aws:RequestedRegion", region)
	c.Set("aws:CurrentTime", e.now.UTC().Format("2006-01-02T15:04:05Z"))
	return policy.Request{Action: "s3:GetObject", Resource: layerBucket(e.inv.Partition, region) + "/",
		ResourceUnknown: &policy.UnknownSegment{Alphabet: "!-~", MinLength: 1, MaxLength: 1024, Label: "layer"}, Context: c}
}

// nwFacts are the evidence facts every NW001 finding carries.
func (c *nwCause) facts() map[string]string {
	f := map[string]string{"subnets": strings.Join(c.subnets, ", "), "vpc": c.vpc}
	if c.table != nil {
		f["routeTable"] = c.table.ID
		f["routeTableAssociation"] = "explicit"
		if c.mainRT {
			f["routeTableAssociation"] = "main (no explicit association: the subnet uses the VPC's main route table)"
		}
	}
	if c.public != "" {
		f["assignPublicIp"] = c.public
	}
	return f
}

// where says where the tasks run: "subnet S (route table R, …)".
func (c *nwCause) where() string {
	s := plural(len(c.subnets), "subnet ", "subnets ") + listAnd(c.subnets) + " (route table " + c.table.ID
	if c.mainRT {
		s += ", the main route table of " + c.vpc + ", which " + plural(len(c.subnets), "the subnet uses as it has", "the subnets use as they have") + " no explicit association"
	} else {
		s += " of " + c.vpc
	}
	return s + ")"
}

// needEvidence lists the permission needs of the items, each once.
func nwNeedEvidence(items []nwItem, sev func(nwItem) Severity) []NeedEvidence {
	var out []NeedEvidence
	seen := map[*derivedNeed]bool{}
	for _, it := range items {
		for _, n := range it.n.needs {
			if !seen[n] {
				seen[n] = true
				out = append(out, NeedEvidence{Need: n.Need, Severity: sev(it)})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b NeedEvidence) int { return b.Severity.Rank() - a.Severity.Rank() })
	return out
}

// emitNoPath: from the cause's subnets, services the task needs cannot be
// reached.
func (e *evaluation) emitNoPath(r *rule, t *tdInfo, c *nwCause) {
	sev := Medium
	var missing, whats, unconfirmed []string
	internet := false
	for _, it := range c.items {
		if it.n.certain {
			sev = Critical
		} else {
			unconfirmed = append(unconfirmed, serviceNoun(it.n))
		}
		if s := serviceNoun(it.n); !slices.Contains(missing, s) {
			missing = append(missing, s)
		}
		if !slices.Contains(whats, it.n.what) {
			whats = append(whats, it.n.what)
		}
		internet = internet || it.n.service == internetService
	}
	why := c.items[0].r.why
	msg := fmt.Sprintf("Tasks of task definition %s in %s that run in %s cannot reach %s: %s, and %s has no interface endpoint with private DNS for %s",
		tdLabel(t), where(t.account.ID, t.region), c.where(), listAnd(missing), why, c.vpc, plural(len(missing), "it", "them"))
	if slices.ContainsFunc(c.items, func(it nwItem) bool { return it.n.service == layersService || it.n.service == "s3" }) {
		msg += " (nor an S3 gateway endpoint on the route table)"
	}
	msg += fmt.Sprintf(". They cannot start: %s %s.", listAnd(whats), plural(len(whats), "fails", "fail"))
	if len(unconfirmed) > 0 {
		msg += " That " + listAnd(unconfirmed) + plural(len(unconfirmed), " is", " are") + " needed besides ecr.dkr is what the ECS guide says, but the guides disagree (docs/facts.md §1.11)."
	}
	msg += " Launched there by " + listAnd(sortedCopy(c.labels)) + "."
	facts := c.facts()
	facts["missing"] = strings.Join(missing, ", ")
	facts["route"] = why
	var images []string
	for _, it := range c.items {
		if it.n.image != "" {
			images = append(images, it.n.image)
		}
	}
	if len(images) > 0 {
		facts["publicImages"] = strings.Join(images, ", ")
	}
	ev := nwNeedEvidence(c.items, func(it nwItem) Severity {
		if it.n.certain {
			return Critical
		}
		return Medium
	})
	var endpoints []string
	for _, s := range missing {
		if strings.HasPrefix(s, "com.amazonaws.") {
			endpoints = append(endpoints, s)
		}
	}
	fix := Fix{Layer: FixNetwork, Target: &FixTarget{Type: TargetRouteTable, ID: c.table.ID},
		Summary: "Give route table " + c.table.ID + " a default route (0.0.0.0/0) to a NAT gateway in a public subnet of " + c.vpc + "."}
	if internet {
		fix.Summary += " An image from a public registry needs the NAT gateway (or a public IP with an internet gateway route): no VPC endpoint serves it."
	}
	if len(endpoints) > 0 || slices.ContainsFunc(c.items, func(it nwItem) bool { return it.n.service == layersService }) {
		s := "Or keep the tasks private: create interface endpoints with private DNS in " + c.vpc
		if len(endpoints) > 0 {
			s += " for " + listAnd(endpoints)
		}
		s += ", and an S3 gateway endpoint on route table " + c.table.ID + " whose policy allows s3:GetObject on the layer bucket."
		fix.Steps = append(fix.Steps, s)
	}
	if c.items[0].r.noPublicIP {
		fix.Steps = append(fix.Steps, "Or run the tasks with assignPublicIp ENABLED in "+listAnd(sortedCopy(c.labels))+".")
	}
	f := Finding{Severity: sev, AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
		TaskDefinitionARN: t.td.ARN, RoleARN: t.execARN, Message: msg, Affected: c.launches,
		Evidence: Evidence{Needs: ev, Facts: facts}, Fix: fix}
	if len(ev) > 0 {
		f.Evidence.Need = &ev[0].Need
	}
	r.emit(e, f, c.key, Fingerprint(r.ID, t.account.ID, t.region, t.td.ARN, c.key))
}

// emitLayersClosed: the S3 gateway endpoint on the cause's route table
// does not let the image layers through.
func (e *evaluation) emitLayersClosed(r *rule, t *tdInfo, c *nwCause) {
	res := *c.items[0].closed
	sev := Critical
	if res.Decision == policy.Indeterminate {
		sev = Medium
	}
	region := c.items[0].n.region
	bucket := layerBucket(e.inv.Partition, region)
	var whats []string
	for _, it := range c.items {
		whats = append(whats, it.n.what)
	}
	verb := "does not let s3:GetObject on " + bucket + "/* through"
	if sev == Medium {
		verb = "may not let s3:GetObject on " + bucket + "/* through"
	}
	msg := fmt.Sprintf("Tasks of task definition %s in %s that run in %s pull their image from ECR in %s, which hands out the layers from bucket %s through presigned URLs; "+
		"from there S3 traffic goes through %s, whose policy %s: %s. %s, so the task cannot start. The execution role does not sign these downloads: no grant to it helps. Launched there by %s.",
		tdLabel(t), where(t.account.ID, t.region), c.where(), region, strings.TrimPrefix(bucket, "arn:"+e.inv.Partition+":s3:::"),
		"S3 "+strings.ToLower(c.ep.Type)+" endpoint "+c.ep.ID, verb, res.Reason, upperFirst(listAnd(whats))+" "+plural(len(whats), "fails", "fail"), listAnd(sortedCopy(c.labels)))
	facts := c.facts()
	facts["endpoint"] = c.ep.ID
	facts["endpointService"] = c.ep.ServiceName
	facts["endpointPolicy"] = compactJSON(c.ep.Policy)
	facts["bucket"] = bucket
	ev := nwNeedEvidence(c.items, func(nwItem) Severity { return sev })
	doc := json.RawMessage(`{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowEcrImageLayers",
      "Effect": "Allow",
      "Principal": "*",
      "Action": "s3:GetObject",
      "Resource": "` + bucket + `/*"
    }
  ]
}`)
	phrase := "the policy of S3 " + strings.ToLower(c.ep.Type) + " endpoint " + c.ep.ID
	fix := Fix{Layer: FixVPCEndpoint, Target: &FixTarget{Type: TargetVPCEndpoint, ID: c.ep.ID},
		Summary:         "Add the suggested statement to " + phrase + ": it lets the image layers of " + region + " (s3:GetObject on " + bucket + "/*) through the endpoint.",
		SuggestedPolicy: doc, SuggestedPolicyLayer: FixVPCEndpoint, SuggestedPolicyTarget: phrase + " (add this statement)"}
	if res.Decision == policy.ExplicitDeny {
		for _, s := range res.Statements {
			if s.Effect == "Deny" {
				fix.Target.Statement = stmtKey(s)
				fix.Steps = append(fix.Steps, "Statement "+stmtID(s)+" of that policy denies the download explicitly: narrow it so that it no longer matches "+bucket+"/*, or remove it; an Allow cannot override it.")
				break
			}
		}
	}
	// Prove it: the endpoint policy with the statement added.
	if np := e.resourcePolicy(endpointPolicyName(c.ep.ID), c.ep.Policy, "the policy of VPC endpoint "+c.ep.ID); np != nil {
		add := addEndpointStatements(doc)
		in := &policy.Input{VPCEndpointPolicy: np}
		add(in)
		if got := policy.EvaluateEndpointPolicy(in.VPCEndpointPolicy, e.layersRequest(c.ep, region)); got.Decision != policy.Allowed && res.Decision != policy.ExplicitDeny {
			fix.Steps = append(fix.Steps, "With that added, the download is still "+decisionWords(got.Decision)+": "+got.Reason+".")
		}
	}
	f := Finding{Severity: sev, AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
		TaskDefinitionARN: t.td.ARN, RoleARN: t.execARN, Message: msg, Affected: c.launches,
		Evidence: Evidence{Decision: &res, Needs: ev, Facts: facts}, Fix: fix}
	if len(ev) > 0 {
		f.Evidence.Need = &ev[0].Need
	}
	r.emit(e, f, c.key, Fingerprint(r.ID, t.account.ID, t.region, t.td.ARN, c.key))
}

// compactJSON is a policy document on one line (as written when it is not
// JSON).
func compactJSON(doc string) string {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return doc
	}
	b, err := json.Marshal(v)
	if err != nil {
		return doc
	}
	return string(b)
}
