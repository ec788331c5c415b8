package findings

import (
	"reflect"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// Coverage.Collected lists exactly the account × region pairs whose status
// is scanned and the accounts whose IAM was collected, with the collection
// errors of each.
func TestCoverageCollected(t *testing.T) {
	inv, res := demoResult(t)
	var want []AccountRegion
	for _, a := range inv.Accounts {
		want = append(want, AccountRegion{AccountID: a.ID})
		for _, r := range a.Regions {
			if r.Status == inventory.RegionScanned {
				want = append(want, AccountRegion{AccountID: a.ID, Region: r.Name})
			}
		}
	}
	if len(want) != 12 || !reflect.DeepEqual(res.Coverage.Collected, want) {
		t.Fatalf("collected %+v\nwant %+v", res.Coverage.Collected, want)
	}

	// One region failed, one account's IAM not collected, errors in a
	// scanned region and in an account's global calls.
	for _, a := range inv.Accounts {
		switch a.ID {
		case "111111111111":
			a.IAM = nil
		case "333333333333":
			for _, r := range a.Regions {
				if r.Name == "eu-west-1" {
					*r = inventory.Region{Name: r.Name, Status: inventory.RegionFailed}
				}
			}
		}
	}
	inv.Errors = append(inv.Errors,
		inventory.CollectionError{AccountID: "111111111111", Service: "iam", Operation: "GetAccountAuthorizationDetails", Code: "AccessDenied"},
		inventory.CollectionError{AccountID: "333333333333", Region: "eu-west-1", Service: "ecs", Operation: "ListClusters", Code: "RequestTimeout"},
		inventory.CollectionError{AccountID: "222222222222", Region: "us-east-1", Service: "ecs", Operation: "DescribeServices", Code: "ThrottlingException"},
		inventory.CollectionError{AccountID: "222222222222", Region: "us-east-1", Service: "ecs", Operation: "DescribeContainerInstances", Code: "ThrottlingException"},
		inventory.CollectionError{AccountID: "444444444444", Service: "iam", Operation: "GetPolicy", Code: "Throttling"},
	)
	res = Evaluate(inv, Options{ToolVersion: "test"})
	want = []AccountRegion{
		{AccountID: "111111111111", Region: "eu-west-1"}, {AccountID: "111111111111", Region: "us-east-1"},
		{AccountID: "222222222222"}, {AccountID: "222222222222", Region: "eu-west-1"}, {AccountID: "222222222222", Region: "us-east-1", Errors: 2},
		{AccountID: "333333333333"}, {AccountID: "333333333333", Region: "us-east-1"},
		{AccountID: "444444444444", Errors: 1}, {AccountID: "444444444444", Region: "eu-west-1"}, {AccountID: "444444444444", Region: "us-east-1"},
	}
	if !reflect.DeepEqual(res.Coverage.Collected, want) {
		t.Errorf("collected %+v\nwant %+v", res.Coverage.Collected, want)
	}
	if res.Coverage.RegionsScanned != 7 {
		t.Errorf("regions scanned %d", res.Coverage.RegionsScanned)
	}
}
