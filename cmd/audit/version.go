package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"
// (make build, make install and make dist do).
var version = ""

// devVersion is reported when neither the linker nor the build information
// knows a version: a plain `go build` or `go run` inside a checkout.
const devVersion = "0.1.0-dev"

// toolVersion is the version reports carry and `audit version` prints.
func toolVersion() string { return resolveVersion(version, debug.ReadBuildInfo) }

// resolveVersion picks the version: the one set by the linker, else the main
// module's version from the build information, which `go install
// github.com/ecs-audit/audit/cmd/audit@v1.2.3` (or @latest) records, else
// devVersion. "(devel)" is what Go records for a build of a local checkout.
func resolveVersion(linked string, readBuildInfo func() (*debug.BuildInfo, bool)) string {
	if linked != "" {
		return linked
	}
	if bi, ok := readBuildInfo(); ok && bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return devVersion
}

// versionTemplate is cobra's template for `audit --version`. It prints the
// same line as `audit version` (versionLine), with the root command's Version
// field in place of the version.
func versionTemplate() string {
	return "audit {{.Version}} (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
}

// versionLine is the output of `audit version`.
func versionLine(v string) string {
	return fmt.Sprintf("audit %s (%s, %s/%s)\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func init() {
	subcommands = append(subcommands, func(a *app) *cobra.Command {
		return &cobra.Command{
			Use:   "version",
			Short: "Print the version (also: audit --version)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				_, err := fmt.Fprint(a.stdout, versionLine(toolVersion()))
				return err
			},
		}
	})
}
