package static

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

// The widget is loaded by every page that embeds it: keep it small.
func TestWidgetUnder8KBGzipped(t *testing.T) {
	src, err := FS.ReadFile("assets/widget.js")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(src)
	zw.Close()
	if n := buf.Len(); n > 8<<10 {
		t.Errorf("widget.js is %d bytes gzipped; the budget is 8 KiB", n)
	} else {
		t.Logf("widget.js: %d bytes, %d gzipped", len(src), n)
	}
}

func TestAssetsAreVersioned(t *testing.T) {
	a, err := LoadAssets()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app.css", "app.js", "embed.css", "widget.js"} {
		as, ok := a.Get(name)
		if !ok {
			t.Fatalf("no asset %s", name)
		}
		if got, ok := a.ByPath(as.Path); !ok || got != as || !strings.HasPrefix(as.Path, "/static/") || as.Path == "/static/"+name {
			t.Errorf("%s is served at %q", name, as.Path)
		}
	}
	if _, err := a.URL("missing.js"); err == nil {
		t.Error("an unknown asset has a URL")
	}
}
