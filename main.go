// perch is a terminal cockpit for operating canary releases on AWS.
package main

import (
	"os"

	"github.com/perch-dev/perch/cli"
)

func main() {
	os.Exit(cli.Execute(os.Args[1:], os.Stdout, os.Stderr))
}
