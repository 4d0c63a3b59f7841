// Command outcry is a crowd-sourced outage report aggregator.
//
//	outcry                 serve (configuration from OUTCRY_* variables)
//	outcry detect ...      replay the detector over a CSV series
//	outcry simulate ...    send a burst of reports to a running instance
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/outcry/outcry/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
