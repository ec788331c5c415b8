package findings

import "sort"

// rule is a catalog entry: its metadata and its check. Each rule lives in a
// file of its own (er001.go, ...) and registers itself from init.
type rule struct {
	RuleMeta
	check func(*evaluation)
}

var registry = map[string]*rule{}

func register(r *rule) {
	if _, dup := registry[r.ID]; dup {
		panic("findings: rule registered twice: " + r.ID)
	}
	registry[r.ID] = r
}

// Catalog returns every rule's metadata, sorted by ID.
func Catalog() []RuleMeta {
	out := make([]RuleMeta, 0, len(registry))
	for _, r := range registry {
		out = append(out, r.RuleMeta)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Rule returns one rule's metadata.
func Rule(id string) (RuleMeta, bool) {
	r, ok := registry[id]
	if !ok {
		return RuleMeta{}, false
	}
	return r.RuleMeta, true
}
