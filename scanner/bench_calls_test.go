package scanner

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// ssmNameFilterLimit is how many values a DescribeParameters Name filter
// takes.
const ssmNameFilterLimit = 50

// ceilDiv is ⌈n/d⌉.
func ceilDiv(n, d int) int64 { return int64((n + d - 1) / d) }

// minimumCalls is, per operation, the fewest calls that collect what inv
// holds, given the API's batch and page limits and the scan's design (which
// listings it makes): what a perfect scanner of this world would need.
// Operations without a defined minimum are absent. Every figure is a lower
// bound: a listing counts one page per page-size of what was kept, although
// it may have to read more (items the scan does not keep, short pages).
//
//   - ECS: ListClusters, DescribeClusters ⌈clusters/100⌉ per region (a
//     listing at least 1); per cluster ListServices and
//     ListContainerInstances at least 1, DescribeServices ⌈services/10⌉,
//     DescribeContainerInstances ⌈instances/100⌉, ListTasks 2 (running and
//     stopped), DescribeTasks ⌈tasks/100⌉; ListTaskDefinitions at least 1;
//     DescribeTaskDefinition one per task definition in scope.
//   - EventBridge and Scheduler: ListEventBuses and ListSchedules 1 per
//     region; ListRuleNamesByTarget 1 per cluster and event bus (the
//     default bus and those with a rule found);
//     DescribeRule and ListTargetsByRule 1 per rule found; GetSchedule 1
//     per schedule found.
//   - Secrets Manager: ListSecrets ⌈names/10⌉ per account×region (a name
//     filter takes 10 values; an ARN asks for its secret's name), no
//     DescribeSecret, GetResourcePolicy 1 per secret found (no listing
//     returns policies).
//   - SSM: DescribeParameters ⌈names/50⌉ (a Name filter takes 50 values).
//   - KMS: ListAliases 1 per account×region with key references (the
//     keys of the secrets and SecureString parameters found),
//     DescribeKey and GetKeyPolicy 1 per key whose policy was read.
//   - ECR: DescribeRepositories ⌈repositories/100⌉ per registry,
//     DescribeImages ⌈images/100⌉ per existing repository,
//     GetRepositoryPolicy 1 per existing repository,
//     DescribePullThroughCacheRules 1 per registry with a name that has a
//     "/", GetRegistryPolicy 1 per registry with a name under a rule.
//   - CloudWatch Logs: DescribeLogGroups ⌈groups/50⌉ per account×region.
//   - Per account: iam:GetAccountAuthorizationDetails and
//     account:ListRegions 1, sts:AssumeRole 1 (but the caller's).
func minimumCalls(inv *inventory.Inventory) map[string]int64 {
	m := map[string]int64{}
	scanned := map[resOwner]*inventory.Region{}
	idx := &refIndex{}
	for _, a := range inv.Accounts {
		if a.IAM != nil {
			m["iam:GetAccountAuthorizationDetails"]++
		}
		if len(a.Regions) > 0 {
			m["account:ListRegions"]++
			if a.ID != inv.Scope.CallerAccount {
				m["sts:AssumeRole"]++
			}
		}
		for _, r := range a.Regions {
			if r.Status != inventory.RegionScanned {
				continue
			}
			scanned[resOwner{a.ID, r.Name}] = r
			for _, td := range r.TaskDefinitions {
				idx.addTaskDefinition(resOwner{a.ID, r.Name}, td, inv.Partition)
			}
			m["ecs:ListClusters"] += max(1, ceilDiv(len(r.Clusters), describeClustersBatch))
			m["ecs:DescribeClusters"] += ceilDiv(len(r.Clusters), describeClustersBatch)
			m["ecs:ListTaskDefinitions"] += max(1, ceilDiv(len(r.TaskDefinitions), taskDefinitionPageLimit))
			m["ecs:DescribeTaskDefinition"] += int64(len(r.TaskDefinitions))
			m["events:ListEventBuses"]++
			m["scheduler:ListSchedules"]++
			m["scheduler:GetSchedule"] += int64(len(r.Schedules))
			m["events:DescribeRule"] += int64(len(r.EventRules))
			m["events:ListTargetsByRule"] += int64(len(r.EventRules))
			buses := map[string]bool{defaultEventBus: true}
			for _, er := range r.EventRules {
				if er.EventBusName != "" {
					buses[er.EventBusName] = true
				}
			}
			for _, sec := range r.Secrets {
				if sec.KMSKeyID != "" {
					idx.addKey(resOwner{a.ID, r.Name}, sec.KMSKeyID)
				}
			}
			for _, p := range r.Parameters {
				if p.Type == "SecureString" && p.KeyID != "" {
					idx.addKey(resOwner{a.ID, r.Name}, p.KeyID)
				}
			}
			for _, c := range r.Clusters {
				m["ecs:ListServices"] += max(1, ceilDiv(len(c.Services), ecsPageSize))
				m["ecs:DescribeServices"] += ceilDiv(len(c.Services), describeServicesBatch)
				m["ecs:ListContainerInstances"] += max(1, ceilDiv(len(c.ContainerInstances), ecsPageSize))
				m["ecs:DescribeContainerInstances"] += ceilDiv(len(c.ContainerInstances), describeInstancesBatch)
				m["ecs:ListTasks"] += int64(len(taskStatuses))
				m["ecs:DescribeTasks"] += ceilDiv(len(c.Tasks), describeTasksBatch)
				m["events:ListRuleNamesByTarget"] += int64(len(buses))
			}
			m["secretsmanager:GetResourcePolicy"] += int64(len(r.Secrets))
			for _, k := range r.KMSKeys {
				if k.PolicyStatus == inventory.PolicyCollected {
					m["kms:DescribeKey"]++
					m["kms:GetKeyPolicy"]++
				}
			}
			for _, repo := range r.ECRRepositories {
				if repo.Status == inventory.Exists {
					m["ecr:DescribeImages"] += ceilDiv(len(repo.Images), describeImagesBatch)
					m["ecr:GetRepositoryPolicy"]++
				}
			}
			if reg := r.ECRRegistry; reg != nil {
				m["ecr:DescribePullThroughCacheRules"]++
				if slices.ContainsFunc(r.ECRRepositories, func(repo *inventory.ECRRepository) bool { return repo.PullThroughCachePrefix != "" }) {
					m["ecr:GetRegistryPolicy"]++
				}
			}
		}
	}
	for o, w := range idx.m {
		if scanned[o] == nil {
			continue // not resolved by the scan
		}
		names := map[string]bool{}
		for ref := range w.secrets {
			names[secretListName(ref)] = true
		}
		m["secretsmanager:ListSecrets"] += ceilDiv(len(names), listSecretsBatch)
		m["secretsmanager:DescribeSecret"] += 0
		var params []string
		for _, cands := range w.params {
			params = append(params, cands...)
		}
		slices.Sort(params)
		m["ssm:DescribeParameters"] += ceilDiv(len(slices.Compact(params)), ssmNameFilterLimit)
		if len(w.keys) > 0 {
			m["kms:ListAliases"]++
		}
		valid := 0
		for n := range w.images {
			if inventory.ValidECRRepositoryName(n) {
				valid++
			}
		}
		m["ecr:DescribeRepositories"] += ceilDiv(valid, describeRepositoriesBatch)
		m["logs:DescribeLogGroups"] += ceilDiv(len(w.logGroups), logGroupsListPage)
	}
	return m
}

// callsTable prints, per operation, the calls made and the minimum, each
// per scanned account×region, and their ratio; then the totals over the
// operations with a minimum, and over the resolution of secrets,
// parameters and keys.
func callsTable(calls, minimum map[string]int64, acctRegions int) string {
	var sb strings.Builder
	per := func(n int64) float64 { return float64(n) / float64(max(acctRegions, 1)) }
	fmt.Fprintf(&sb, "calls per scanned account×region (%d), next to the minimum for this world:\n", acctRegions)
	fmt.Fprintf(&sb, "  %-45s %8s %8s %8s %8s %7s\n", "operation", "calls", "per a×r", "minimum", "per a×r", "ratio")
	var total, totalMin, res, resMin, other int64
	keys := slices.Sorted(maps.Keys(calls))
	for k := range maps.Keys(minimum) {
		if _, ok := calls[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		n, mn := calls[k], minimum[k]
		if _, ok := minimum[k]; !ok {
			other += n
			fmt.Fprintf(&sb, "  %-45s %8d %8.2f %8s %8s %7s\n", k, n, per(n), "—", "", "")
			continue
		}
		total += n
		totalMin += mn
		if svc, _, _ := strings.Cut(k, ":"); svc == "secretsmanager" || svc == "ssm" || svc == "kms" {
			res += n
			resMin += mn
		}
		ratio := "—"
		if mn > 0 {
			ratio = fmt.Sprintf("%.2f", float64(n)/float64(mn))
		}
		fmt.Fprintf(&sb, "  %-45s %8d %8.2f %8d %8.2f %7s\n", k, n, per(n), mn, per(mn), ratio)
	}
	fmt.Fprintf(&sb, "  %-45s %8d %8.2f %8d %8.2f %7.2f\n", "secrets, parameters and keys", res, per(res), resMin, per(resMin), float64(res)/float64(max(resMin, 1)))
	fmt.Fprintf(&sb, "  %-45s %8d %8.2f %8d %8.2f %7.2f\n", "all operations with a minimum", total, per(total), totalMin, per(totalMin), float64(total)/float64(max(totalMin, 1)))
	fmt.Fprintf(&sb, "  %-45s %8d %8.2f\n", "operations without one", other, per(other))
	return sb.String()
}
