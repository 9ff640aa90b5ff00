// Command kube-proxy is the upstream service proxy built from its Go module, for the opt-in test
// node: it routes Service ClusterIPs (the `kubernetes` Service a pod's in-cluster config uses, and
// the audit webhook's Service the API server posts to) to their endpoints.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-proxy/app"
)

func main() {
	os.Exit(cli.Run(app.NewProxyCommand()))
}
