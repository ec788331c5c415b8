package scanner

import (
	"cmp"
	"slices"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// sortInventory puts everything in a deterministic order: accounts by ID,
// regions by name, and ECS resources, roles and policies by ARN. An
// account's path stays root first; container definitions keep their order.
func sortInventory(inv *inventory.Inventory) {
	slices.SortFunc(inv.Accounts, func(a, b *inventory.Account) int { return strings.Compare(a.ID, b.ID) })
	for _, a := range inv.Accounts {
		sortAccount(a)
	}
	slices.SortFunc(inv.S3Buckets, func(x, y *inventory.S3Bucket) int { return strings.Compare(x.Name, y.Name) })
	slices.SortFunc(inv.Errors, func(x, y inventory.CollectionError) int {
		return cmp.Or(
			strings.Compare(x.AccountID, y.AccountID),
			strings.Compare(x.Region, y.Region),
			strings.Compare(x.Service, y.Service),
			strings.Compare(x.Operation, y.Operation),
			strings.Compare(x.Resource, y.Resource),
			strings.Compare(x.Code, y.Code),
			strings.Compare(x.Message, y.Message),
		)
	})
}

// sortAccount puts one account in order (sortInventory).
func sortAccount(a *inventory.Account) {
	if a.IAM != nil {
		slices.SortFunc(a.IAM.Roles, func(x, y *inventory.Role) int { return strings.Compare(x.ARN, y.ARN) })
		slices.SortFunc(a.IAM.ManagedPolicies, func(x, y *inventory.ManagedPolicy) int { return strings.Compare(x.ARN, y.ARN) })
	}
	slices.SortFunc(a.Regions, func(x, y *inventory.Region) int { return strings.Compare(x.Name, y.Name) })
	for _, r := range a.Regions {
		slices.SortFunc(r.Clusters, func(x, y *inventory.Cluster) int { return strings.Compare(x.ARN, y.ARN) })
		for _, cl := range r.Clusters {
			slices.SortFunc(cl.Services, func(x, y *inventory.Service) int { return strings.Compare(x.ARN, y.ARN) })
			slices.SortFunc(cl.ContainerInstances, func(x, y *inventory.ContainerInstance) int { return strings.Compare(x.ARN, y.ARN) })
		}
		slices.SortFunc(r.TaskDefinitions, func(x, y *inventory.TaskDefinition) int { return strings.Compare(x.ARN, y.ARN) })
		slices.SortFunc(r.Secrets, func(x, y *inventory.Secret) int { return strings.Compare(x.ARN, y.ARN) })
		slices.SortFunc(r.Parameters, func(x, y *inventory.Parameter) int { return strings.Compare(x.Name, y.Name) })
		slices.SortFunc(r.KMSKeys, func(x, y *inventory.KMSKey) int { return strings.Compare(x.ARN, y.ARN) })
		slices.Sort(r.MissingSecrets)
		slices.Sort(r.MissingParameters)
		slices.SortFunc(r.ECRRepositories, func(x, y *inventory.ECRRepository) int { return strings.Compare(x.Name, y.Name) })
		slices.SortFunc(r.LogGroups, func(x, y *inventory.LogGroup) int { return strings.Compare(x.Name, y.Name) })
		sortLaunchPaths(r)
	}
}
