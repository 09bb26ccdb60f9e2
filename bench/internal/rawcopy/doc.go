// Package rawcopy holds what the baseline copy program of the transfer
// benchmark (bench/rawcopy, over quic-go or TLS over TCP) needs: its
// command line, the tiny stream format, the file source and sink, the certificates and the result line
// each end prints. The format is deliberately bare (a length, the bytes,
// a count back), so that a baseline measures the transport and the disk,
// not a protocol: what lanchat adds on top is what the benchmark shows.
//
//	stream  := size (8 bytes, big-endian), size bytes of file data
//	reply   := count (8 bytes, big-endian): what the receiver wrote and synced
package rawcopy
