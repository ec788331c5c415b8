package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecs-audit/audit/internal/demo"
	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/report"
	"github.com/ecs-audit/audit/scanner"
	"github.com/ecs-audit/audit/store"
	"github.com/spf13/cobra"
)

// demoOptions are the options of scan that demo takes too.
var demoOptions = []string{"format", "out", "quiet", "log-level", "log-format"}

func init() {
	subcommands = append(subcommands, func(a *app) *cobra.Command {
		// The demo shares the report and terminal options of scan, from
		// the same definitions, but writes every format by default. It
		// reads flags only: no audit.yaml, no AUDIT_* variables.
		fl := newScanFlags()
		defaultErr := fl.opts.SetDefault("format", []string{"all"})
		cmd := &cobra.Command{
			Use:   "demo",
			Short: "Scan the built-in demo organization through a local fake AWS endpoint",
			Long: `demo starts a fake AWS endpoint on a loopback port serving the built-in demo
organization (4 accounts, 2 OUs, SCPs, Fargate and EC2 clusters, 30+ task
definitions), runs a full live Organization scan against it through the AWS
SDK (--org --regions all), and writes every report format to --out.

It reads its flags only, not audit.yaml or AUDIT_* variables.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if defaultErr != nil {
					return defaultErr
				}
				out, quiet := fl.out, fl.quiet
				fmts, err := report.ParseFormats(strings.Join(fl.formats, ","))
				if err != nil {
					return usageErr(fmt.Errorf("--format: %w", err))
				}
				if out == "-" || store.IsS3URL(out) {
					return usageErr(fmt.Errorf("--out %s: audit demo writes its reports and the snapshot to a local directory", out))
				}
				logger, err := fl.logger(a.stderr)
				if err != nil {
					return usageErr(err)
				}
				srv, err := fakeaws.New(demo.World(), fakeaws.Options{Seed: 1})
				if err != nil {
					return fmt.Errorf("demo world: %w", err)
				}
				url, err := srv.Start()
				if err != nil {
					return fmt.Errorf("starting the fake AWS endpoint: %w", err)
				}
				defer srv.Close()
				if !quiet {
					fmt.Fprintf(a.stderr, "fake AWS endpoint for the demo organization at %s\n", url)
				}
				ak, sk := srv.CallerCredentials()
				bar := a.newProgress(quiet)
				start := time.Now()
				inv, err := scanner.Collect(cmd.Context(), scanner.Config{
					Org: true, Region: "us-east-1", BaseEndpoint: url, Credentials: scanner.StaticCredentials(ak, sk),
					ResolveResources: true, Logger: logger, Progress: bar.update, ToolVersion: toolVersion(),
				})
				bar.finish()
				if err != nil {
					return fl.collectFailed(err)
				}
				inv.Scope.Source = "demo"
				if !quiet {
					calls := int64(0)
					for _, n := range srv.Calls() {
						calls += n
					}
					fmt.Fprintf(a.stderr, "scanned %d accounts in %s with %d API calls (%d mutating: none expected)\n",
						len(inv.Accounts), time.Since(start).Round(time.Millisecond), calls, len(srv.MutatingCalls()))
				}
				fl.saveSnapshot = filepath.Join(out, "inventory.json")
				err = a.analyseAndWrite(cmd.Context(), inv, nil, fl, plan{formats: fmts, now: start})
				if err == nil && !quiet {
					fmt.Fprintf(a.stderr, "re-analyse offline with: audit scan --snapshot %s --format all --out %s\n", fl.saveSnapshot, out)
				}
				return err
			},
		}
		fl.opts.AddFlags(cmd.Flags(), demoOptions...)
		return cmd
	})
}
