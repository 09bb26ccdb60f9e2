package transfer

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"

	"github.com/lanchat/lanchat/internal/directio"
)

// A big file's whole chunks are written with direct I/O where the system
// allows it (O_DIRECT on Linux): they go from the chunk buffer to the
// disk without a copy in the page cache, which costs the receiver less
// CPU per byte and leaves the cache to the user's own files rather than
// filling it with gigabytes nobody reads back. The file's last, shorter
// chunk, small files and everything read back go through the ordinary
// descriptor; fsync covers both, as it syncs the file whatever wrote it.
// Alignment is internal/directio's.
//
// directMinSize is the smallest file written with direct I/O: below it
// the page cache costs little and a synchronous write per chunk would
// slow a folder of small files.
const directMinSize = 16 << 20

// directFile is a descriptor for direct writes of one partial file.
type directFile struct {
	f *os.File
	// off is set, by whichever lane meets it, once the file system
	// refused a direct write: the entry's other chunks go through the
	// ordinary descriptor.
	off atomic.Bool
}

// openDirectFor opens a second descriptor of the partial file f (rel in
// the destination) for direct writes, when entry size and chunk size
// qualify and the file system takes it; otherwise it returns nil and the
// entry is written through f alone. The descriptor must be the same file
// as f: a name swapped in between is not written to.
func (t *session) openDirectFor(f *os.File, rel string, size int64) *directFile {
	if size < directMinSize || t.offer.ChunkSize%directio.Align != 0 {
		return nil
	}
	d := openDirect(t.root, rel)
	if d == nil {
		return nil
	}
	a, err1 := f.Stat()
	b, err2 := d.Stat()
	if err1 != nil || err2 != nil || !os.SameFile(a, b) {
		d.Close()
		return nil
	}
	return &directFile{f: d}
}

// writeChunk writes a verified chunk of entry i at off: with direct I/O
// when the entry has a direct descriptor and the chunk is aligned, else
// through f. A file system that refuses a direct write (EINVAL) gets the
// entry's remaining chunks through f.
func (t *session) writeChunk(f *os.File, i int, chunk []byte, off int64) error {
	es := &t.entries[i]
	if d := es.direct; d != nil && !d.off.Load() && directio.Writable(chunk, off) {
		err := t.write(d.f, i, chunk, off)
		if err == nil {
			t.direct.Add(int64(len(chunk)))
		}
		if !errors.Is(err, syscall.EINVAL) {
			return err
		}
		d.off.Store(true)
		t.log.Debug("direct writes refused, writing through the page cache", "entry", i, "err", err)
	}
	return t.write(f, i, chunk, off)
}

// closeDirect closes entry i's direct descriptor, once nothing writes
// with it. The caller holds t.mu.
func (es *entryState) closeDirect() {
	if es.direct != nil {
		es.direct.f.Close()
		es.direct = nil
	}
}
