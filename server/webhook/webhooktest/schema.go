package webhooktest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ReceiverSchema compiles one of the receivers' schemas in
// server/webhook/testdata/formats (its README names the documentation each
// is written from), asserting formats (uri, date-time) too. It finds them
// from this file, so tests in any package can use it.
func ReceiverSchema(tb testing.TB, file string) *jsonschema.Schema {
	tb.Helper()
	_, here, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("webhooktest: cannot find its own source file")
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "testdata", "formats", file))
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(file, doc); err != nil {
		tb.Fatal(err)
	}
	s, err := c.Compile(file)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
