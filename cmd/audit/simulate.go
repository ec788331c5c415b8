package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

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
    "resourcePolicyKind":   "" | "kms-key-policy" | "trust-policy",
    "resourceAccount":      "111122223333",
    "request": {
      "action":    "secretsmanager:GetSecretValue",
      "resource":  "arn:aws:secretsmanager:...",
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
			res := policy.Evaluate(in, req)
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

type simulateInput struct {
	IdentityPolicies     []json.RawMessage   `json:"identityPolicies"`
	PermissionBoundaries []json.RawMessage   `json:"permissionBoundaries"`
	SCPLevels            [][]json.RawMessage `json:"scpLevels"`
	RCPLevels            [][]json.RawMessage `json:"rcpLevels"`
	ResourcePolicy       json.RawMessage     `json:"resourcePolicy"`
	ResourcePolicyKind   string              `json:"resourcePolicyKind"`
	ResourceAccount      string              `json:"resourceAccount"`
	Request              *simulateRequest    `json:"request"`
}

type simulateRequest struct {
	Action    string          `json:"action"`
	Resource  string          `json:"resource"`
	Principal string          `json:"principal"`
	Context   json.RawMessage `json:"context"`
}

// parseSimulateInput decodes and validates the whole input. Errors name the
// field or the policy at fault.
func parseSimulateInput(data []byte) (*policy.Input, policy.Request, []string, error) {
	var si simulateInput
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&si); err != nil {
		return nil, policy.Request{}, nil, fmt.Errorf("policy simulate: invalid input: %v", err)
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
	switch k := policy.ResourcePolicyKind(si.ResourcePolicyKind); k {
	case policy.ResourcePolicyOrdinary, policy.ResourcePolicyKMSKey, policy.ResourcePolicyTrust:
		in.ResourcePolicyKind = k
	default:
		return nil, policy.Request{}, nil, fmt.Errorf("policy simulate: resourcePolicyKind %q is not \"\", %q or %q",
			si.ResourcePolicyKind, policy.ResourcePolicyKMSKey, policy.ResourcePolicyTrust)
	}
	var warnings []string
	load := func(label string, raw json.RawMessage) (policy.NamedPolicy, error) {
		np, w, err := loadPolicy(label, raw)
		warnings = append(warnings, w...)
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
	ctx, err := parseSimulateContext(si.Request.Context)
	if err != nil {
		return nil, policy.Request{}, nil, err
	}
	req := policy.Request{
		Principal: si.Request.Principal,
		Action:    si.Request.Action,
		Resource:  si.Request.Resource,
		Context:   ctx,
	}
	if req.Resource == "" {
		req.Resource = "*"
	}
	return in, req, warnings, nil
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
