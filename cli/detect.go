package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/outcry/outcry/server/detector"
)

// runDetect is `outcry detect`: the live detector's code over a CSV series.
func runDetect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	interval := fs.String("interval", "5m", "the width of one row's bucket (1m, 5m, 15m …)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	d, err := detector.ParseInterval(*interval)
	if err != nil {
		fmt.Fprintln(stderr, "outcry detect:", err)
		return 2
	}
	if err := detector.Replay(stdin, stdout, d, detector.DefaultParams()); err != nil {
		fmt.Fprintln(stderr, "outcry detect:", err)
		return 1
	}
	return 0
}
