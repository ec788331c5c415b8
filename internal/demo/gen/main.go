// Command gen writes the demo organization as a snapshot file.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ecs-audit/audit/internal/demo"
	"github.com/ecs-audit/audit/inventory"
)

func main() {
	out := flag.String("out", "testdata/demo/snapshot.json", "snapshot file to write")
	flag.Parse()
	inv := demo.World()
	if err := inv.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := inventory.Save(*out, inv); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
