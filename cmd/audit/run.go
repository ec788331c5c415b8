package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ecs-audit/audit/report"
	"github.com/spf13/cobra"
)

// Exit codes, in one place. The README documents them.
const (
	ExitOK         = 0 // nothing at or above --fail-on
	ExitFindings   = 1 // findings at or above --fail-on
	ExitUsage      = 2 // nothing scanned: usage, input or setup error (no reports)
	ExitIncomplete = 3 // the scan is incomplete (collection errors, gaps or interrupted; reports written)
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as a usage or input error (exit 2).
func usageErr(err error) error { return &exitError{code: ExitUsage, err: err} }

// withCode returns an error that makes Run exit with code; a nil err means
// "exit quietly with code".
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// app holds what every command shares: the streams and the environment
// (AUDIT_* variables).
type app struct {
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv func(string) (string, bool)
}

// Run executes the audit command line and returns the process exit code. It
// never calls os.Exit. Error messages can quote AWS strings and snapshot
// content (ARNs, names, AWS error text): they are printed through
// report.Reveal, which shows control and bidi characters as "<U+202E>".
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, lookupEnv: os.LookupEnv}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "audit: %s\n", report.Reveal(ee.err.Error()))
		}
		return ee.code
	}
	// cobra's own errors (unknown flag, bad args) are usage errors.
	fmt.Fprintf(stderr, "audit: %s\n", report.Reveal(err.Error()))
	return ExitUsage
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "audit",
		Short:         "Check ECS task execution roles across an AWS Organization",
		Long:          "audit checks that every ECS task definition in every account and region can start with the task execution role it names, and that the role holds no more than it needs.",
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version (and -v) print the same line as `audit version`.
		Version: toolVersion(),
	}
	root.SetVersionTemplate(versionTemplate())
	root.CompletionOptions.DisableDefaultCmd = true
	for _, add := range subcommands {
		root.AddCommand(add(a))
	}
	return root
}

// subcommands is filled by init functions of the files that define commands,
// so that each command lives in its own file.
var subcommands []func(*app) *cobra.Command
