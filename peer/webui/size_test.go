package webui

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"strings"
	"testing"
)

// maxShipped is the budget for the app's JavaScript and CSS together,
// each file gzipped as a server would send it (docs: UI.md, "Fast").
const maxShipped = 150 << 10

// TestShippedSize keeps the app small: its JS and CSS, gzipped, stay
// under 150 KiB.
func TestShippedSize(t *testing.T) {
	var raw, packed int
	err := fs.WalkDir(Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".css")) {
			return err
		}
		b, err := fs.ReadFile(Assets(), p)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := w.Write(b); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		raw += len(b)
		packed += buf.Len()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if raw == 0 {
		t.Fatal("no JS or CSS found in the embedded app")
	}
	t.Logf("shipped JS+CSS: %d bytes, %d gzipped (budget %d)", raw, packed, maxShipped)
	if packed >= maxShipped {
		t.Fatalf("the app's JS+CSS is %d bytes gzipped, over the %d-byte budget", packed, maxShipped)
	}
}
