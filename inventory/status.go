package inventory

// PolicyReadFailures returns the ARNs of the resources whose resource policy
// a collection error says could not be read: a failed Secrets Manager
// GetResourcePolicy, KMS GetKeyPolicy or SSM GetResourcePolicies call about
// that resource.
func (inv *Inventory) PolicyReadFailures() map[string]bool {
	out := map[string]bool{}
	for _, e := range inv.Errors {
		switch {
		case e.Service == "secretsmanager" && e.Operation == "GetResourcePolicy",
			e.Service == "kms" && e.Operation == "GetKeyPolicy",
			e.Service == "ssm" && e.Operation == "GetResourcePolicies":
			if e.Resource != "" {
				out[e.Resource] = true
			}
		}
	}
	return out
}

// EffectivePolicyStatus is the secret's ResourcePolicyStatus, or when it is
// not recorded (a version 1 snapshot, an inventory built in memory) what
// version 1 means: a document is PolicyCollected; no document with a
// collection error for it (failed, from PolicyReadFailures) is
// PolicyNotCollected; no document and no error is PolicyNone.
func (s *Secret) EffectivePolicyStatus(failed map[string]bool) string {
	switch {
	case s.ResourcePolicyStatus != "":
		return s.ResourcePolicyStatus
	case s.ResourcePolicy != "":
		return PolicyCollected
	case failed[s.ARN]:
		return PolicyNotCollected
	}
	return PolicyNone
}

// EffectivePolicyStatus is the key's PolicyStatus, or when it is not
// recorded: PolicyCollected with a document, otherwise PolicyNotCollected.
// Every KMS key has a key policy, so a key without one in a version 1
// snapshot was not read, whether or not an error was recorded.
func (k *KMSKey) EffectivePolicyStatus() string {
	switch {
	case k.PolicyStatus != "":
		return k.PolicyStatus
	case k.Policy != "":
		return PolicyCollected
	}
	return PolicyNotCollected
}

// EffectivePolicyStatus is the parameter's ResourcePolicyStatus, or when it
// is not recorded: PolicyCollected with a document, otherwise
// PolicyNotCollected (version 1 had no parameter policies: they were never
// read).
func (p *Parameter) EffectivePolicyStatus() string {
	switch {
	case p.ResourcePolicyStatus != "":
		return p.ResourcePolicyStatus
	case p.ResourcePolicy != "":
		return PolicyCollected
	}
	return PolicyNotCollected
}

// FillPolicyStatuses records the effective status of every resolved
// secret, parameter and KMS key that has none, so that the inventory can be
// written as a complete version 2 snapshot. It changes nothing else.
func (inv *Inventory) FillPolicyStatuses() {
	var failed map[string]bool
	for _, a := range inv.Accounts {
		if a == nil {
			continue
		}
		for _, r := range a.Regions {
			if r == nil {
				continue
			}
			for _, s := range r.Secrets {
				if s != nil && s.ResourcePolicyStatus == "" {
					if failed == nil {
						failed = inv.PolicyReadFailures()
					}
					s.ResourcePolicyStatus = s.EffectivePolicyStatus(failed)
				}
			}
			for _, p := range r.Parameters {
				if p != nil && p.ResourcePolicyStatus == "" {
					p.ResourcePolicyStatus = p.EffectivePolicyStatus()
				}
			}
			for _, k := range r.KMSKeys {
				if k != nil && k.PolicyStatus == "" {
					k.PolicyStatus = k.EffectivePolicyStatus()
				}
			}
		}
	}
}
