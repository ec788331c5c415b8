package findings

import (
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// resources indexes the secret, parameter and key metadata of the whole
// inventory, so that a task definition in one account can find a resource in
// another. Every method is safe on a nil receiver.
//
// A layer (over) indexes one account's resources over the resources of the
// others: each lookup asks the layer first, then its parent. A live scan's
// Index holds only what accounts reference across accounts; what an
// account references in itself comes with the account.
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
	// parent is what a layer is over (nil: none).
	parent *resources
}

func newResources() *resources {
	return &resources{
		secrets: map[string]*inventory.Secret{}, secretBase: map[string]*inventory.Secret{},
		secretName: map[string]*inventory.Secret{}, params: map[string]*inventory.Parameter{},
		keys: map[string]*inventory.KMSKey{},
		exist: existIndex{
			repos: map[string]*inventory.ECRRepository{}, registries: map[string]*inventory.ECRRegistry{},
			logGroups: map[string]*inventory.LogGroup{}, missingSecrets: map[string]bool{}, missingParams: map[string]bool{},
			paramsByName: map[string]*inventory.Parameter{},
		},
	}
}

func indexResources(inv *inventory.Inventory) *resources {
	r := newResources()
	r.failed = inv.PolicyReadFailures()
	for _, a := range inv.Accounts {
		r.addAccount(inv.Partition, a)
	}
	r.indexExistence(inv)
	return r
}

// over returns a layer with account a's resources over r (nil: a's alone,
// with nothing known of other accounts).
func (r *resources) over(partition string, a *inventory.Account) *resources {
	l := newResources()
	if r != nil {
		l.failed, l.parent = r.failed, r
		l.exist.resolution, l.exist.scanned, l.exist.accounts, l.exist.buckets = r.exist.resolution, r.exist.scanned, r.exist.accounts, r.exist.buckets
	}
	if a != nil {
		l.addAccount(partition, a)
	}
	return l
}

// addAccount indexes the resources of one account.
func (r *resources) addAccount(partition string, a *inventory.Account) {
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
				arn = "arn:" + partition + ":ssm:" + reg.Name + ":" + a.ID + ":parameter/" + strings.TrimPrefix(p.Name, "/")
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
				r.keys["arn:"+partition+":kms:"+reg.Name+":"+a.ID+":"+al] = k
			}
		}
		r.exist.addRegion(a.ID, reg)
	}
}

// find looks key up in each layer of r's, from the top.
func find[V any](r *resources, m func(*resources) map[string]V, key string) (V, bool) {
	for ; r != nil; r = r.parent {
		if v, ok := m(r)[key]; ok {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// secretByARN finds a secret by its full ARN or by its ARN without suffix.
func (r *resources) secretByARN(arn string) *inventory.Secret {
	if r == nil {
		return nil
	}
	if s, ok := find(r, func(r *resources) map[string]*inventory.Secret { return r.secrets }, arn); ok {
		return s
	}
	s, _ := find(r, func(r *resources) map[string]*inventory.Secret { return r.secretBase }, arn)
	return s
}

func (r *resources) secretByName(account, region, name string) *inventory.Secret {
	if r == nil {
		return nil
	}
	s, _ := find(r, func(r *resources) map[string]*inventory.Secret { return r.secretName }, account+"|"+region+"|"+name)
	return s
}

func (r *resources) parameterByARN(arn string) *inventory.Parameter {
	if r == nil {
		return nil
	}
	p, _ := find(r, func(r *resources) map[string]*inventory.Parameter { return r.params }, arn)
	return p
}

// kmsKey finds a key by ARN, key ID or alias (alias/x or an alias ARN).
func (r *resources) kmsKey(id, account, region string) *inventory.KMSKey {
	if r == nil {
		return nil
	}
	keys := func(r *resources) map[string]*inventory.KMSKey { return r.keys }
	if k, ok := find(r, keys, id); ok {
		return k
	}
	k, _ := find(r, keys, account+"|"+region+"|"+id)
	return k
}
