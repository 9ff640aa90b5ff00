// Command kubectl is the upstream kubectl built from its Go module, so tests and the demo do not
// depend on whatever kubectl (if any) the machine has.
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	if err := cli.RunNoErrOutput(cmd.NewDefaultKubectlCommand()); err != nil {
		// Prints the error the way kubectl does and exits non-zero.
		util.CheckErr(err)
	}
}
