package fakeaws

import (
	"sort"
	"strings"
)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func joinSorted(list []string) string {
	c := append([]string(nil), list...)
	sort.Strings(c)
	return strings.Join(c, ",")
}
