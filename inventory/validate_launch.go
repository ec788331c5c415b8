package inventory

import (
	"fmt"
	"strings"
)

// validateLaunchPaths checks a region's launch paths and network facts
// (launch.go, network.go): known statuses, required fields, no duplicates,
// and references between subnets, VPCs and the lists that name them. rf is
// the region's JSON path.
func validateLaunchPaths(rf string, r *Region) error {
	bad := func(field, format string, args ...any) error {
		return &LoadError{Field: field, Offset: -1, Msg: fmt.Sprintf(format, args...)}
	}
	oneOf := func(field, v string, allowed ...string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		shown := make([]string, 0, len(allowed))
		for _, a := range allowed {
			if a == "" {
				shown = append(shown, "absent")
			} else {
				shown = append(shown, fmt.Sprintf("%q", a))
			}
		}
		if v == "" {
			return bad(field, "missing; expected %s", strings.Join(shown, ", "))
		}
		return bad(field, "is %q; expected %s", v, strings.Join(shown, ", "))
	}
	awsvpc := func(field string, n *AwsvpcConfiguration) error {
		if n == nil {
			return nil
		}
		for i, s := range n.Subnets {
			if strings.TrimSpace(s) == "" {
				return bad(fmt.Sprintf("%s.subnets[%d]", field, i), "is empty")
			}
		}
		return oneOf(field+".assignPublicIp", n.AssignPublicIP, "", "ENABLED", "DISABLED")
	}
	launch := func(field string, l *ECSLaunch) error {
		if l.ClusterARN == "" {
			return bad(field+".clusterArn", "missing")
		}
		return awsvpc(field+".network", l.Network)
	}
	listStatus := []string{"", CollectedComplete, CollectedPartial, CollectedNone}

	for k, c := range r.Clusters {
		cf := fmt.Sprintf("%s.clusters[%d]", rf, k)
		if c == nil {
			continue // reported by validate
		}
		if err := oneOf(cf+".tasksStatus", c.TasksStatus, listStatus...); err != nil {
			return err
		}
		if err := oneOf(cf+".eventRulesStatus", c.EventRulesStatus, listStatus...); err != nil {
			return err
		}
		if c.TasksStatus == "" && len(c.Tasks) > 0 {
			return bad(cf+".tasksStatus", "missing while tasks are listed; expected %q or %q", CollectedComplete, CollectedPartial)
		}
		seen := map[string]bool{}
		for l, t := range c.Tasks {
			tf := fmt.Sprintf("%s.tasks[%d]", cf, l)
			if t == nil {
				return bad(tf, "is null")
			}
			if !strings.HasPrefix(t.ARN, "arn:") {
				return bad(tf+".arn", "%q is not a task ARN", t.ARN)
			}
			if seen[t.ARN] {
				return bad(tf+".arn", "task %s is listed twice", t.ARN)
			}
			seen[t.ARN] = true
			if t.TaskDefinition == "" {
				return bad(tf+".taskDefinition", "missing")
			}
			if err := awsvpc(tf+".network", t.Network); err != nil {
				return err
			}
		}
		for l, s := range c.Services {
			if s == nil {
				continue
			}
			sf := fmt.Sprintf("%s.services[%d]", cf, l)
			if err := awsvpc(sf+".network", s.Network); err != nil {
				return err
			}
			for m, d := range s.Deployments {
				if err := awsvpc(fmt.Sprintf("%s.deployments[%d].network", sf, m), d.Network); err != nil {
					return err
				}
			}
		}
	}

	rules := map[string]bool{}
	for k, er := range r.EventRules {
		ef := fmt.Sprintf("%s.eventRules[%d]", rf, k)
		if er == nil {
			return bad(ef, "is null")
		}
		if er.Name == "" {
			return bad(ef+".name", "missing")
		}
		key := er.EventBusName + "|" + er.Name
		if rules[key] {
			return bad(ef+".name", "rule %q of event bus %q is listed twice", er.Name, er.EventBusName)
		}
		rules[key] = true
		if err := oneOf(ef+".describeStatus", er.DescribeStatus, CollectedComplete, CollectedNone); err != nil {
			return err
		}
		if err := oneOf(ef+".targetsStatus", er.TargetsStatus, CollectedComplete, CollectedPartial, CollectedNone); err != nil {
			return err
		}
		ids := map[string]bool{}
		for l, t := range er.Targets {
			tf := fmt.Sprintf("%s.targets[%d]", ef, l)
			if t.ID == "" {
				return bad(tf+".id", "missing")
			}
			if ids[t.ID] {
				return bad(tf+".id", "target %q is listed twice", t.ID)
			}
			ids[t.ID] = true
			if err := launch(tf+".launch", &t.Launch); err != nil {
				return err
			}
		}
	}

	if err := oneOf(rf+".schedulesStatus", r.SchedulesStatus, listStatus...); err != nil {
		return err
	}
	if r.SchedulesStatus == "" && len(r.Schedules) > 0 {
		return bad(rf+".schedulesStatus", "missing while schedules are listed; expected %q or %q", CollectedComplete, CollectedPartial)
	}
	schedules := map[string]bool{}
	for k, s := range r.Schedules {
		sf := fmt.Sprintf("%s.schedules[%d]", rf, k)
		if s == nil {
			return bad(sf, "is null")
		}
		if s.Name == "" {
			return bad(sf+".name", "missing")
		}
		if s.TargetARN == "" {
			return bad(sf+".targetArn", "missing")
		}
		key := s.GroupName + "|" + s.Name
		if schedules[key] {
			return bad(sf+".name", "schedule %q of group %q is listed twice", s.Name, s.GroupName)
		}
		schedules[key] = true
		if err := oneOf(sf+".status", s.Status, CollectedComplete, CollectedNone); err != nil {
			return err
		}
		switch {
		case s.Status == CollectedComplete && s.Launch == nil:
			return bad(sf+".launch", "missing while status is %q", s.Status)
		case s.Status == CollectedNone && s.Launch != nil:
			return bad(sf+".launch", "is given but status is %q", s.Status)
		case s.Launch != nil:
			if err := launch(sf+".launch", s.Launch); err != nil {
				return err
			}
		}
	}

	if r.Network != nil {
		if err := validateNetwork(rf+".network", r.Network, bad, oneOf); err != nil {
			return err
		}
	}
	return nil
}

func validateNetwork(nf string, n *Network, bad func(string, string, ...any) error, oneOf func(string, string, ...string) error) error {
	if err := oneOf(nf+".status", n.Status, CollectedComplete, CollectedSkipped); err != nil {
		return err
	}
	if err := oneOf(nf+".networkInterfacesStatus", n.NetworkInterfacesStatus, "", CollectedComplete, CollectedPartial, CollectedNone); err != nil {
		return err
	}
	if n.Status == CollectedSkipped && (len(n.Subnets)+len(n.VPCs)+len(n.RouteTables)+len(n.VPCEndpoints)+len(n.NATGateways)+len(n.InternetGateways) > 0 || n.NetworkInterfacesStatus != "") {
		return bad(nf+".status", "is %q but network facts are given", n.Status)
	}
	subnets := map[string]bool{}
	vpcOfSubnets := map[string]string{} // VPC → the first field naming it
	for i, s := range n.Subnets {
		sf := fmt.Sprintf("%s.subnets[%d]", nf, i)
		if s == nil || s.ID == "" {
			return bad(sf+".id", "missing")
		}
		if subnets[s.ID] {
			return bad(sf+".id", "subnet %s is listed twice", s.ID)
		}
		subnets[s.ID] = true
		if err := oneOf(sf+".status", s.Status, CollectedComplete, SubnetNotFound, CollectedNone); err != nil {
			return err
		}
		if s.Status == CollectedComplete {
			if s.VPCID == "" {
				return bad(sf+".vpcId", "missing")
			}
			if _, ok := vpcOfSubnets[s.VPCID]; !ok {
				vpcOfSubnets[s.VPCID] = sf + ".vpcId"
			}
		} else if s.VPCID != "" {
			return bad(sf+".vpcId", "is given but status is %q", s.Status)
		}
	}
	vpcs := map[string]bool{}
	for i, v := range n.VPCs {
		vf := fmt.Sprintf("%s.vpcs[%d]", nf, i)
		if v == nil || v.ID == "" {
			return bad(vf+".id", "missing")
		}
		if vpcs[v.ID] {
			return bad(vf+".id", "VPC %s is listed twice", v.ID)
		}
		vpcs[v.ID] = true
		for _, st := range []struct{ field, v string }{
			{"routeTablesStatus", v.RouteTablesStatus}, {"vpcEndpointsStatus", v.VPCEndpointsStatus},
			{"natGatewaysStatus", v.NATGatewaysStatus}, {"internetGatewaysStatus", v.InternetGatewaysStatus},
		} {
			if err := oneOf(vf+"."+st.field, st.v, CollectedComplete, CollectedNone); err != nil {
				return err
			}
		}
	}
	for id, f := range vpcOfSubnets {
		if !vpcs[id] {
			return bad(f, "VPC %s is not in %s.vpcs", id, nf)
		}
	}
	inVPC := func(field, id string) error {
		if id == "" {
			return bad(field, "missing")
		}
		if !vpcs[id] {
			return bad(field, "VPC %s is not in %s.vpcs", id, nf)
		}
		return nil
	}
	ids := map[string]bool{}
	unique := func(field, id, what string) error {
		if id == "" {
			return bad(field, "missing")
		}
		if ids[id] {
			return bad(field, "%s %s is listed twice", what, id)
		}
		ids[id] = true
		return nil
	}
	for i, rt := range n.RouteTables {
		f := fmt.Sprintf("%s.routeTables[%d]", nf, i)
		if rt == nil {
			return bad(f, "is null")
		}
		if err := unique(f+".id", rt.ID, "route table"); err != nil {
			return err
		}
		if err := inVPC(f+".vpcId", rt.VPCID); err != nil {
			return err
		}
	}
	for i, e := range n.VPCEndpoints {
		f := fmt.Sprintf("%s.vpcEndpoints[%d]", nf, i)
		if e == nil {
			return bad(f, "is null")
		}
		if err := unique(f+".id", e.ID, "VPC endpoint"); err != nil {
			return err
		}
		if err := inVPC(f+".vpcId", e.VPCID); err != nil {
			return err
		}
		if e.ServiceName == "" {
			return bad(f+".serviceName", "missing")
		}
		if err := oneOf(f+".policyStatus", e.PolicyStatus, PolicyCollected, PolicyNone); err != nil {
			return err
		}
		empty := strings.TrimSpace(e.Policy) == "" || strings.TrimSpace(e.Policy) == "null"
		if e.PolicyStatus == PolicyCollected && empty {
			return bad(f+".policy", "is empty but policyStatus is %q", e.PolicyStatus)
		}
		if e.PolicyStatus == PolicyNone && !empty {
			return bad(f+".policy", "is given but policyStatus is %q", e.PolicyStatus)
		}
	}
	for i, g := range n.NATGateways {
		f := fmt.Sprintf("%s.natGateways[%d]", nf, i)
		if g == nil {
			return bad(f, "is null")
		}
		if err := unique(f+".id", g.ID, "NAT gateway"); err != nil {
			return err
		}
		if err := inVPC(f+".vpcId", g.VPCID); err != nil {
			return err
		}
	}
	for i, g := range n.InternetGateways {
		f := fmt.Sprintf("%s.internetGateways[%d]", nf, i)
		if g == nil {
			return bad(f, "is null")
		}
		if err := unique(f+".id", g.ID, "internet gateway"); err != nil {
			return err
		}
		for j, a := range g.Attachments {
			if a.VPCID == "" {
				return bad(fmt.Sprintf("%s.attachments[%d].vpcId", f, j), "missing")
			}
		}
	}
	return nil
}
