package cluster

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the replica binary built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildOnce.bin != "" {
		_ = os.RemoveAll(filepath.Dir(buildOnce.bin))
	}
	os.Exit(code)
}
