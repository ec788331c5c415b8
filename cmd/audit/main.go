// Command audit checks that every ECS task definition in an AWS Organization
// can start with the task execution role it names, and that the role holds no
// more than it needs.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	setContainerMemoryLimit()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	for _, f := range exitHooks {
		f()
	}
	os.Exit(code)
}

// exitHooks run before audit exits (the profiles of a build with the tag
// profile, see profile.go).
var exitHooks []func()
