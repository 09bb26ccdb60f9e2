package direct

import (
	"log/slog"
	"net"
)

// socketBufferSize is the UDP buffer size quic-go asks the kernel for
// (7 MiB; its documentation rounds it to 7.5 MB). quic-go sets both
// buffers itself when a quic.Transport starts, forcing the size past the
// system limit where it may (SO_RCVBUFFORCE on Linux, as root), and prints
// one warning per process through the standard log package when the
// kernel caps it; QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING=true silences
// that. This package only reads the result back and reports it through
// its own logger.
const socketBufferSize = 7 << 20

// reportSocketBuffers logs the UDP socket's buffer sizes, with a warning
// and the way to raise the limit when they are below socketBufferSize.
// Small buffers drop packets under load and slow big transfers down.
func reportSocketBuffers(udp *net.UDPConn, log *slog.Logger) {
	rcv, snd, err := socketBuffers(udp)
	if err != nil {
		log.Debug("cannot read UDP socket buffer sizes", "err", err)
		return
	}
	if rcv >= socketBufferSize && snd >= socketBufferSize {
		log.Debug("UDP socket buffers", "receive_kib", rcv/1024, "send_kib", snd/1024)
		return
	}
	log.Warn("UDP socket buffers are smaller than recommended; transfers may be slow",
		"receive_kib", rcv/1024, "send_kib", snd/1024, "want_kib", socketBufferSize/1024,
		"hint", bufferHint())
}

// WantSocketBuffer is the UDP buffer size, in bytes as the kernel reports
// it, below which big transfers slow down.
const WantSocketBuffer = socketBufferSize

// SocketBuffers returns the receive and send buffer sizes of the
// transport's UDP socket, as the kernel reports them.
func (t *Transport) SocketBuffers() (rcv, snd int, err error) {
	return socketBuffers(t.udp)
}

// UDPSocketBuffers returns the receive and send buffer sizes of any UDP
// socket as the kernel reports them (Linux counts twice what was asked
// for, bookkeeping included), for a program that runs its own quic-go
// transport beside this package's, such as the benchmark's baseline.
func UDPSocketBuffers(udp *net.UDPConn) (rcv, snd int, err error) {
	return socketBuffers(udp)
}

// BufferHint returns the command that raises the kernel's limit on UDP
// buffers, or "" where it is not known.
func BufferHint() string { return bufferHint() }
