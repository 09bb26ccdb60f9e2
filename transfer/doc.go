// Package transfer moves files and folders between two peers over the
// streams of one connection (a Conn: in the daemon, a QUIC connection of
// peer/direct): the sender offers, the receiver accepts into a folder
// and says where to resume, and the data flows in hashed chunks on
// streams of its own.
//
// The sender builds an Offer from local paths with NewOffer and calls
// Send. The receiver's daemon hands every transfer stream it accepts to
// a Receiver's Serve; the Receiver asks its Decide function about each
// offer and keeps its state in a Progress
// (the daemon's database), so a transfer broken by a lost connection or
// a restart resumes from its last verified chunk when the sender sends
// the same offer id again. After a crash, the chunks a partial file holds
// past the last saved point are kept too, once the sender has found the
// same hashes in its own file.
//
// Every chunk (ChunkSize bytes) travels with its SHA-256 and is written
// only once it matches; a file moves from its hidden partial file to its
// final name only once it is synced and its whole-file hash (a hash
// over its chunk hashes, see filehash.go) matches too, and
// never over an existing file. Received names go through Sanitize and every write
// stays inside the destination (os.Root), refusing symbolic links.
// Memory stays flat: one chunk buffer per data stream, and for a striped
// file at most aheadWindow chunk hashes. A big file's whole chunks are
// written with direct I/O where the system allows (directio.go), past
// the page cache.
//
// A big file is striped: cut into pieces that every data stream of the
// connection given to Send takes in turn, so that one file is read,
// hashed and written on several cores (stripe.go for the sender,
// lanes.go for the receiver).
//
// The wire protocol, in its one version (Version, checked at the offer),
// is described in docs/protocol.md, "File transfer".
package transfer
