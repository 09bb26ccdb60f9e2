package transfer

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lanchat/lanchat/bench/internal/stats"
)

// prepare makes the workspace: checks the free space, scales the big
// file down if it must, and writes the big file and the small files.
func (b *benchmark) prepare() error {
	dir, err := os.MkdirTemp("", "xferload.")
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	b.dir = dir
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		return err
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return fmt.Errorf("free space: %w", err)
	}
	b.free = int64(st.Bavail) * st.Bsize
	smallTotal := int64(b.cfg.files) * fileSize
	b.size = fitSize(b.cfg.size, b.free, smallTotal)
	if b.size < minBigSize {
		return fmt.Errorf("not enough free space in %s for even a %s file (%s available)", dir, stats.Size(minBigSize), stats.Size(b.free))
	}
	if b.size != b.cfg.size {
		b.Note("**scaled down**: the big file is %s instead of %s, because only %s is available in %s, and the source, one received copy, the small files and %s of margin must fit",
			stats.Size(b.size), stats.Size(b.cfg.size), stats.Size(b.free), dir, stats.Size(diskMargin))
	}
	b.src = filepath.Join(dir, "big.bin")
	b.Say("writing %s of random data to %s (and syncing it)", stats.Size(b.size), b.src)
	t0 := time.Now()
	if b.srcHash, err = writeRandomFile(b.src, b.size); err != nil {
		return err
	}
	b.Say("  took %v", time.Since(t0).Round(time.Millisecond))
	if b.cfg.files > 0 {
		b.small = filepath.Join(dir, "small")
		b.Say("writing %d files of %s to %s", b.cfg.files, stats.Size(fileSize), b.small)
		if err := os.Mkdir(b.small, 0o755); err != nil {
			return err
		}
		for i := range b.cfg.files {
			if _, err := writeRandomFile(filepath.Join(b.small, fmt.Sprintf("file-%05d.bin", i)), fileSize); err != nil {
				return fmt.Errorf("small files: %w", err)
			}
		}
	}
	return nil
}

// fitSize returns the big file's size given what is free: the wanted
// size if the source, one received copy, the small files (twice) and
// diskMargin fit, else the largest multiple of 64 MiB that does.
func fitSize(want, free, small int64) int64 {
	room := free - diskMargin - 2*small
	if room >= 2*want {
		return want
	}
	return max(room/2/(64*stats.MiB)*(64*stats.MiB), 0)
}

// writeRandomFile writes size random bytes to the new file path (a fast
// generator seeded from crypto/rand: nothing compresses or dedups it),
// syncs it and returns its SHA-256.
func writeRandomFile(path string, size int64) (string, error) {
	var seed [32]byte
	rand.Read(seed[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(io.MultiWriter(f, h), io.LimitReader(mrand.NewChaCha8(seed), size), make([]byte, min(size, 4*stats.MiB))); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	// The first measured copy should not pay for this file's writeback.
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}

// checkCopy checks that dst has size bytes and, with wantHash, that
// SHA-256; without it, that it matches src in 66 blocks of 64 KiB spread
// over the file, each nudged off any alignment so that a shifted copy
// cannot pass: cheap enough for every run.
func checkCopy(src, dst string, size int64, wantHash string) error {
	b, err := os.Open(dst)
	if err != nil {
		return fmt.Errorf("received file: %w", err)
	}
	defer b.Close()
	if st, err := b.Stat(); err != nil {
		return err
	} else if st.Size() != size {
		return fmt.Errorf("received file %s has %d bytes, not %d", dst, st.Size(), size)
	}
	if wantHash != "" {
		h := sha256.New()
		if _, err := io.CopyBuffer(h, b, make([]byte, 4*stats.MiB)); err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != wantHash {
			return fmt.Errorf("received file %s: SHA-256 %s, want %s", dst, got, wantHash)
		}
		return nil
	}
	a, err := os.Open(src)
	if err != nil {
		return err
	}
	defer a.Close()
	const block, n = 64 * stats.KiB, 64
	ba, bb := make([]byte, block), make([]byte, block)
	for i := int64(0); i <= n+1; i++ {
		off := min(max(i*size/(n+1)+i*4099, 0), max(size-block, 0))
		m := min(block, size-off)
		_, ea := a.ReadAt(ba[:m], off)
		_, eb := b.ReadAt(bb[:m], off)
		if ea != nil || eb != nil || !bytes.Equal(ba[:m], bb[:m]) {
			return fmt.Errorf("received file %s differs from %s in the %d bytes at %d (%v, %v)", dst, src, m, off, ea, eb)
		}
	}
	return nil
}

// countFiles counts the regular files under dir and their bytes.
func countFiles(dir string) (files int, n int64, err error) {
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			info, ierr := d.Info()
			if ierr != nil {
				return ierr
			}
			files, n = files+1, n+info.Size()
		}
		return err
	})
	return files, n, err
}
