package transfer

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/testbed"
)

// diskMargin is the free space left over when the benchmark's files are
// all there: lanchat's receiver keeps 64 MiB free and refuses offers
// that would break into it, logs and databases need some, and a disk
// filled to the brim is not the one being measured.
const diskMargin = 2 * stats.GiB

// minBigSize is the smallest big file worth measuring.
const minBigSize = 64 * stats.MiB

// freeSpace runs df on dir and returns the bytes available there to an
// unprivileged user, with df's own line for the report.
func freeSpace(ctx context.Context, dir string) (int64, string, error) {
	out, err := testbed.Run(ctx, "df", "-Pk", dir)
	if err != nil {
		return 0, "", err
	}
	avail, err := parseDF(out)
	return avail, strings.TrimSpace(out), err
}

// parseDF reads the Available column of `df -Pk` output (1024-byte
// blocks) and returns it in bytes.
func parseDF(out string) (int64, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		return 0, fmt.Errorf("df: no data line in %q", out)
	}
	// POSIX output: Filesystem 1024-blocks Used Available Capacity Mounted-on.
	// The file system name may hold spaces, so count from the right.
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 6 {
		return 0, fmt.Errorf("df: odd line %q", lines[len(lines)-1])
	}
	kb, err := strconv.ParseInt(f[len(f)-3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("df: available %q: %w", f[len(f)-3], err)
	}
	return kb * stats.KiB, nil
}

// fitSize returns the big file's size given what is free: the wanted
// size if the source, one destination copy at a time, the small files
// (twice) and diskMargin fit, else the largest multiple of 64 MiB that
// does. ok is false when not even minBigSize fits.
func fitSize(want, free, small int64) (size int64, ok bool) {
	room := free - diskMargin - 2*small
	if room >= 2*want {
		return want, true
	}
	size = room / 2 / (64 * stats.MiB) * (64 * stats.MiB)
	return size, size >= minBigSize
}

// writeRandomFile writes size random bytes to path (a fast generator
// seeded from crypto/rand: nothing compresses or dedups it), syncs the
// file and returns its SHA-256. Generating and hashing run beside the
// writing, a few blocks ahead.
func writeRandomFile(path string, size int64) (string, error) {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	const block = 4 * stats.MiB
	full, free := make(chan []byte, 3), make(chan []byte, 4)
	for range cap(free) {
		free <- make([]byte, block)
	}
	h := sha256.New()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(full)
		gen := mrand.NewChaCha8(seed)
		for left := size; left > 0; {
			var b []byte
			select {
			case b = <-free:
			case <-stop:
				return
			}
			b = b[:min(int64(block), left)]
			gen.Read(b)
			h.Write(b)
			select {
			case full <- b:
			case <-stop:
				return
			}
			left -= int64(len(b))
		}
	}()
	for b := range full {
		if _, err := f.Write(b); err != nil {
			return "", fmt.Errorf("write %s: %w", path, err)
		}
		free <- b[:cap(b)]
	}
	// The first measured copy should not pay for this file's writeback.
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}

// writeSmallFiles makes dir holding n files of size random bytes each,
// synced.
func writeSmallFiles(dir string, n int, size int64) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return err
	}
	gen := mrand.NewChaCha8(seed)
	buf := make([]byte, size)
	width := len(strconv.Itoa(n - 1))
	for i := range n {
		gen.Read(buf)
		p := filepath.Join(dir, fmt.Sprintf("file-%0*d.bin", width, i))
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// syncDir flushes a directory's files to disk (syncfs where there is
// one would do more than asked; a sync of each file is what a fair start
// needs).
func syncDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := syncFile(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return syncFile(dir)
}

// syncFile fsyncs one file or directory.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	serr := f.Sync()
	cerr := f.Close()
	return errors.Join(serr, cerr)
}

// fileSHA256 hashes a file.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 4*stats.MiB)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkCopy checks that path has size bytes and, if wantHash is not
// empty, that SHA-256.
func checkCopy(path string, size int64, wantHash string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("received file: %w", err)
	}
	if st.Size() != size {
		return fmt.Errorf("received file %s has %d bytes, not %d", path, st.Size(), size)
	}
	if wantHash == "" {
		return nil
	}
	got, err := fileSHA256(path)
	if err != nil {
		return fmt.Errorf("hash received file: %w", err)
	}
	if got != wantHash {
		return fmt.Errorf("received file %s: SHA-256 %s, want %s", path, got, wantHash)
	}
	return nil
}

// spotBlocks and spotSize say how much of a copy spotCheck compares.
const (
	spotBlocks = 64
	spotSize   = 64 * stats.KiB
)

// spotCheck checks that dst has size bytes and matches src in its first
// and last blocks and in spotBlocks blocks spread over the rest: cheap
// enough for every run of a baseline (lanchat's first run of each
// section gets a whole SHA-256 instead, and verifies every chunk
// itself).
func spotCheck(src, dst string, size int64) error {
	st, err := os.Stat(dst)
	if err != nil {
		return fmt.Errorf("received file: %w", err)
	}
	if st.Size() != size {
		return fmt.Errorf("received file %s has %d bytes, not %d", dst, st.Size(), size)
	}
	a, err := os.Open(src)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := os.Open(dst)
	if err != nil {
		return err
	}
	defer b.Close()
	ba, bb := make([]byte, spotSize), make([]byte, spotSize)
	for _, off := range spotOffsets(size, spotBlocks, spotSize) {
		n := min(spotSize, size-off)
		if _, err := a.ReadAt(ba[:n], off); err != nil {
			return fmt.Errorf("read %s at %d: %w", src, off, err)
		}
		if _, err := b.ReadAt(bb[:n], off); err != nil {
			return fmt.Errorf("read %s at %d: %w", dst, off, err)
		}
		if !bytes.Equal(ba[:n], bb[:n]) {
			return fmt.Errorf("received file %s differs from %s in the %d bytes at %d", dst, src, n, off)
		}
	}
	return nil
}

// spotOffsets returns where spotCheck compares: the first and the last
// block and n blocks at evenly spread offsets between, each nudged off
// any alignment so that a shifted copy cannot pass.
func spotOffsets(size int64, n int, block int64) []int64 {
	if size <= 0 {
		return nil
	}
	offs := []int64{0}
	if size > block {
		offs = append(offs, size-block)
	}
	step := size / int64(n+1)
	for i := 1; i <= n && step > 0; i++ {
		off := int64(i)*step + int64(i)*4099%max(step, 1)
		if off < size {
			offs = append(offs, min(off, max(size-block, 0)))
		}
	}
	return offs
}

// countFiles counts the regular files under dir and their bytes.
func countFiles(dir string) (files int, bytes int64, err error) {
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			files++
			bytes += info.Size()
		}
		return nil
	})
	return files, bytes, err
}
