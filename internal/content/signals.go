package content

// MaxReadIDs bounds the messages one read receipt names, as a delivery
// receipt's.
const MaxReadIDs = 256

// Read tells the sender of some messages that the reader has seen them.
// The messages are the recipient's own, in the conversation the read
// receipt travels in (its group, or the direct conversation). It is never
// stored as a message; the receiver records who read what. A user who
// turned read receipts off sends none.
type Read struct {
	IDs []string `json:"ids"`
}

// Kind returns KindRead.
func (Read) Kind() string { return KindRead }

// Validate checks 1 to MaxReadIDs distinct ids.
func (r Read) Validate() error {
	if len(r.IDs) == 0 || len(r.IDs) > MaxReadIDs {
		return invalid(KindRead, "ids", "must be 1 to %d ids", MaxReadIDs)
	}
	seen := make(map[string]bool, len(r.IDs))
	for _, id := range r.IDs {
		if err := checkID(KindRead, "ids", id); err != nil {
			return err
		}
		if seen[id] {
			return invalid(KindRead, "ids", "names %s twice", id)
		}
		seen[id] = true
	}
	return nil
}

// Typing says that its sender is typing in the conversation (Active) or
// has stopped. It travels on the direct path only, is never stored, and
// a sender sends at most one every few seconds; the receiver forgets it
// after a few seconds without another.
type Typing struct {
	Active bool `json:"active"`
}

// Kind returns KindTyping.
func (Typing) Kind() string { return KindTyping }

// Validate accepts every Typing.
func (Typing) Validate() error { return nil }
