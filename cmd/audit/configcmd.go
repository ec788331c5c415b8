package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func init() {
	subcommands = append(subcommands, func(a *app) *cobra.Command {
		cmd := &cobra.Command{
			Use:   "config",
			Short: "Show the configuration audit scan would use",
			Args:  cobra.NoArgs,
		}
		cmd.AddCommand(a.configPrintCmd())
		return cmd
	})
}

// configPrintHeader begins the YAML that config print writes.
const configPrintHeader = `audit scan: the effective configuration, usable as an audit.yaml.
Each value's source is on its line: default, FILE:LINE, env AUDIT_NAME or
flag --name (a flag overrides the environment, which overrides the file).`

func (a *app) configPrintCmd() *cobra.Command {
	f := newScanFlags()
	var format string
	cmd := &cobra.Command{
		Use:   "print",
		Short: "Print the effective scan configuration and where each value came from",
		Long: `print resolves the options of audit scan as scan would (audit.yaml or the
file named by --config or AUDIT_CONFIG, then AUDIT_* variables, then the
flags given here), checks them as scan does before any AWS call, and prints
every option with its value and its source: "default", "FILE:LINE",
"env AUDIT_NAME" or "flag --name". The YAML output can be used as an
audit.yaml. The external ID is never printed; a comment says where it was
set.

It takes the flags of audit scan, except --format, which here chooses the
output: yaml (default) or json. An invalid configuration exits 2 with every
problem named, as scan would.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "yaml" && format != "json" {
				return usageErr(fmt.Errorf("--format %q: expected yaml or json", format))
			}
			if err := f.load(cmd.Flags(), a.lookupEnv); err != nil {
				return err
			}
			if err := f.validate(time.Now()); err != nil {
				return err
			}
			header := configPrintHeader + "\nconfiguration file: "
			switch {
			case f.cfg.File == "":
				header += "none"
			case f.cfg.FoundBy == "":
				header += f.cfg.File + " (in the working directory)"
			default:
				header += f.cfg.File + " (from " + f.cfg.FoundBy + ")"
			}
			if format == "json" {
				return f.cfg.WriteJSON(a.stdout)
			}
			return f.cfg.WriteYAML(a.stdout, header)
		},
	}
	var names []string
	for _, o := range f.opts.Options {
		if o.Name != "format" {
			names = append(names, o.Name)
		}
	}
	f.opts.AddFlags(cmd.Flags(), names...)
	f.opts.AddFileFlag(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "yaml", "output: yaml (usable as audit.yaml, sources as comments) or json")
	return cmd
}
