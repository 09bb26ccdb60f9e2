// Command distpack packs a directory into a release archive that is the
// same byte for byte every time: entries sorted by name, one fixed
// modification time, no owners, fixed modes (0755 for directories and
// executables, 0644 for the rest), no compressor timestamps.
//
//	distpack -mtime 1796669697 -o dist/lanchat-linux-amd64.tar.gz dist/lanchat-linux-amd64
//
// The archive's format follows its name: .tar.gz or .zip. Entries are
// named from the directory's own name down, so it unpacks into one folder.
package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	out := flag.String("o", "", "archive to write (`FILE`.tar.gz or FILE.zip)")
	mtime := flag.Int64("mtime", 0, "modification time of every entry, in Unix `seconds` (the commit's time)")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: distpack -mtime SECONDS -o ARCHIVE DIR")
		os.Exit(2)
	}
	if err := pack(*out, flag.Arg(0), time.Unix(*mtime, 0).UTC()); err != nil {
		fmt.Fprintln(os.Stderr, "distpack:", err)
		os.Exit(1)
	}
}

// entry is one file or directory of the archive.
type entry struct {
	name string // slash-separated, from the directory's name down
	path string
	dir  bool
	exec bool
}

func pack(out, dir string, mtime time.Time) error {
	entries, err := list(dir)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(out, ".tar.gz"):
		err = writeTarGz(f, entries, mtime)
	case strings.HasSuffix(out, ".zip"):
		err = writeZip(f, entries, mtime)
	default:
		err = errors.New("archive name must end in .tar.gz or .zip")
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("%s: %w", out, err)
	}
	return nil
}

// list walks dir in lexical order (fs.WalkDir's order).
func list(dir string) ([]entry, error) {
	base := filepath.Base(filepath.Clean(dir))
	var entries []entry
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := base
		if rel != "." {
			name = base + "/" + filepath.ToSlash(rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !d.IsDir() && !info.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", path)
		}
		entries = append(entries, entry{name: name, path: path, dir: d.IsDir(), exec: info.Mode()&0o111 != 0})
		return nil
	})
	return entries, err
}

func mode(e entry) int64 {
	if e.dir || e.exec {
		return 0o755
	}
	return 0o644
}

func writeTarGz(w io.Writer, entries []entry, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: mode(e), ModTime: mtime, Format: tar.FormatPAX, Uname: "root", Gname: "root"}
		if e.dir {
			hdr.Typeflag, hdr.Name = tar.TypeDir, e.name+"/"
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			continue
		}
		data, err := os.ReadFile(e.path)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(data))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, entries []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		if e.dir {
			hdr.Name, hdr.Method = e.name+"/", zip.Store
		}
		hdr.SetMode(fs.FileMode(mode(e)) | map[bool]fs.FileMode{true: fs.ModeDir}[e.dir])
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if e.dir {
			continue
		}
		data, err := os.ReadFile(e.path)
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}
