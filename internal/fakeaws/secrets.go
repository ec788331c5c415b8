package fakeaws

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

// ---- Secrets Manager ----

func secretsOps() map[string]opFunc {
	return map[string]opFunc{
		"DescribeSecret":    (*Server).smDescribeSecret,
		"GetResourcePolicy": (*Server).smGetResourcePolicy,
		"ListSecrets":       (*Server).smListSecrets,
	}
}

var secretSuffixRe = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)

// secretName is the secret's name: the world's, or the ARN's resource without the suffix.
func secretName(sec *inventory.Secret) string {
	if sec.Name != "" {
		return sec.Name
	}
	_, res, ok := strings.Cut(sec.ARN, ":secret:")
	if !ok {
		return sec.ARN
	}
	return secretSuffixRe.ReplaceAllString(res, "")
}

// arnParts splits arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
func arnParts(arn string) (service, region, account, resource string, ok bool) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" {
		return "", "", "", "", false
	}
	return f[2], f[3], f[4], f[5], true
}

// crossAccountDenied answers a reference to a resource in another account:
// the fake does not evaluate resource policies across accounts.
func (s *Server) crossAccountDenied(c *call, arn string) error {
	return s.deniedErr(c, "User: "+c.caller.arn+" is not authorized to perform: "+c.svc.name+":"+c.op+" on resource: "+arn+
		" because no resource-based policy allows the "+c.svc.name+":"+c.op+" action (fakeaws serves only the caller's own account)")
}

func (s *Server) findSecret(c *call, id string) (*inventory.Secret, error) {
	notFound := clientErr("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	if id == "" {
		return nil, clientErr("InvalidParameterException", "You must specify a SecretId.")
	}
	if strings.HasPrefix(id, "arn:") {
		svc, region, acct, _, ok := arnParts(id)
		if !ok || svc != "secretsmanager" {
			return nil, clientErr("ValidationException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
		}
		if acct != c.caller.account {
			return nil, s.crossAccountDenied(c, id)
		}
		if region != c.region {
			return nil, notFound
		}
	}
	if c.reg == nil {
		return nil, notFound
	}
	var partial []*inventory.Secret
	for _, sec := range c.reg.r.Secrets {
		if sec.ARN == id || (!strings.HasPrefix(id, "arn:") && secretName(sec) == id) {
			return sec, nil
		}
		if strings.HasPrefix(id, "arn:") && secretSuffixRe.MatchString(sec.ARN) && secretSuffixRe.ReplaceAllString(sec.ARN, "") == id {
			partial = append(partial, sec)
		}
	}
	if len(partial) == 1 {
		return partial[0], nil
	}
	return nil, notFound
}

type smSecret struct {
	ARN             string
	Name            string
	KmsKeyId        string `json:",omitempty"`
	RotationEnabled bool
	LastChangedDate float64
	CreatedDate     float64
	// DeletedDate is when a secret scheduled for deletion will be deleted.
	DeletedDate *float64 `json:",omitempty"`
	Tags        []any
}

func (s *Server) secretShape(sec *inventory.Secret) smSecret {
	out := smSecret{
		ARN: sec.ARN, Name: secretName(sec), KmsKeyId: sec.KMSKeyID,
		LastChangedDate: epoch(s.w.base.Add(-48 * time.Hour)), CreatedDate: epoch(s.w.base.Add(-200 * 24 * time.Hour)),
		Tags: []any{},
	}
	if sec.DeletedDate != nil {
		d := epoch(*sec.DeletedDate)
		out.DeletedDate = &d
	}
	return out
}

func (s *Server) smDescribeSecret(c *call) (any, error) {
	var in struct{ SecretId string }
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	sec, err := s.findSecret(c, in.SecretId)
	if err != nil {
		return nil, err
	}
	return s.secretShape(sec), nil
}

func (s *Server) smGetResourcePolicy(c *call) (any, error) {
	var in struct{ SecretId string }
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	sec, err := s.findSecret(c, in.SecretId)
	if err != nil {
		return nil, err
	}
	out := map[string]string{"ARN": sec.ARN, "Name": secretName(sec)}
	if sec.ResourcePolicy != "" {
		out["ResourcePolicy"] = sec.ResourcePolicy
	}
	return out, nil
}

// ListSecrets filter limits (Secrets Manager API reference, ListSecrets and
// Filter): up to 10 filters, each with 1 to 10 values of at most 512
// characters from a restricted set, a leading "!" negating the value.
const (
	smMaxFilters      = 10
	smMaxFilterValues = 10
	smMaxValueLen     = 512
)

var smFilterValueRe = regexp.MustCompile(`^!?[a-zA-Z0-9 :_@/+=.\-!]*$`)

func (s *Server) smListSecrets(c *call) (any, error) {
	var in struct {
		MaxResults             *int32
		NextToken              string
		SortOrder              string
		IncludePlannedDeletion bool
		Filters                []struct {
			Key    string
			Values []string
		}
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if len(in.Filters) > smMaxFilters {
		return nil, clientErr("ValidationException", "1 validation error detected: Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to %d", smMaxFilters)
	}
	var list []*inventory.Secret
	if c.reg != nil {
		for _, sec := range c.reg.r.Secrets {
			// Secrets scheduled for deletion are listed only when asked for.
			if sec.DeletedDate == nil || in.IncludePlannedDeletion {
				list = append(list, sec)
			}
		}
	}
	scope := fmt.Sprintf("deleted=%v;", in.IncludePlannedDeletion)
	for i, f := range in.Filters {
		switch f.Key {
		case "name", "all", "description", "tag-key", "tag-value", "primary-region", "owning-service":
		default:
			return nil, clientErr("InvalidParameterException", "Invalid filter key: %s", f.Key)
		}
		if len(f.Values) < 1 || len(f.Values) > smMaxFilterValues {
			return nil, clientErr("ValidationException", "1 validation error detected: Value at 'filters.%d.member.values' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", i+1, smMaxFilterValues)
		}
		for _, v := range f.Values {
			if len(v) > smMaxValueLen || !smFilterValueRe.MatchString(v) {
				return nil, clientErr("ValidationException", "1 validation error detected: Value at 'filters.%d.member.values' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to %d, Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$]", i+1, smMaxValueLen)
			}
		}
		scope += f.Key + "=" + strings.Join(f.Values, ",") + ";"
		var kept []*inventory.Secret
		for _, sec := range list {
			if secretFilterMatch(f.Key, f.Values, sec) {
				kept = append(kept, sec)
			}
		}
		list = kept
	}
	switch in.SortOrder {
	case "", "asc":
	case "desc":
		rev := make([]*inventory.Secret, len(list))
		for i, sec := range list {
			rev[len(list)-1-i] = sec
		}
		list = rev
	default:
		return nil, clientErr("InvalidParameterException", "Invalid SortOrder: %s", in.SortOrder)
	}
	mr, has := optInt(in.MaxResults)
	lo, hi, next, err := s.paginate(c, pageSpec{
		scope: c.op + "|" + c.caller.account + "|" + c.region + "|" + scope + in.SortOrder, token: in.NextToken,
		max: mr, hasMax: has, def: 100, top: 100, maxName: "maxResults",
	}, len(list))
	if err != nil {
		return nil, err
	}
	out := []smSecret{}
	for _, sec := range list[lo:hi] {
		out = append(out, s.secretShape(sec))
	}
	return pageOut("SecretList", out, "NextToken", next), nil
}

// secretFilterMatch applies a ListSecrets filter: name matches a name
// prefix, case-sensitive (all too, here); a value starting with "!"
// negates. The world keeps no tags or
// descriptions, so those filters match nothing.
func secretFilterMatch(key string, values []string, sec *inventory.Secret) bool {
	for _, v := range values {
		neg := strings.HasPrefix(v, "!")
		v = strings.TrimPrefix(v, "!")
		hit := false
		if key == "name" || key == "all" {
			hit = strings.HasPrefix(secretName(sec), v)
		}
		if hit != neg {
			return true
		}
	}
	return false
}

// ---- SSM ----

func ssmOps() map[string]opFunc {
	return map[string]opFunc{
		"DescribeParameters": (*Server).ssmDescribeParameters,
	}
}

type ssmParameter struct {
	Name             string
	ARN              string
	Type             string
	KeyId            string `json:",omitempty"`
	LastModifiedDate float64
	LastModifiedUser string
	Version          int
	Tier             string
	Policies         []any
	DataType         string
}

func (s *Server) parameterARN(c *call, p *inventory.Parameter) string {
	if p.ARN != "" {
		return p.ARN
	}
	return "arn:" + s.w.partition + ":ssm:" + c.region + ":" + c.caller.account + ":parameter/" + strings.TrimPrefix(p.Name, "/")
}

func (s *Server) ssmDescribeParameters(c *call) (any, error) {
	type filter struct {
		Key    string
		Option string
		Values []string
	}
	var in struct {
		Filters []struct {
			Key    string
			Values []string
		}
		ParameterFilters []filter
		MaxResults       *int32
		NextToken        string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(in.ParameterFilters) > 0 {
		return nil, clientErr("ValidationException", "You can use either Filters or ParameterFilters in a single request.")
	}
	filters := in.ParameterFilters
	for _, f := range in.Filters {
		filters = append(filters, filter{Key: f.Key, Option: "Equals", Values: f.Values})
	}
	scopeBytes, _ := json.Marshal(filters)
	var list []*inventory.Parameter
	if c.reg != nil {
		list = c.reg.r.Parameters
	}
	for _, f := range filters {
		if len(f.Values) > 50 {
			return nil, clientErr("ValidationException", "1 validation error detected: Value at 'parameterFilters.values' failed to satisfy constraint: Member must have length less than or equal to 50")
		}
		match, err := ssmFilter(f.Key, f.Option, f.Values)
		if err != nil {
			return nil, err
		}
		var kept []*inventory.Parameter
		for _, p := range list {
			if match(p) {
				kept = append(kept, p)
			}
		}
		list = kept
	}
	mr, has := optInt(in.MaxResults)
	lo, hi, next, err := s.paginate(c, pageSpec{
		scope: c.op + "|" + c.caller.account + "|" + c.region + "|" + string(scopeBytes), token: in.NextToken,
		max: mr, hasMax: has, def: 10, top: 50, maxName: "maxResults",
	}, len(list))
	if err != nil {
		return nil, err
	}
	out := []ssmParameter{}
	for _, p := range list[lo:hi] {
		out = append(out, ssmParameter{
			Name: p.Name, ARN: s.parameterARN(c, p), Type: p.Type, KeyId: p.KeyID,
			LastModifiedDate: epoch(s.w.base.Add(-72 * time.Hour)),
			LastModifiedUser: "arn:" + s.w.partition + ":iam::" + c.caller.account + ":user/admin",
			Version:          1, Tier: "Standard", Policies: []any{}, DataType: "text",
		})
	}
	return pageOut("Parameters", out, "NextToken", next), nil
}

// ssmFilter builds the predicate of one DescribeParameters filter.
func ssmFilter(key, option string, values []string) (func(*inventory.Parameter) bool, error) {
	if len(values) == 0 && key != "Path" {
		return nil, clientErr("InvalidFilterValue", "The filter %s requires at least one value.", key)
	}
	str := func(get func(*inventory.Parameter) string, opts ...string) (func(*inventory.Parameter) bool, error) {
		if option == "" {
			option = "Equals"
		}
		ok := false
		for _, o := range opts {
			if o == option {
				ok = true
			}
		}
		if !ok {
			return nil, clientErr("InvalidFilterOption", "The filter option %s is not valid for key %s.", option, key)
		}
		return func(p *inventory.Parameter) bool {
			got := get(p)
			for _, v := range values {
				switch option {
				case "Equals":
					if got == v {
						return true
					}
				case "BeginsWith":
					if strings.HasPrefix(got, v) {
						return true
					}
				case "Contains":
					if strings.Contains(got, v) {
						return true
					}
				}
			}
			return false
		}, nil
	}
	switch {
	case key == "Name":
		return str(func(p *inventory.Parameter) string { return p.Name }, "Equals", "BeginsWith", "Contains")
	case key == "Type":
		return str(func(p *inventory.Parameter) string { return p.Type }, "Equals")
	case key == "KeyId":
		return str(func(p *inventory.Parameter) string { return p.KeyID }, "Equals")
	case key == "Tier":
		return str(func(*inventory.Parameter) string { return "Standard" }, "Equals")
	case key == "DataType":
		return str(func(*inventory.Parameter) string { return "text" }, "Equals")
	case key == "Path":
		if option == "" {
			option = "OneLevel"
		}
		if option != "OneLevel" && option != "Recursive" {
			return nil, clientErr("InvalidFilterOption", "The filter option %s is not valid for key Path.", option)
		}
		return func(p *inventory.Parameter) bool {
			for _, v := range values {
				dir := strings.TrimSuffix(v, "/") + "/"
				if !strings.HasPrefix(p.Name, dir) {
					continue
				}
				if option == "Recursive" || !strings.Contains(p.Name[len(dir):], "/") {
					return true
				}
			}
			return false
		}, nil
	case strings.HasPrefix(key, "tag:"):
		return func(*inventory.Parameter) bool { return false }, nil
	}
	return nil, clientErr("InvalidFilterKey", "The filter key %s is not valid.", key)
}

// ---- KMS ----

func kmsOps() map[string]opFunc {
	return map[string]opFunc{
		"DescribeKey":  (*Server).kmsDescribeKey,
		"GetKeyPolicy": (*Server).kmsGetKeyPolicy,
		"ListAliases":  (*Server).kmsListAliases,
	}
}

func kmsNotFound(format string, args ...any) error {
	return clientErr("NotFoundException", format, args...)
}

// findKey resolves a key ID, key ARN and, when aliases are allowed, an alias
// name or alias ARN.
func (s *Server) findKey(c *call, id string, aliases bool) (*inventory.KMSKey, error) {
	if id == "" {
		return nil, clientErr("ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	name := id
	if strings.HasPrefix(id, "arn:") {
		svc, region, acct, res, ok := arnParts(id)
		if !ok || svc != "kms" {
			return nil, clientErr("NotFoundException", "Invalid arn %s", id)
		}
		if acct != c.caller.account {
			return nil, s.crossAccountDenied(c, id)
		}
		if region != c.region {
			return nil, kmsNotFound("Invalid arn %s", id)
		}
		name = res
	}
	if strings.HasPrefix(name, "alias/") {
		if !aliases {
			return nil, kmsNotFound("Invalid keyId %s", id)
		}
		if c.reg != nil {
			for _, a := range c.reg.aliases {
				if a.name == name {
					return a.key, nil
				}
			}
		}
		if svc, ok := strings.CutPrefix(name, "alias/aws/"); ok && awsManagedKeyServices[svc] {
			return s.awsManagedKey(c, svc), nil
		}
		return nil, kmsNotFound("Alias %s is not found.", s.aliasARN(c, name))
	}
	name = strings.TrimPrefix(name, "key/")
	if c.reg != nil {
		if k := c.reg.keyByID[name]; k != nil {
			return k, nil
		}
	}
	for _, svc := range sortedKeys(awsManagedKeyServices) {
		if k := s.awsManagedKey(c, svc); k.KeyID == name {
			return k, nil
		}
	}
	return nil, kmsNotFound("Key '%s' does not exist", s.keyARN(c, name))
}

// awsManagedKeyServices name the AWS managed keys (alias/aws/<service>)
// that resolve even when the world does not list them: AWS creates them
// for the account when a service first needs them.
var awsManagedKeyServices = map[string]bool{
	"ssm": true, "secretsmanager": true, "s3": true, "ebs": true, "rds": true, "lambda": true,
	"logs": true, "sns": true, "sqs": true, "ecr": true, "elasticfilesystem": true, "dynamodb": true,
}

// awsManagedKey synthesizes the AWS managed key of a service in the caller's
// account and region, with a deterministic key ID and the usual key policy
// (use through the service by principals of the account).
func (s *Server) awsManagedKey(c *call, svc string) *inventory.KMSKey {
	h := hashStrings(s.w.seed, "aws-managed-key", c.caller.account, c.region, svc)
	h2 := mix(h, 1)
	id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h), uint16(h>>32), uint16(h>>48)&0xfff, uint16(h2)&0xfff, h2>>16&0xffffffffffff)
	policy := `{"Version":"2012-10-17","Id":"auto-` + svc + `","Statement":[{"Sid":"Allow access through ` + svc + ` for all principals in the account","Effect":"Allow","Principal":{"AWS":"*"},` +
		`"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:CreateGrant","kms:DescribeKey"],"Resource":"*",` +
		`"Condition":{"StringEquals":{"kms:CallerAccount":"` + c.caller.account + `","kms:ViaService":"` + svc + `.` + c.region + `.amazonaws.com"}}},` +
		`{"Sid":"Allow direct access to key metadata to the account","Effect":"Allow","Principal":{"AWS":"arn:` + s.w.partition + `:iam::` + c.caller.account + `:root"},` +
		`"Action":["kms:Describe*","kms:Get*","kms:List*","kms:RevokeGrant"],"Resource":"*"}]}`
	return &inventory.KMSKey{ARN: s.keyARN(c, id), KeyID: id, Manager: "AWS", Aliases: []string{"alias/aws/" + svc}, Policy: policy}
}

func (s *Server) keyARN(c *call, id string) string {
	return "arn:" + s.w.partition + ":kms:" + c.region + ":" + c.caller.account + ":key/" + id
}

func (s *Server) aliasARN(c *call, alias string) string {
	return "arn:" + s.w.partition + ":kms:" + c.region + ":" + c.caller.account + ":" + alias
}

func keyID(k *inventory.KMSKey) string {
	if k.KeyID != "" {
		return k.KeyID
	}
	return lastSegment(k.ARN)
}

func keyManager(k *inventory.KMSKey) string {
	if k.Manager != "" {
		return k.Manager
	}
	for _, a := range k.Aliases {
		if strings.HasPrefix(a, "alias/aws/") {
			return "AWS"
		}
	}
	return "CUSTOMER"
}

func (s *Server) kmsDescribeKey(c *call) (any, error) {
	var in struct{ KeyId string }
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if alias, ok := awsManagedAliasIn(in.KeyId); ok {
		// AWS creates the AWS managed key of a predefined alias that has
		// none yet when DescribeKey names the alias: a read that writes.
		s.recordMutating("kms:DescribeKey(" + alias + ")")
	}
	k, err := s.findKey(c, in.KeyId, true)
	if err != nil {
		return nil, err
	}
	arn := k.ARN
	if arn == "" {
		arn = s.keyARN(c, keyID(k))
	}
	return map[string]any{"KeyMetadata": map[string]any{
		"AWSAccountId": c.caller.account, "KeyId": keyID(k), "Arn": arn,
		"CreationDate": epoch(s.w.base.Add(-300 * 24 * time.Hour)), "Enabled": true, "Description": "",
		"KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "Enabled", "Origin": "AWS_KMS", "KeyManager": keyManager(k),
		"CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeySpec": "SYMMETRIC_DEFAULT",
		"EncryptionAlgorithms": []string{"SYMMETRIC_DEFAULT"}, "MultiRegion": false,
	}}, nil
}

// defaultKeyPolicy is the policy AWS gives a key created without one: the
// account's IAM policies decide.
func (s *Server) defaultKeyPolicy(account string) string {
	return `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:` +
		s.w.partition + `:iam::` + account + `:root"},"Action":"kms:*","Resource":"*"}]}`
}

func (s *Server) kmsGetKeyPolicy(c *call) (any, error) {
	var in struct{ KeyId, PolicyName string }
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := s.findKey(c, in.KeyId, false)
	if err != nil {
		return nil, err
	}
	if in.PolicyName == "" {
		in.PolicyName = "default"
	}
	if in.PolicyName != "default" {
		return nil, kmsNotFound("Policy %s is not found.", in.PolicyName)
	}
	pol := k.Policy
	if pol == "" {
		pol = s.defaultKeyPolicy(c.caller.account)
	}
	return map[string]string{"Policy": pol, "PolicyName": "default"}, nil
}

// awsManagedAliasIn returns the alias/aws/* alias a key ID names (as an
// alias name or alias ARN).
func awsManagedAliasIn(id string) (string, bool) {
	if i := strings.Index(id, ":alias/"); i >= 0 && strings.HasPrefix(id, "arn:") {
		id = id[i+1:]
	}
	return id, strings.HasPrefix(id, "alias/aws/")
}

// awsManagedKeyExists says whether the AWS managed key of svc exists in the
// caller's account and region: AWS creates it when a service first uses
// it, so it exists when a secret or SecureString parameter of the region
// is encrypted with it (a secret without a key uses aws/secretsmanager).
func (s *Server) awsManagedKeyExists(c *call, svc string) bool {
	if c.reg == nil {
		return false
	}
	alias := "alias/aws/" + svc
	uses := func(ref string) bool { return ref == alias || strings.HasSuffix(ref, ":"+alias) }
	for _, sec := range c.reg.r.Secrets {
		if uses(sec.KMSKeyID) || (svc == "secretsmanager" && sec.KMSKeyID == "") {
			return true
		}
	}
	for _, p := range c.reg.r.Parameters {
		if p.Type == "SecureString" && (uses(p.KeyID) || (svc == "ssm" && p.KeyID == "")) {
			return true
		}
	}
	return false
}

type kmsAlias struct {
	AliasName       string
	AliasArn        string
	TargetKeyId     string `json:",omitempty"`
	CreationDate    float64
	LastUpdatedDate float64
}

func (s *Server) kmsListAliases(c *call) (any, error) {
	var in struct {
		KeyId  string
		Limit  *int32
		Marker string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	var only *inventory.KMSKey
	if in.KeyId != "" {
		k, err := s.findKey(c, in.KeyId, false)
		if err != nil {
			return nil, err
		}
		only = k
	}
	var list []aliasEntry
	listed := map[string]bool{}
	if c.reg != nil {
		for _, a := range c.reg.aliases {
			listed[a.name] = true
			if only == nil || a.key == only {
				list = append(list, a)
			}
		}
	}
	// The predefined aliases of AWS managed keys: with their key once it
	// exists, without a target before.
	for _, svc := range sortedKeys(awsManagedKeyServices) {
		name := "alias/aws/" + svc
		if listed[name] {
			continue
		}
		e := aliasEntry{name: name}
		if s.awsManagedKeyExists(c, svc) {
			e.key = s.awsManagedKey(c, svc)
		}
		if only == nil || (e.key != nil && e.key.ARN == only.ARN) {
			list = append(list, e)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	lim, has := optInt(in.Limit)
	lo, hi, next, err := s.paginate(c, pageSpec{
		scope: c.op + "|" + c.caller.account + "|" + c.region + "|" + in.KeyId, token: in.Marker,
		max: lim, hasMax: has, def: 50, top: 100, maxName: "limit",
	}, len(list))
	if err != nil {
		return nil, err
	}
	out := []kmsAlias{}
	for _, a := range list[lo:hi] {
		t := epoch(s.w.base.Add(-300 * 24 * time.Hour))
		e := kmsAlias{AliasName: a.name, AliasArn: s.aliasARN(c, a.name), CreationDate: t, LastUpdatedDate: t}
		if a.key != nil {
			e.TargetKeyId = keyID(a.key)
		}
		out = append(out, e)
	}
	m := map[string]any{"Aliases": out, "Truncated": next != ""}
	if next != "" {
		m["NextMarker"] = next
	}
	return m, nil
}
