package findings

import (
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// resources indexes the secret, parameter and key metadata of the whole
// inventory, so that a task definition in one account can find a resource in
// another. Every method is safe on a nil receiver.
type resources struct {
	secrets    map[string]*inventory.Secret    // by full ARN
	secretBase map[string]*inventory.Secret    // by ARN without the 6-char suffix
	secretName map[string]*inventory.Secret    // account|region|name
	params     map[string]*inventory.Parameter // by ARN
	keys       map[string]*inventory.KMSKey    // by ARN, account|region|keyID, account|region|alias
	// failed are the resources whose policy a collection error says could
	// not be read (inventory.PolicyReadFailures).
	failed map[string]bool
	// exist indexes the existence records (exist.go).
	exist existIndex
}

func indexResources(inv *inventory.Inventory) *resources {
	r := &resources{
		secrets: map[string]*inventory.Secret{}, secretBase: map[string]*inventory.Secret{},
		secretName: map[string]*inventory.Secret{}, params: map[string]*inventory.Parameter{},
		keys: map[string]*inventory.KMSKey{}, failed: inv.PolicyReadFailures(),
	}
	for _, a := range inv.Accounts {
		for _, reg := range a.Regions {
			for _, s := range reg.Secrets {
				if s == nil {
					continue
				}
				r.secrets[s.ARN] = s
				if secretSuffixRe.MatchString(s.ARN) {
					r.secretBase[s.ARN[:len(s.ARN)-7]] = s
				}
				r.secretName[a.ID+"|"+reg.Name+"|"+s.Name] = s
			}
			for _, p := range reg.Parameters {
				if p == nil {
					continue
				}
				arn := p.ARN
				if arn == "" {
					arn = "arn:" + inv.Partition + ":ssm:" + reg.Name + ":" + a.ID + ":parameter/" + strings.TrimPrefix(p.Name, "/")
				}
				r.params[arn] = p
			}
			for _, k := range reg.KMSKeys {
				if k == nil {
					continue
				}
				r.keys[k.ARN] = k
				r.keys[a.ID+"|"+reg.Name+"|"+k.KeyID] = k
				for _, al := range k.Aliases {
					r.keys[a.ID+"|"+reg.Name+"|"+al] = k
					r.keys["arn:"+inv.Partition+":kms:"+reg.Name+":"+a.ID+":"+al] = k
				}
			}
		}
	}
	r.indexExistence(inv)
	return r
}

// secretByARN finds a secret by its full ARN or by its ARN without suffix.
func (r *resources) secretByARN(arn string) *inventory.Secret {
	if r == nil {
		return nil
	}
	if s := r.secrets[arn]; s != nil {
		return s
	}
	return r.secretBase[arn]
}

func (r *resources) secretByName(account, region, name string) *inventory.Secret {
	if r == nil {
		return nil
	}
	return r.secretName[account+"|"+region+"|"+name]
}

func (r *resources) parameterByARN(arn string) *inventory.Parameter {
	if r == nil {
		return nil
	}
	return r.params[arn]
}

// kmsKey finds a key by ARN, key ID or alias (alias/x or an alias ARN).
func (r *resources) kmsKey(id, account, region string) *inventory.KMSKey {
	if r == nil {
		return nil
	}
	if k := r.keys[id]; k != nil {
		return k
	}
	return r.keys[account+"|"+region+"|"+id]
}
