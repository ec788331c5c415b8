package fakeaws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

var benchSpec = WorldSpec{Accounts: 200, Regions: []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"},
	TaskDefsPerRegion: 30, ServicesPerRegion: 20, InstancesPerCluster: 10, ClustersPerRegion: 3, Seed: 1}

func BenchmarkGenerateWorld(b *testing.B) {
	for i := 0; i < b.N; i++ {
		GenerateWorld(benchSpec)
	}
}

func BenchmarkNew(b *testing.B) {
	w := GenerateWorld(benchSpec)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := New(w, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDescribeTaskDefinitionSDK measures calls per second through the
// real SDK on loopback with no latency, from several goroutines.
func BenchmarkDescribeTaskDefinitionSDK(b *testing.B) {
	w := GenerateWorld(WorldSpec{Accounts: 3, Regions: []string{"us-east-1"}, TaskDefsPerRegion: 30, ServicesPerRegion: 10, InstancesPerCluster: 5, ClustersPerRegion: 2, Seed: 1})
	ts := startServer(b, w, Options{})
	client := ecs.NewFromConfig(ts.assumeCfg(b, w.Accounts[1].ID, "us-east-1"))
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			fam := fmt.Sprintf("svc-%02d", i%10)
			if _, err := client.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(fam)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkListClustersSDK is the cheapest call: the SDK and HTTP overhead.
func BenchmarkListClustersSDK(b *testing.B) {
	w := GenerateWorld(WorldSpec{Accounts: 2, ClustersPerRegion: 3, Seed: 1})
	ts := startServer(b, w, Options{})
	client := ecs.NewFromConfig(ts.assumeCfg(b, w.Accounts[1].ID, "us-east-1"))
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := client.ListClusters(context.Background(), &ecs.ListClustersInput{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkScanRegionSDK walks one account-region the way a scanner does
// (list and describe clusters, services, container instances and task
// definitions) through the SDK, 8 regions at a time, and reports calls/s.
func BenchmarkScanRegionSDK(b *testing.B) {
	w := GenerateWorld(WorldSpec{Accounts: 8, Regions: []string{"us-east-1"}, TaskDefsPerRegion: 30, ServicesPerRegion: 20, InstancesPerCluster: 10, ClustersPerRegion: 3, Seed: 1})
	ts := startServer(b, w, Options{})
	var clients []*ecs.Client
	for _, a := range w.Accounts {
		clients = append(clients, ecs.NewFromConfig(ts.assumeCfg(b, a.ID, "us-east-1")))
	}
	ts.ResetCounters()
	var next atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			c := clients[next.Add(1)%int64(len(clients))]
			if err := scanRegion(ctx, c); err != nil {
				b.Error(err)
				return
			}
		}
	})
	var calls int64
	for _, n := range ts.Calls() {
		calls += n
	}
	b.ReportMetric(float64(calls)/time.Since(start).Seconds(), "calls/s")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/region")
}

func scanRegion(ctx context.Context, c *ecs.Client) error {
	cl, err := c.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil {
		return err
	}
	if _, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: cl.ClusterArns}); err != nil {
		return err
	}
	for _, arn := range cl.ClusterArns {
		sp := ecs.NewListServicesPaginator(c, &ecs.ListServicesInput{Cluster: aws.String(arn), MaxResults: aws.Int32(100)})
		for sp.HasMorePages() {
			page, err := sp.NextPage(ctx)
			if err != nil {
				return err
			}
			for i := 0; i < len(page.ServiceArns); i += 10 {
				if _, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(arn), Services: page.ServiceArns[i:min(i+10, len(page.ServiceArns))]}); err != nil {
					return err
				}
			}
		}
		ci, err := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(arn)})
		if err != nil {
			return err
		}
		if len(ci.ContainerInstanceArns) > 0 {
			if _, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(arn), ContainerInstances: ci.ContainerInstanceArns}); err != nil {
				return err
			}
		}
	}
	tp := ecs.NewListTaskDefinitionsPaginator(c, &ecs.ListTaskDefinitionsInput{})
	for tp.HasMorePages() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, arn := range page.TaskDefinitionArns {
			if _, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// BenchmarkHandler measures the server alone: a signed DescribeTaskDefinition
// and ListClusters served by Handler() without the network or the SDK.
func BenchmarkHandler(b *testing.B) {
	w := GenerateWorld(WorldSpec{Accounts: 2, Regions: []string{"us-east-1"}, TaskDefsPerRegion: 30, ClustersPerRegion: 3, Seed: 1})
	s, err := New(w, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ak, sk := s.CallerCredentials()
	for _, tt := range []struct{ op, body string }{
		{"DescribeTaskDefinition", `{"taskDefinition":"svc-04"}`},
		{"ListClusters", `{}`},
	} {
		b.Run(tt.op, func(b *testing.B) {
			req := signedECSRequest(b, ak, sk, tt.op, tt.body)
			h := s.Handler()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				r := req.Clone(context.Background())
				r.Body = io.NopCloser(strings.NewReader(tt.body))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
		})
	}
}

func signedECSRequest(b *testing.B, ak, sk, op, body string) *http.Request {
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+op)
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, req,
		hex.EncodeToString(sum[:]), "ecs", "us-east-1", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return req
}
