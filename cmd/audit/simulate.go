package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ecs-audit/audit/internal/awsactions"
	"github.com/ecs-audit/audit/policy"
	"github.com/spf13/cobra"
)

func init() {
	subcommands = append(subcommands, func(a *app) *cobra.Command { return a.policyCmd() })
}

func (a *app) policyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Work with IAM policies locally, without AWS",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(a.policySimulateCmd())
	return cmd
}

const simulateLong = `simulate reads one request as JSON on stdin, evaluates it with the local
IAM policy engine, and prints the decision with its evidence as JSON.

Input:

  {
    "identityPolicies":     [{"name": "inline-1", "policy": {...}}, ...],
    "permissionBoundaries": [{...}],
    "scpLevels":            [[{...}], [{...}, {...}]],
    "rcpLevels":            [[{...}]],
    "resourcePolicy":       {...},
    "resourcePolicies":     [{"name": "registry-policy:111122223333", "policy": {...}}, ...],
    "resourcePolicyKind":   "" | "kms-key-policy" | "trust-policy",
    "resourceAccount":      "111122223333",
    "request": {
      "action":    "secretsmanager:GetSecretValue",
      "resource":  "arn:aws:secretsmanager:...",
      "resourceUnknownSuffix": "secrets-manager-suffix" | {"alphabet": "A-Za-z0-9", "length": 6},
      "principal": "arn:aws:sts::111122223333:assumed-role/exec/task",
      "context": {
        "aws:RequestedRegion": "us-east-1",
        "aws:SourceVpce": null,
        "aws:TagKeys": ["a", "b"],
        "aws:SourceArn": {"prefix": "arn:aws:ecs:us-east-1:111122223333:"}
      }
    }
  }

Each policy is a policy document (an object, or a string holding JSON or
URL-encoded JSON) or {"name": ..., "policy": ...}. Unnamed policies are
reported by position, e.g. scpLevels[1][0]. SCP and RCP levels are ordered
root, OUs, account.

Context: a string, number or boolean is one value; a list is several values
(an empty list means absent); null means the key is known to be absent;
{"prefix": "..."} means one value known only by its prefix. Keys not listed
are unknown, and conditions on them make the decision Indeterminate.
"resource" defaults to "*" (actions without a resource type).

resourceUnknownSuffix: the resource is "resource" followed by characters that
are not known, e.g. a secret named without its 6-character suffix
("resource": "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-").
Either a preset, "secrets-manager-suffix" (6 of A-Za-z0-9), "ecs-task-id"
(32 to 36 of 0-9a-f-) or "docker-container-id" (64 of 0-9a-f), or an object
{"alphabet": "A-Za-z0-9", "length": 6} (or "minLength" and "maxLength"; an
optional "tail" is known text after the run). A statement that matches only
some values of the run makes the decision Indeterminate.

resourcePolicies: further resource-based policies on the same request (an
ECR registry policy beside a repository policy): with resourcePolicy they are
one layer, where a Deny in any denies and an Allow in any allows.

resourcePolicyKind: without it, a resource policy on a KMS key ARN is taken
as the key policy (kms-key-policy); give "" for an ordinary resource policy.

Output: the decision with its evidence, and "warnings" (policy warnings,
actions that are not in the action catalog, an inferred resourcePolicyKind).

Exit status: 0 for any decision, 2 for bad input.`

func (a *app) policySimulateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "simulate",
		Short: "Decide one request against identity, boundary, SCP, RCP and resource policies",
		Long:  simulateLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.stdin == nil {
				return usageErr(errors.New("policy simulate: no input on stdin"))
			}
			data, err := io.ReadAll(io.LimitReader(a.stdin, maxSimulateInput+1))
			if err != nil {
				return usageErr(fmt.Errorf("policy simulate: reading stdin: %w", err))
			}
			if len(data) > maxSimulateInput {
				return usageErr(fmt.Errorf("policy simulate: input larger than %d bytes", maxSimulateInput))
			}
			in, req, warnings, err := parseSimulateInput(data)
			if err != nil {
				return usageErr(err)
			}
			for _, w := range warnings {
				fmt.Fprintf(a.stderr, "audit: warning: %s\n", w)
			}
			res := simulateOutput{Result: policy.Evaluate(in, req), Warnings: warnings}
			out, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "%s\n", out)
			return err
		},
	}
}

const maxSimulateInput = 64 << 20

// simulateOutput is the decision and its evidence, plus warnings about the
// input.
type simulateOutput struct {
	policy.Result
	Warnings []string `json:"warnings,omitempty"`
}

type simulateInput struct {
	IdentityPolicies     []json.RawMessage   `json:"identityPolicies"`
	PermissionBoundaries []json.RawMessage   `json:"permissionBoundaries"`
	SCPLevels            [][]json.RawMessage `json:"scpLevels"`
	RCPLevels            [][]json.RawMessage `json:"rcpLevels"`
	ResourcePolicy       json.RawMessage     `json:"resourcePolicy"`
	ResourcePolicies     []json.RawMessage   `json:"resourcePolicies"`
	ResourcePolicyKind   *string             `json:"resourcePolicyKind"`
	ResourceAccount      string              `json:"resourceAccount"`
	Request              *simulateRequest    `json:"request"`
}

type simulateRequest struct {
	Action                string          `json:"action"`
	Resource              string          `json:"resource"`
	ResourceUnknownSuffix json.RawMessage `json:"resourceUnknownSuffix"`
	Principal             string          `json:"principal"`
	Context               json.RawMessage `json:"context"`
}

// simulateShapes describes, for each field of the input, the JSON it
// expects, so that an input of the wrong type is told what to write.
var simulateShapes = map[string]string{
	"":                     "a JSON object with identityPolicies, permissionBoundaries, scpLevels, rcpLevels, resourcePolicy, resourcePolicies, resourcePolicyKind, resourceAccount and request",
	"identityPolicies":     "a list of policies",
	"permissionBoundaries": "a list of policies",
	"resourcePolicies":     "a list of policies",
	"scpLevels":            "a list of levels (root, each OU, account), each a list of policies",
	"rcpLevels":            "a list of levels (root, each OU, account), each a list of policies",
	"resourcePolicyKind":   `a string: "", "kms-key-policy" or "trust-policy"`,
	"resourceAccount":      "a string (a 12-digit account ID)",
	"request":              "an object with action, resource, resourceUnknownSuffix, principal and context",
	"request.action":       `a string such as "secretsmanager:GetSecretValue"`,
	"request.resource":     "a string (an ARN, or the known start of one)",
	"request.principal":    "a string (a role, session, user or service principal)",
}

// jsonTypeName names a JSON value type as encoding/json reports it.
func jsonTypeName(v string) string {
	switch v {
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "true or false"
	case "array":
		return "a list"
	case "object":
		return "an object"
	}
	if n, ok := strings.CutPrefix(v, "number "); ok {
		return "the number " + n
	}
	return v
}

// describeDecodeError turns a JSON decoding error into a message that
// names the field and the expected shape in words, without Go types.
// withOffset adds the byte offset of a type error (meaningful only for the
// whole input).
func describeDecodeError(err error, shapes map[string]string, withOffset bool) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		shape, ok := shapes[te.Field]
		if !ok {
			shape = "another type"
		}
		if te.Field == "" {
			return fmt.Sprintf("the input must be %s, not %s", shape, jsonTypeName(te.Value))
		}
		msg := fmt.Sprintf("%s: expected %s, not %s", te.Field, shape, jsonTypeName(te.Value))
		if withOffset {
			msg += fmt.Sprintf(" (at byte %d)", te.Offset)
		}
		return msg
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return "invalid JSON: unexpected end of input"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// parseSimulateInput decodes and validates the whole input. Errors name the
// field or the policy at fault.
func parseSimulateInput(data []byte) (*policy.Input, policy.Request, []string, error) {
	var si simulateInput
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&si); err != nil {
		return nil, policy.Request{}, nil, fmt.Errorf("policy simulate: invalid input: %s", describeDecodeError(err, simulateShapes, true))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, policy.Request{}, nil, errors.New("policy simulate: invalid input: trailing data after the JSON object")
	}
	if si.Request == nil {
		return nil, policy.Request{}, nil, errors.New("policy simulate: missing request")
	}
	if strings.TrimSpace(si.Request.Action) == "" {
		return nil, policy.Request{}, nil, errors.New("policy simulate: request.action is required")
	}
	in := &policy.Input{ResourceAccount: si.ResourceAccount}
	if si.ResourcePolicyKind != nil {
		switch k := policy.ResourcePolicyKind(*si.ResourcePolicyKind); k {
		case policy.ResourcePolicyOrdinary, policy.ResourcePolicyKMSKey, policy.ResourcePolicyTrust:
			in.ResourcePolicyKind = k
		default:
			return nil, policy.Request{}, nil, fmt.Errorf("policy simulate: resourcePolicyKind %q is not \"\", %q or %q",
				*si.ResourcePolicyKind, policy.ResourcePolicyKMSKey, policy.ResourcePolicyTrust)
		}
	}
	var warnings []string
	load := func(label string, raw json.RawMessage) (policy.NamedPolicy, error) {
		np, w, err := loadPolicy(label, raw)
		warnings = append(warnings, w...)
		warnings = append(warnings, unknownPolicyActions(label, np.Policy)...)
		return np, err
	}
	var err error
	if in.Identity, err = loadList("identityPolicies", si.IdentityPolicies, load); err != nil {
		return nil, policy.Request{}, nil, err
	}
	if in.Boundary, err = loadList("permissionBoundaries", si.PermissionBoundaries, load); err != nil {
		return nil, policy.Request{}, nil, err
	}
	for i, lvl := range si.SCPLevels {
		l, err := loadList("scpLevels["+strconv.Itoa(i)+"]", lvl, load)
		if err != nil {
			return nil, policy.Request{}, nil, err
		}
		in.SCPLevels = append(in.SCPLevels, l)
	}
	for i, lvl := range si.RCPLevels {
		l, err := loadList("rcpLevels["+strconv.Itoa(i)+"]", lvl, load)
		if err != nil {
			return nil, policy.Request{}, nil, err
		}
		in.RCPLevels = append(in.RCPLevels, l)
	}
	if len(si.ResourcePolicy) > 0 && !isJSONNull(si.ResourcePolicy) {
		np, err := load("resourcePolicy", si.ResourcePolicy)
		if err != nil {
			return nil, policy.Request{}, nil, err
		}
		in.ResourcePolicy = &np
	}
	if in.ResourcePolicies, err = loadList("resourcePolicies", si.ResourcePolicies, load); err != nil {
		return nil, policy.Request{}, nil, err
	}
	ctx, err := parseSimulateContext(si.Request.Context)
	if err != nil {
		return nil, policy.Request{}, nil, err
	}
	unknown, err := parseUnknownSuffix(si.Request.ResourceUnknownSuffix)
	if err != nil {
		return nil, policy.Request{}, nil, err
	}
	req := policy.Request{
		Principal:       si.Request.Principal,
		Action:          si.Request.Action,
		Resource:        si.Request.Resource,
		ResourceUnknown: unknown,
		Context:         ctx,
	}
	if req.Resource == "" && unknown == nil {
		req.Resource = "*"
	}
	if msg := awsactions.Check(req.Action); msg != "" {
		warnings = append(warnings, "request.action: "+msg+"; no policy can grant it as written")
	}
	// A resource policy on a KMS key is its key policy unless the input says
	// otherwise (ecs-facts §1.9: the key policy must allow by itself or
	// delegate to the account).
	if si.ResourcePolicyKind == nil && in.ResourcePolicy != nil && isKMSKeyARN(req.Resource) {
		in.ResourcePolicyKind = policy.ResourcePolicyKMSKey
		warnings = append(warnings, `resourcePolicyKind: not given; the resource is a KMS key, so resourcePolicy is evaluated as its key policy ("kms-key-policy"); give "resourcePolicyKind": "" for an ordinary resource policy`)
	}
	return in, req, warnings, nil
}

// isKMSKeyARN: arn:<partition>:kms:<region>:<account>:key/<id> (also the
// known start of one).
func isKMSKeyARN(s string) bool {
	a, ok := policy.ParseARN(s)
	return ok && a.Service == "kms" && strings.HasPrefix(a.Resource, "key/")
}

// unknownPolicyActions warns about actions no AWS action matches (a typo
// grants nothing), as PL001 does in scans.
func unknownPolicyActions(label string, p *policy.Policy) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, st := range p.Statements {
		for _, list := range [][]string{st.Actions, st.NotActions} {
			for _, a := range list {
				if msg := awsactions.Check(a); msg != "" {
					where := "statement " + strconv.Itoa(st.Index)
					if st.Sid != "" {
						where += " (Sid " + strconv.Quote(st.Sid) + ")"
					}
					out = append(out, label+": "+where+": "+msg)
				}
			}
		}
	}
	return out
}

// unknownSuffixShapes are the fields of the object form of
// request.resourceUnknownSuffix.
var unknownSuffixShapes = map[string]string{
	"alphabet":  `a string of characters and ranges such as "A-Za-z0-9"`,
	"length":    "a whole number",
	"minLength": "a whole number",
	"maxLength": "a whole number",
	"tail":      "a string (known text after the unknown characters)",
	"label":     "a string",
}

// parseUnknownSuffix reads request.resourceUnknownSuffix: a preset name or
// {"alphabet": ..., "length": n} / {"alphabet": ..., "minLength": a,
// "maxLength": b}, with optional "tail" and "label".
func parseUnknownSuffix(raw json.RawMessage) (*policy.UnknownSegment, error) {
	const field = "policy simulate: request.resourceUnknownSuffix"
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || isJSONNull(raw) {
		return nil, nil
	}
	expected := fmt.Sprintf(`expected a preset name (%s) or an object such as {"alphabet": "A-Za-z0-9", "length": 6}`, strings.Join(policy.UnknownSegmentPresets, ", "))
	switch raw[0] {
	case '"':
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return nil, fmt.Errorf("%s: %s", field, describeDecodeError(err, nil, false))
		}
		u, ok := policy.UnknownSegmentPreset(name)
		if !ok {
			return nil, fmt.Errorf("%s: unknown preset %q; %s", field, name, expected)
		}
		return u, nil
	case '{':
	default:
		return nil, fmt.Errorf("%s: %s", field, expected)
	}
	var o struct {
		Alphabet  *string `json:"alphabet"`
		Length    *int    `json:"length"`
		MinLength *int    `json:"minLength"`
		MaxLength *int    `json:"maxLength"`
		Tail      string  `json:"tail"`
		Label     string  `json:"label"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("%s%s", field, prefixField(describeDecodeError(err, unknownSuffixShapes, false)))
	}
	u := &policy.UnknownSegment{Tail: o.Tail, Label: o.Label}
	switch {
	case o.Alphabet == nil:
		return nil, fmt.Errorf("%s: alphabet is required; %s", field, expected)
	case o.Length != nil && (o.MinLength != nil || o.MaxLength != nil):
		return nil, fmt.Errorf("%s: give either length or minLength and maxLength, not both", field)
	case o.Length != nil:
		u.MinLength, u.MaxLength = *o.Length, *o.Length
	case o.MinLength != nil && o.MaxLength != nil:
		u.MinLength, u.MaxLength = *o.MinLength, *o.MaxLength
	default:
		return nil, fmt.Errorf("%s: length (or minLength and maxLength) is required; %s", field, expected)
	}
	u.Alphabet = *o.Alphabet
	if err := u.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", field, err)
	}
	return u, nil
}

// prefixField turns "length: expected …" into ".length: expected …" and
// anything else into ": …".
func prefixField(msg string) string {
	if i := strings.Index(msg, ": expected "); i > 0 && !strings.ContainsAny(msg[:i], " ") {
		return "." + msg
	}
	return ": " + msg
}

func loadList(field string, raws []json.RawMessage, load func(string, json.RawMessage) (policy.NamedPolicy, error)) ([]policy.NamedPolicy, error) {
	var out []policy.NamedPolicy
	for i, raw := range raws {
		np, err := load(field+"["+strconv.Itoa(i)+"]", raw)
		if err != nil {
			return nil, err
		}
		out = append(out, np)
	}
	return out, nil
}

func isJSONNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// loadPolicy accepts a policy document (object, or string with JSON or
// URL-encoded JSON) or a {"name", "policy"} wrapper. label is the position
// in the input, used as the name when none is given.
func loadPolicy(label string, raw json.RawMessage) (policy.NamedPolicy, []string, error) {
	raw = bytes.TrimSpace(raw)
	name := ""
	doc := []byte(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(raw, &probe); err != nil {
			return policy.NamedPolicy{}, nil, fmt.Errorf("%s: invalid JSON: %v", label, err)
		}
		if p, ok := probe["policy"]; ok {
			for k := range probe {
				if k != "name" && k != "policy" {
					return policy.NamedPolicy{}, nil, fmt.Errorf("%s: unknown field %q (a named policy has only \"name\" and \"policy\")", label, k)
				}
			}
			if n, ok := probe["name"]; ok && !isJSONNull(n) {
				if err := json.Unmarshal(n, &name); err != nil {
					return policy.NamedPolicy{}, nil, fmt.Errorf("%s: name must be a string", label)
				}
			}
			doc = bytes.TrimSpace(p)
		}
	}
	display := label
	if name != "" {
		display = label + " " + strconv.Quote(name)
	} else {
		name = label
	}
	switch {
	case len(doc) == 0 || isJSONNull(doc):
		return policy.NamedPolicy{}, nil, fmt.Errorf("%s: missing policy document", display)
	case doc[0] == '"':
		var s string
		if err := json.Unmarshal(doc, &s); err != nil {
			return policy.NamedPolicy{}, nil, fmt.Errorf("%s: invalid JSON string: %v", display, err)
		}
		doc = []byte(s)
	case doc[0] != '{':
		return policy.NamedPolicy{}, nil, fmt.Errorf("%s: a policy must be a JSON object or a string", display)
	}
	p, err := policy.Parse(name, doc)
	if err != nil {
		var pe *policy.ParseError
		if errors.As(err, &pe) {
			return policy.NamedPolicy{}, nil, fmt.Errorf("%s: %s", display, pe.Detail())
		}
		return policy.NamedPolicy{}, nil, fmt.Errorf("%s: %v", display, err)
	}
	var warnings []string
	for _, w := range p.Warnings {
		warnings = append(warnings, display+": "+w)
	}
	return policy.NamedPolicy{Name: name, Policy: p}, warnings, nil
}

// parseSimulateContext reads the context object in order, rejecting keys
// that repeat (condition keys are case-insensitive, so "aws:SourceVpce" and
// "AWS:SOURCEVPCE" are the same key).
func parseSimulateContext(raw json.RawMessage) (*policy.Context, error) {
	ctx := policy.NewContext()
	if len(bytes.TrimSpace(raw)) == 0 || isJSONNull(raw) {
		return ctx, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("policy simulate: request.context must be an object")
	}
	seen := map[string]string{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("policy simulate: request.context: %v", err)
		}
		key := kt.(string)
		field := "request.context[" + strconv.Quote(key) + "]"
		if !policy.IsConditionKey(key) {
			return nil, fmt.Errorf("policy simulate: %s: %q is not a condition key (expected service:name)", field, key)
		}
		if prev, ok := seen[strings.ToLower(key)]; ok {
			return nil, fmt.Errorf("policy simulate: %s: the key is given twice (as %q and %q; keys are case-insensitive)", field, prev, key)
		}
		seen[strings.ToLower(key)] = key
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("policy simulate: %s: %v", field, err)
		}
		switch x := v.(type) {
		case nil:
			ctx.SetAbsent(key)
		case string, json.Number, bool:
			ctx.Set(key, scalarText(x))
		case []any:
			vals := make([]string, 0, len(x))
			for i, e := range x {
				switch e.(type) {
				case string, json.Number, bool:
					vals = append(vals, scalarText(e))
				default:
					return nil, fmt.Errorf("policy simulate: %s[%d]: a list holds strings, numbers or booleans", field, i)
				}
			}
			ctx.Set(key, vals...)
		case map[string]any:
			p, ok := x["prefix"].(string)
			if !ok || len(x) != 1 {
				return nil, fmt.Errorf("policy simulate: %s: an object value must be {\"prefix\": \"...\"}", field)
			}
			ctx.SetPrefix(key, p)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("policy simulate: request.context: %v", err)
	}
	return ctx, nil
}

func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}
