package webui

import (
	"embed"
	"io/fs"
)

// static holds the app: HTML, JavaScript, CSS and the vendored libraries,
// all built into the binary so the app never loads anything from another
// host.
//
//go:embed static
var static embed.FS

// Assets returns the app's files, rooted at the directory static/.
func Assets() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}
