package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/ecs-audit/audit/findings"
	"github.com/spf13/cobra"
)

func init() {
	subcommands = append(subcommands, func(a *app) *cobra.Command {
		var format string
		cmd := &cobra.Command{
			Use:   "rules",
			Short: "List the rule catalog",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				cat := findings.Catalog()
				switch format {
				case "json":
					enc := json.NewEncoder(a.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(cat)
				case "text", "":
					tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
					// SEVERITY is the range the rule's findings take (the
					// severity model in the README), DEFAULT its usual one.
					fmt.Fprintln(tw, "ID\tSEVERITY\tDEFAULT\tTITLE")
					for _, r := range cat {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.SeverityRange, r.Severity, r.Title)
					}
					return tw.Flush()
				default:
					return usageErr(fmt.Errorf("--format %q: expected text or json", format))
				}
			},
		}
		cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
		return cmd
	})
}
